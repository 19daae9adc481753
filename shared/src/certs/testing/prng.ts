// Seeded PRNG (mulberry32) for reproducible property tests: a failure names its seed.

export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytesFrom(next: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let k = 0; k < length; k++) bytes[k] = Math.floor(next() * 256);
  return bytes;
}
