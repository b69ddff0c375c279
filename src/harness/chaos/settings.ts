/** The main chaos server's settings, shared by the catalogue and the cases' limits. */

/** The server's --timeout-ms: a hung engine must be answered 504 about this long after the request. */
export const REQUEST_TIMEOUT_MS = 3000;
/** Size of the tmpfs holding the main server's cache directory (a real full disk). */
export const TMPFS_BYTES = 32 << 20;
/**
 * The slow reader's answer: 1800 tokens (about 450 KiB of SSE, within the default 2048-token context) is far more
 * than the reader's receive buffer, so its receive window closes and the server's send queue fills.
 */
export const SLOW_READER_TOKENS = 1800;
/** 2 slots; a short timeout; the cache breaker's cooldown short and one success to close it, so recovery is measurable. */
export const SERVER_ARGS: readonly string[] = ["--slots", "2", "--timeout-ms", String(REQUEST_TIMEOUT_MS), "--breaker-cooldown-ms", "300", "--breaker-successes", "1"];
/** The main server's record fsyncs wait this long (GAUNTLET_DEBUG_CACHE_FS_FAULT=slow-sync), so kill -9 lands inside writes. */
export const SLOW_SYNC_MS = 25;
