/**
 * The response cache: an LRU in memory (bounded in bytes) over a checksummed on-disk store, behind a
 * circuit breaker. The start-up scan runs in the background: no request waits on it. Concurrent
 * identical requests share one generation (single flight).
 */
import type { CacheFs } from "./cache-fs.js";
import type { CacheIoError } from "./cache-io-error.js";
import { DiskStore } from "./disk-store.js";
import { LruCache } from "./lru.js";
import type { CachedResponse, CorruptionReason } from "./record-codec.js";
import type { CircuitBreaker } from "../resilience/circuit-breaker.js";

export interface ResponseCacheEvents {
  hit?(): void;
  miss?(): void;
  corruption?(reason: CorruptionReason): void;
  ioError?(error: CacheIoError): void;
  stored?(): void;
}

export interface ResponseCacheOptions {
  dir: string;
  fingerprint: string;
  maxBytes: number;
  quarantineMaxBytes: number;
  fs?: CacheFs;
  breaker?: CircuitBreaker | null;
  events?: ResponseCacheEvents;
  /** Wall clock for record timestamps. */
  now?: () => number;
}

export interface ResponseCacheStats {
  entries: number;
  bytes: number;
  memoryEntries: number;
  memoryBytes: number;
  diskAvailable: boolean;
  scanComplete: boolean;
  quarantineFiles: number;
}

export interface SingleFlightResult {
  value: CachedResponse;
  /** true for callers that waited on another caller's generation. */
  shared: boolean;
}

export interface ResponseCache {
  /** Opens the store and starts the background scan; never throws. */
  open(): Promise<void>;
  /** Resolves when the background scan is over (tests, chaos runs). */
  ready(): Promise<void>;
  lookup(key: string): Promise<CachedResponse | null>;
  store(key: string, value: CachedResponse): Promise<void>;
  singleFlight(key: string, generate: () => Promise<CachedResponse>): Promise<SingleFlightResult>;
  /** Frees memory only (memory pressure); the disk keeps its records. */
  clearMemory(): void;
  clear(): Promise<void>;
  /** The breaker is open or half-open: the server serves without (or with a trial of) the cache. */
  degraded(): boolean;
  stats(): ResponseCacheStats;
}

const sizeOf = (v: CachedResponse) => 2 * v.text.length + 96;

export function createResponseCache(opts: ResponseCacheOptions): ResponseCache {
  const events = opts.events ?? {};
  const breaker = opts.breaker ?? null;
  const memory = new LruCache<string, CachedResponse>({ maxBytes: opts.maxBytes, sizeOf });
  const store = new DiskStore({
    dir: opts.dir,
    fingerprint: opts.fingerprint,
    fs: opts.fs,
    quarantineMaxBytes: opts.quarantineMaxBytes,
    onCorruption: (reason) => events.corruption?.(reason),
    onIoError: (err) => events.ioError?.(err),
  });
  const inFlight = new Map<string, Promise<CachedResponse>>();
  let scan: Promise<void> = Promise.resolve();
  let scanComplete = false;

  /** Runs a disk operation under the breaker; false when the breaker refuses. */
  async function guarded<T>(op: () => Promise<T>, failed: (r: T) => boolean): Promise<T | undefined> {
    if (breaker && !breaker.canRequest()) return undefined;
    let result: T;
    try {
      result = await op();
    } catch {
      breaker?.recordFailure();
      return undefined;
    }
    if (failed(result)) breaker?.recordFailure();
    else breaker?.recordSuccess();
    return result;
  }

  return {
    async open() {
      const opened = await store.open();
      if (!opened.ok) return;
      scan = store
        .scan((record) => {
          memory.set(record.key, record.value);
        })
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          scanComplete = true;
        });
    },

    ready: () => scan,

    async lookup(key) {
      if (breaker && breaker.state === "open" && !breaker.canRequest()) {
        events.miss?.();
        return null;
      }
      const fromMemory = memory.get(key);
      if (fromMemory) {
        events.hit?.();
        return fromMemory;
      }
      if (store.available) {
        const got = await guarded(() => store.get(key), (r) => !r.hit && r.reason === "io-error");
        if (got?.hit) {
          memory.set(key, got.record.value);
          events.hit?.();
          return got.record.value;
        }
      }
      events.miss?.();
      return null;
    },

    async store(key, value) {
      if (breaker && breaker.state === "open" && !breaker.canRequest()) return;
      memory.set(key, value);
      if (!store.available) return;
      const record = { key, fingerprint: opts.fingerprint, createdAt: (opts.now ?? Date.now)(), value };
      const written = await guarded(() => store.put(record), (r) => !r.ok);
      if (written?.ok) events.stored?.();
    },

    async singleFlight(key, generate) {
      const existing = inFlight.get(key);
      if (existing) return { value: await existing, shared: true };
      const p = generate();
      inFlight.set(key, p);
      try {
        return { value: await p, shared: false };
      } finally {
        inFlight.delete(key);
      }
    },

    clearMemory() {
      memory.clear();
    },

    async clear() {
      memory.clear();
      if (store.available) await store.clear();
    },

    degraded() {
      return breaker !== null && breaker.state !== "closed";
    },

    stats() {
      const disk = store.stats;
      return {
        entries: Math.max(disk.entries, memory.size),
        bytes: disk.bytes,
        memoryEntries: memory.size,
        memoryBytes: memory.bytes,
        diskAvailable: store.available,
        scanComplete,
        quarantineFiles: disk.quarantineFiles,
      };
    },
  };
}
