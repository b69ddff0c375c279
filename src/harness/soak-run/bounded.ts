/**
 * Bounded containers for the soak state, so the harness's memory does not grow with the run:
 * - ThinList: keeps every item until `cap`, then halves what it holds and from then on keeps
 *   every 2nd, 4th, ... item (deterministic: the same input gives the same list, live or rebuilt).
 * - BlockLog: columnar Float64Arrays allocated up front for the planned number of rows.
 */

export class ThinList<T> {
  #items: T[] = [];
  #stride = 1;
  #seen = 0;

  constructor(readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 2) throw new RangeError(`cap must be an integer >= 2, got ${cap}`);
  }

  push(item: T): void {
    if (this.#seen++ % this.#stride !== 0) return;
    this.#items.push(item);
    if (this.#items.length >= this.cap) {
      this.#items = this.#items.filter((_, i) => i % 2 === 0);
      this.#stride *= 2;
    }
  }

  get items(): readonly T[] {
    return this.#items;
  }

  /** Items offered, kept or not. */
  get seen(): number {
    return this.#seen;
  }
}

export interface BlockRow {
  startMs: number;
  endMs: number;
  p50: number | null;
  p95: number | null;
  count: number;
  lifetime: number;
  /** The most of the machine's CPU other processes used in any of its journal windows (%), null when unknown. */
  foreignPct: number | null;
}

const COLUMNS = 7;

export class BlockLog {
  #data: Float64Array;
  #rows = 0;

  constructor(plannedRows: number) {
    this.#data = new Float64Array(Math.max(16, Math.ceil(plannedRows)) * COLUMNS);
  }

  push(r: BlockRow): void {
    if ((this.#rows + 1) * COLUMNS > this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data.set([r.startMs, r.endMs, r.p50 ?? Number.NaN, r.p95 ?? Number.NaN, r.count, r.lifetime, r.foreignPct ?? Number.NaN], this.#rows * COLUMNS);
    this.#rows++;
  }

  get length(): number {
    return this.#rows;
  }

  /** Numbers allocated (capacity, not rows used). */
  get capacity(): number {
    return this.#data.length;
  }

  row(i: number): BlockRow {
    const d = this.#data.subarray(i * COLUMNS, (i + 1) * COLUMNS);
    const nn = (v: number) => (Number.isNaN(v) ? null : v);
    return { startMs: d[0]!, endMs: d[1]!, p50: nn(d[2]!), p95: nn(d[3]!), count: d[4]!, lifetime: d[5]!, foreignPct: nn(d[6]!) };
  }
}
