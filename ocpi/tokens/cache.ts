/**
 * A bounded map whose entries expire: at most `entriesMax` (least recently used go first), each
 * valid for `ttlMs`. Map keeps insertion order, so re-inserting on read makes it an LRU.
 */
export class TtlLru<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly atMs: number }>();

  constructor(
    private readonly entriesMax: number,
    private readonly ttlMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!(entriesMax >= 1)) throw new Error(`TtlLru: entriesMax must be at least 1, not ${entriesMax}`);
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.nowMs() - entry.atMs >= this.ttlMs) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, atMs: this.nowMs() });
    while (this.entries.size > this.entriesMax) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
