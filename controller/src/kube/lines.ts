// Splits a byte stream into newline-terminated lines (the watch protocol sends one JSON event per
// line). Works on bytes so a multi-byte character split across chunks is never corrupted.

export class LineSplitter {
  #pending: Buffer[] = [];

  /** Feeds one chunk; returns the lines it completed, without their `\n`. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.#pending.length > 0) {
        this.#pending.push(piece);
        lines.push(Buffer.concat(this.#pending).toString('utf8'));
        this.#pending = [];
      } else {
        lines.push(piece.toString('utf8'));
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.#pending.push(chunk.subarray(start));
    return lines;
  }

  /** The unterminated rest, if any (a stream may end without a final newline). */
  flush(): string | undefined {
    if (this.#pending.length === 0) return undefined;
    const rest = Buffer.concat(this.#pending).toString('utf8');
    this.#pending = [];
    return rest;
  }
}
