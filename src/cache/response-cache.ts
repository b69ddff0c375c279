/**
 * The response cache: an LRU in memory (bounded in bytes) over a checksummed on-disk store (bounded by a
 * disk budget), behind a circuit breaker. No request waits on the disk longer than `ioTimeoutMs`: lookups
 * give up past it (a breaker failure), and answers are persisted in the background after the client has
 * its answer (a pending write is served from memory meanwhile). The start-up scan runs in the background;
 * a failed open is retried later. Concurrent identical requests share one generation (single flight).
 * Generation counters make clears final: nothing read before a memory clear refills memory after it, and
 * nothing read or written before a full clear comes back after it.
 */
import { basename, dirname } from "node:path";
import { nodeCacheFs, type CacheFs } from "./cache-fs.js";
import { CacheIoError } from "./cache-io-error.js";
import { DiskStore } from "./disk-store.js";
import { LruCache } from "./lru.js";
import type { CachedResponse, CorruptionReason } from "./record-codec.js";
import { removeStaleModelDirs } from "./stale-model-dirs.js";
import { createTimedGuard, REFUSED, THREW, TIMED_OUT } from "./timed-guard.js";
import type { CircuitBreaker } from "../resilience/circuit-breaker.js";

export interface ResponseCacheEvents {
  hit?(): void;
  miss?(): void;
  corruption?(reason: CorruptionReason): void;
  /** A failure of the disk as a whole (EIO, ENOSPC, ETIMEDOUT, an open that failed...). */
  ioError?(error: CacheIoError): void;
  /** A record path that cannot be used (a directory, a FIFO, an unreadable file): once per key. */
  unusable?(error: CacheIoError): void;
  stored?(): void;
  /** A key whose record was found corrupt has a valid record again (the answer was generated and stored). */
  recovered?(): void;
  /** Record directories of other models were removed at open (only called when there were some). */
  staleModelsRemoved?(removed: { dirs: number; files: number; bytes: number }): void;
  /** The disk store opened after earlier attempts failed. */
  diskRecovered?(): void;
}

export interface ResponseCacheOptions {
  dir: string;
  fingerprint: string;
  /** Memory budget of the LRU, in (estimated) bytes. */
  maxBytes: number;
  quarantineMaxBytes: number;
  /** Disk budget of the record files (default 256 MiB). */
  diskMaxBytes?: number | undefined;
  /** Longest a disk read or write may take before the cache goes on without it (default 1000 ms). */
  ioTimeoutMs?: number | undefined;
  /** Background writes in flight at most; past it new answers stay in memory only (default 64). */
  maxPendingWrites?: number | undefined;
  /** First delay before a failed open is tried again; it doubles up to reopenMaxMs (defaults 1 s, 60 s). */
  reopenBaseMs?: number | undefined;
  reopenMaxMs?: number | undefined;
  /** Remove the sibling record directories of other models at open (default false). */
  pruneOtherModels?: boolean | undefined;
  fs?: CacheFs | undefined;
  breaker?: CircuitBreaker | null | undefined;
  events?: ResponseCacheEvents | undefined;
  /** Wall clock for record timestamps. */
  now?: (() => number) | undefined;
}

export interface ResponseCacheStats {
  /** Distinct entries the cache can answer from (memory and disk together). */
  entries: number;
  /** memoryBytes + diskBytes. */
  bytes: number;
  memoryEntries: number;
  memoryBytes: number;
  diskEntries: number;
  diskBytes: number;
  diskMaxBytes: number;
  /** Records deleted to stay under the disk budget. */
  diskEvictions: number;
  diskAvailable: boolean;
  /** Why the disk store is not available (an error code), or null. */
  diskError: string | null;
  scanComplete: boolean;
  quarantineFiles: number;
  quarantineBytes: number;
  hits: number;
  misses: number;
  corruptions: number;
  recoveries: number;
  unusableRecords: number;
  lookupTimeouts: number;
  writeTimeouts: number;
  pendingWrites: number;
  droppedWrites: number;
  /** Record directories of other models removed at open. */
  staleModelDirsRemoved: number;
}

export interface SingleFlightResult {
  value: CachedResponse;
  /** true for callers that waited on another caller's generation. */
  shared: boolean;
}

export interface ResponseCache {
  /** The record directory. */
  readonly dir: string;
  /** Opens the store (retried later on failure) and starts the background scan; never throws. */
  open(): Promise<void>;
  /** Resolves when the current open attempt and its background scan are over (tests, chaos runs). */
  ready(): Promise<void>;
  lookup(key: string): Promise<CachedResponse | null>;
  /** Keeps the answer in memory at once and writes it to disk in the background. */
  store(key: string, value: CachedResponse): void;
  /**
   * Resolves once every background write has landed, failed or been given up on at its time bound (and is
   * counted: writeTimeouts, the breaker). A write stuck on a hung disk is not waited for past its bound.
   */
  flush(): Promise<void>;
  singleFlight(key: string, generate: () => Promise<CachedResponse>): Promise<SingleFlightResult>;
  /** Frees memory only (memory pressure); the disk keeps its records. */
  clearMemory(): void;
  clear(): Promise<void>;
  /** The breaker is open or half-open: the server serves without (or with a trial of) the cache. */
  degraded(): boolean;
  stats(): ResponseCacheStats;
  /** Stops open retries and lets background writes finish (bounded). */
  close(): Promise<void>;
}

const sizeOf = (v: CachedResponse) => 2 * v.text.length + 96;
/** How many corrupt keys are remembered to count their recovery. */
const MAX_CORRUPT_KEYS = 10_000;

export function createResponseCache(opts: ResponseCacheOptions): ResponseCache {
  const events = opts.events ?? {};
  const breaker = opts.breaker ?? null;
  const ioTimeoutMs = opts.ioTimeoutMs ?? 1000;
  const maxPending = opts.maxPendingWrites ?? 64;
  const fs = opts.fs ?? nodeCacheFs;
  const guard = createTimedGuard(breaker, ioTimeoutMs);
  const memory = new LruCache<string, CachedResponse>({ maxBytes: opts.maxBytes, sizeOf });
  const n = { staleDirs: 0, hits: 0, misses: 0, corruptions: 0, recoveries: 0, unusable: 0, lookupTimeouts: 0, writeTimeouts: 0, droppedWrites: 0 };
  const corruptKeys = new Set<string>();
  const store = new DiskStore({
    dir: opts.dir,
    fingerprint: opts.fingerprint,
    fs,
    quarantineMaxBytes: opts.quarantineMaxBytes,
    maxTotalBytes: opts.diskMaxBytes,
    onCorruption: (reason, fileName) => {
      n.corruptions++;
      corruptKeys.add(fileName.slice(0, 64));
      if (corruptKeys.size > MAX_CORRUPT_KEYS) corruptKeys.delete(corruptKeys.values().next().value as string);
      events.corruption?.(reason);
    },
    onIoError: (err) => events.ioError?.(err),
    onUnusable: (err) => {
      n.unusable++;
      events.unusable?.(err);
    },
  });
  const inFlight = new Map<string, Promise<CachedResponse>>();
  /** Answers being written, served to lookups meanwhile. */
  const pending = new Map<string, CachedResponse>();
  /** Background writes; each promise settles when its write really settles. */
  const writes = new Set<Promise<void>>();
  /** Background writes until their outcome is known (landed, failed, or given up on and counted): for flush(). */
  const undecided = new Set<Promise<void>>();
  const track = (set: Set<Promise<void>>): (() => void) => {
    let done: () => void = () => undefined;
    const p = new Promise<void>((resolve) => (done = resolve));
    set.add(p);
    void p.then(() => set.delete(p));
    return done;
  };
  /** Bumped by clearMemory() and clear(): reads started before must not refill memory. */
  let memoryGeneration = 0;
  /** Bumped by clear() only: reads and writes started before must not bring records back. */
  let generation = 0;
  let clearsRunning = 0;
  let attempt: Promise<void> = Promise.resolve();
  let scan: Promise<void> = Promise.resolve();
  let scanComplete = false;
  let diskError: string | null = null;
  let openFailures = 0;
  let opening = false;
  let reopenTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const bypassed = (): boolean => breaker !== null && breaker.state === "open" && !breaker.canRequest();
  const hit = (v: CachedResponse): CachedResponse => {
    n.hits++;
    events.hit?.();
    return v;
  };
  const miss = (): null => {
    n.misses++;
    events.miss?.();
    return null;
  };
  const timedOut = (op: "get" | "put"): void => {
    if (op === "get") n.lookupTimeouts++;
    else n.writeTimeouts++;
    events.ioError?.(new CacheIoError(op, "ETIMEDOUT"));
  };
  /** Waits until `set` is empty (promises added meanwhile included), or `ms` passed. */
  const drain = async (ms: number, set: Set<Promise<void>> = writes): Promise<void> => {
    const deadline = performance.now() + ms;
    while (set.size > 0 && performance.now() < deadline) await within([...set], deadline - performance.now());
  };
  /** Waits until `work` has settled, or `ms` passed. */
  const within = async (work: Promise<unknown>[], ms: number): Promise<void> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.allSettled(work), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  };

  async function openOnce(): Promise<void> {
    // A stalled open is reported (health) but waited for: the store cannot be half open.
    const slow = setTimeout(() => void (store.available || (diskError ??= "ETIMEDOUT")), ioTimeoutMs);
    slow.unref?.();
    opening = true;
    const opened = await store.open();
    opening = false;
    clearTimeout(slow);
    if (closed) return;
    if (!opened.ok) {
      diskError = opened.error.code;
      openFailures++;
      const base = opts.reopenBaseMs ?? 1000;
      const delay = Math.min(base * 2 ** Math.min(openFailures - 1, 20), opts.reopenMaxMs ?? 60_000);
      reopenTimer = setTimeout(() => {
        attempt = openOnce();
      }, delay);
      reopenTimer.unref?.();
      return;
    }
    diskError = null;
    if (openFailures > 0) events.diskRecovered?.();
    const scanGeneration = memoryGeneration;
    scan = store
      .scan((record) => {
        if (memoryGeneration === scanGeneration) memory.set(record.key, record.value);
      })
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        scanComplete = true;
      });
  }

  function persist(key: string, value: CachedResponse): void {
    if (writes.size >= maxPending) {
      n.droppedWrites++;
      return;
    }
    const at = generation;
    pending.set(key, value);
    const settle = track(writes);
    const decide = track(undecided);
    const record = { key, fingerprint: opts.fingerprint, createdAt: (opts.now ?? Date.now)(), value };
    const put = () => {
      const write = store.put(record);
      void write
        .then((r) => {
          // It landed after a clear: not wanted any more.
          if (r.ok && generation !== at) void store.delete(key);
        })
        .finally(() => {
          settle();
          decide();
        });
      return write;
    };
    void guard
      .run(put, (r) => (r.ok ? "success" : r.unusable ? "neutral" : "failure"))
      .then((r) => {
        if (pending.get(key) === value) pending.delete(key);
        if (r === REFUSED) settle();
        if (r === TIMED_OUT) timedOut("put");
        if (r === REFUSED || r === TIMED_OUT || r === THREW || !r.ok || generation !== at) return;
        events.stored?.();
        if (corruptKeys.delete(key)) {
          n.recoveries++;
          events.recovered?.();
        }
      })
      .finally(decide);
  }

  return {
    dir: opts.dir,

    open() {
      opening = true;
      attempt = (async () => {
        if (opts.pruneOtherModels) {
          const pruned = await removeStaleModelDirs({ fs, root: dirname(opts.dir), keep: basename(opts.dir) });
          n.staleDirs += pruned.dirs;
          if (pruned.dirs > 0) events.staleModelsRemoved?.({ dirs: pruned.dirs, files: pruned.files, bytes: pruned.bytes });
          if (!pruned.ok) events.ioError?.(pruned.error);
        }
        await openOnce();
      })();
      return attempt;
    },

    ready: () => attempt.then(() => scan),

    async lookup(key) {
      if (bypassed()) return miss();
      const fromMemory = memory.get(key);
      if (fromMemory) {
        store.touch(key);
        return hit(fromMemory);
      }
      const beingWritten = pending.get(key);
      if (beingWritten) return hit(beingWritten);
      if (!store.available || clearsRunning > 0) return miss();
      const at = generation;
      const memoryAt = memoryGeneration;
      const got = await guard.run(
        () => store.get(key),
        (r) => (r.hit ? "success" : r.reason === "io-error" ? "failure" : r.reason === "unusable" ? "neutral" : "success"),
      );
      if (got === TIMED_OUT) timedOut("get");
      if (got === REFUSED || got === TIMED_OUT || got === THREW || !got.hit || generation !== at) return miss();
      if (memoryGeneration === memoryAt) memory.set(key, got.record.value);
      return hit(got.record.value);
    },

    store(key, value) {
      if (bypassed()) return;
      memory.set(key, value);
      if (store.available) persist(key, value);
      else if (opening) {
        // Answered while the store opens: written once it is open (unless a clear came in between). Counted
        // among the writes from now on, so flush() and close() wait for it too.
        const at = generation;
        const started = track(writes);
        const decided = track(undecided);
        void attempt
          .then(() => {
            if (store.available && generation === at) persist(key, value);
          })
          .finally(() => {
            started();
            decided();
          });
      }
    },

    // Each write is given up on at its own bound, one put at a time: every pending one may take a bound.
    flush: () => drain(ioTimeoutMs * (maxPending + 1), undecided),

    async singleFlight(key, generate) {
      const existing = inFlight.get(key);
      if (existing) return { value: await existing, shared: true };
      // The caller's lookup may have read the disk while an identical generation finished and stored its answer:
      // that answer is in memory now (or being written), and generating again would only repeat it.
      const done = bypassed() ? undefined : (memory.get(key) ?? pending.get(key));
      if (done) return { value: done, shared: true };
      const p = generate();
      inFlight.set(key, p);
      try {
        return { value: await p, shared: false };
      } finally {
        inFlight.delete(key);
      }
    },

    clearMemory() {
      memoryGeneration++;
      memory.clear();
    },

    async clear() {
      generation++;
      memoryGeneration++;
      memory.clear();
      pending.clear();
      clearsRunning++;
      const inProgress = [...writes];
      const run = (async () => {
        // Writes already under way land first, then go with everything else.
        await within(inProgress, ioTimeoutMs);
        if (store.available) await store.clear();
      })().finally(() => clearsRunning--);
      // The disk may be stalled: the caller gets its answer within the bound, lookups skip the disk until done.
      await within([run], 2 * ioTimeoutMs);
    },

    degraded() {
      return breaker !== null && breaker.state !== "closed";
    },

    stats() {
      const disk = store.stats;
      let memoryOnly = 0;
      for (const key of memory.keys()) if (!store.has(key)) memoryOnly++;
      return {
        entries: disk.entries + memoryOnly,
        bytes: memory.bytes + disk.bytes,
        memoryEntries: memory.size,
        memoryBytes: memory.bytes,
        diskEntries: disk.entries,
        diskBytes: disk.bytes,
        diskMaxBytes: disk.maxBytes,
        diskEvictions: disk.evictions,
        diskAvailable: store.available,
        diskError: store.available ? null : diskError,
        scanComplete,
        quarantineFiles: disk.quarantineFiles,
        quarantineBytes: disk.quarantineBytes,
        hits: n.hits,
        misses: n.misses,
        corruptions: n.corruptions,
        recoveries: n.recoveries,
        unusableRecords: n.unusable,
        lookupTimeouts: n.lookupTimeouts,
        writeTimeouts: n.writeTimeouts,
        pendingWrites: writes.size,
        droppedWrites: n.droppedWrites,
        staleModelDirsRemoved: n.staleDirs,
      };
    },

    async close() {
      closed = true;
      clearTimeout(reopenTimer);
      await drain(ioTimeoutMs);
    },
  };
}
