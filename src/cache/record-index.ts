/**
 * What the disk store knows is on disk: every valid record's size, in least-recently-used order, with the
 * running total the disk budget is checked against. Each entry object is replaced (never mutated) when its
 * record is written or used again, so an eviction can tell whether the entry it chose is still the same.
 */
export interface IndexEntry {
  readonly size: number;
  /** The record's createdAt, to order records found by a scan (oldest first). */
  readonly createdAt: number;
  /** Use counter at the last write or use; 0 for records only seen by a scan. */
  readonly seq: number;
}

export class RecordIndex {
  /** Map iteration order is the recency order: first = least recently used. */
  private readonly map = new Map<string, IndexEntry>();
  private total = 0;
  private useSeq = 0;

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.total;
  }

  /** The use counter now; entries used later have a higher seq. */
  get seq(): number {
    return this.useSeq;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  get(key: string): IndexEntry | undefined {
    return this.map.get(key);
  }

  /** Records `key` (written or read now) as the most recently used. */
  use(key: string, size: number, createdAt: number): IndexEntry {
    return this.put(key, { size, createdAt, seq: ++this.useSeq });
  }

  /** Marks a known record as used now (a hit served from memory); unknown keys are ignored. */
  touch(key: string): void {
    const entry = this.map.get(key);
    if (entry !== undefined) this.put(key, { ...entry, seq: ++this.useSeq });
  }

  /** A record found by a scan: added as not used yet, unless a write or read already recorded it. */
  found(key: string, size: number, createdAt: number): void {
    if (!this.map.has(key)) this.put(key, { size, createdAt, seq: 0 });
  }

  delete(key: string): boolean {
    const entry = this.map.get(key);
    if (entry === undefined) return false;
    this.map.delete(key);
    this.total -= entry.size;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }

  /** The least recently used entry other than `except`. */
  oldest(except?: string): [string, IndexEntry] | undefined {
    for (const item of this.map) if (item[0] !== except) return item;
    return undefined;
  }

  /** Puts the entries not used since `since` first, oldest createdAt first; entries used since keep their order after them. */
  orderUnusedByAge(since: number): void {
    const all = [...this.map];
    const unused = all.filter(([, e]) => e.seq <= since).sort((a, b) => a[1].createdAt - b[1].createdAt);
    const used = all.filter(([, e]) => e.seq > since);
    this.map.clear();
    for (const [k, e] of [...unused, ...used]) this.map.set(k, e);
  }

  private put(key: string, entry: IndexEntry): IndexEntry {
    this.delete(key);
    this.map.set(key, entry);
    this.total += entry.size;
    return entry;
  }
}
