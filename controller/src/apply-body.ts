// Target apply bodies as bytes. Every target of a rollout carries the same bundle (PEM, JKS,
// PKCS#12: hundreds of KiB); JSON.stringify of each body would copy all of it once per namespace,
// and 32 writes in flight times 1,000 namespaces of that garbage is what grew the controller's heap
// and RSS. Here the `data` and `binaryData` maps are serialised once per distinct content and shared
// as one Buffer by every body; only the small per-target part (metadata) is serialised per target.
// The bytes are exactly those of JSON.stringify(body).
import { RawBody } from '@trust-manager/shared/kube/client.ts';

/** Fields whose values are the shared bundle data. */
const SHARED_FIELDS = new Set(['data', 'binaryData']);

interface Fragment {
  keys: string[];
  values: string[];
  bytes: Buffer;
}

export class ApplyBodySerializer {
  readonly #fragments: Fragment[] = [];
  readonly #maxFragments: number;

  /** Keep at most `maxFragments` shared serialisations (one reconcile needs one per kind and field). */
  constructor(maxFragments = 8) {
    this.#maxFragments = maxFragments;
  }

  /** How many shared serialisations are held (for tests). */
  get size(): number {
    return this.#fragments.length;
  }

  serialize(body: object): RawBody {
    const chunks: Uint8Array[] = [];
    let text = '{';
    let first = true;
    for (const [key, value] of Object.entries(body)) {
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue; // as JSON.stringify
      text += `${first ? '' : ','}${JSON.stringify(key)}:`;
      first = false;
      if (SHARED_FIELDS.has(key) && isStringMap(value)) {
        chunks.push(Buffer.from(text, 'utf8'), this.#fragment(value));
        text = '';
      } else {
        text += JSON.stringify(value);
      }
    }
    chunks.push(Buffer.from(`${text}}`, 'utf8'));
    return new RawBody(chunks);
  }

  #fragment(map: Record<string, string>): Buffer {
    const keys = Object.keys(map);
    const values = keys.map((key) => map[key] as string);
    // Same strings (usually the very same objects, so === is a pointer compare).
    const found = this.#fragments.find((f) => f.keys.length === keys.length && f.keys.every((k, i) => k === keys[i]) && f.values.every((v, i) => v === values[i]));
    if (found !== undefined) return found.bytes;
    const fragment = { keys, values, bytes: Buffer.from(JSON.stringify(map), 'utf8') };
    this.#fragments.push(fragment);
    if (this.#fragments.length > this.#maxFragments) this.#fragments.shift();
    return fragment.bytes;
  }
}

function isStringMap(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every((v) => typeof v === 'string');
}
