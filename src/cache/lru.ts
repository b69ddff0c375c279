/**
 * An in-memory least-recently-used cache bounded in bytes. The size of each entry comes from an injected
 * function; adding past the bound evicts the least recently used entries until the new one fits.
 */
export interface LruOptions<K, V> {
  /** Total size budget (the unit is whatever sizeOf returns, normally bytes). */
  maxBytes: number;
  /** Size of one entry: a finite number >= 0. */
  sizeOf: (value: V, key: K) => number;
  /** Called for entries evicted to make room (not for delete, replace or clear). */
  onEvict?: ((key: K, value: V) => void) | undefined;
}

export interface LruStats {
  hits: number;
  misses: number;
  /** Entries removed to make room. */
  evictions: number;
  /** Values refused because they alone exceed maxBytes. */
  rejected: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

interface Slot<V> {
  value: V;
  size: number;
}

export class LruCache<K, V> {
  /** Map iteration order is insertion order: first = least recently used. */
  private readonly map = new Map<K, Slot<V>>();
  private total = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private rejected = 0;

  constructor(private readonly opts: LruOptions<K, V>) {
    if (!Number.isFinite(opts.maxBytes) || opts.maxBytes < 0) throw new RangeError("maxBytes must be a finite number >= 0");
  }

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.total;
  }

  get stats(): LruStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      rejected: this.rejected,
      entries: this.map.size,
      bytes: this.total,
      maxBytes: this.opts.maxBytes,
    };
  }

  /** The value, made most recently used; counts a hit or a miss. */
  get(key: K): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, slot);
    return slot.value;
  }

  /** The value without touching recency or stats. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /**
   * Stores the value as most recently used, evicting as needed. Returns false (and drops any old value of
   * the key) when the value alone exceeds maxBytes. Throws RangeError when sizeOf returns a bad size.
   */
  set(key: K, value: V): boolean {
    const size = this.opts.sizeOf(value, key);
    if (!Number.isFinite(size) || size < 0) throw new RangeError("sizeOf must return a finite number >= 0");
    this.delete(key);
    if (size > this.opts.maxBytes) {
      this.rejected++;
      return false;
    }
    const evicted: Array<[K, V]> = [];
    while (this.total + size > this.opts.maxBytes) {
      const oldest = this.map.entries().next();
      if (oldest.done === true) break;
      const [oldKey, slot] = oldest.value;
      this.map.delete(oldKey);
      this.total -= slot.size;
      this.evictions++;
      evicted.push([oldKey, slot.value]);
    }
    this.map.set(key, { value, size });
    this.total += size;
    // Listeners run once the cache is consistent, so a throwing listener cannot corrupt it.
    for (const [k, v] of evicted) this.opts.onEvict?.(k, v);
    return true;
  }

  delete(key: K): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    this.map.delete(key);
    this.total -= slot.size;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    return [...this.map.keys()];
  }
}
