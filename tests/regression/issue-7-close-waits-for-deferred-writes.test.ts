/**
 * Issue 7 (the chaos EIO sweep, N = 1) found: an answer stored while the disk store was still opening is
 * written once the store is open, but that deferred write was not counted among the background writes, so
 * close() (and flush()) returned before it and its temp file appeared after the server had closed. A
 * reopened server could then find a temp file of a write it did not make. Every deferred write now counts.
 */
import { readdirSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { cacheKey } from "../../src/cache/cache-key.js";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import type { CacheFs } from "../../src/cache/cache-fs.js";
import { createResponseCache } from "../../src/cache/response-cache.js";

const FP = "f".repeat(64);
const params = { maxTokens: 8, temperature: 0, topP: 1, seed: undefined, stop: [] as string[] };

describe("issue 7: close() waits for writes of answers given while the store was opening", () => {
  test("an answer stored during a slow open is on disk, whole, when close() returns", async () => {
    let releaseOpen!: () => void;
    const openGate = new Promise<void>((r) => (releaseOpen = r));
    // The store's open lists its directory first: hold that until the answer was stored.
    const slowOpen: CacheFs = { ...nodeCacheFs, readdir: async (p) => (await openGate, nodeCacheFs.readdir(p)) };
    const dir = join(mkdtempSync(join(tmpdir(), "gauntlet-issue7-deferred-")), "responses");
    const cache = createResponseCache({ dir, fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20, ioTimeoutMs: 2000, fs: slowOpen });
    void cache.open();
    const key = cacheKey(FP, [{ role: "user", content: "answered while opening" }], params);
    cache.store(key, { text: "an answer", finishReason: "length", promptTokens: 3, completionTokens: 2 });
    setTimeout(releaseOpen, 50);
    await cache.close();
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(files).toContain(`${key}.rec`);
  });
});
