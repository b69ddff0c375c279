import { describe, expect, test } from "vitest";
import { LruCache } from "../../src/cache/lru.js";

const byLength = (v: string): number => v.length;

describe("LruCache", () => {
  test("get returns what set stored and counts hits and misses", () => {
    const lru = new LruCache<string, string>({ maxBytes: 100, sizeOf: byLength });
    lru.set("a", "alpha");
    expect(lru.get("a")).toBe("alpha");
    expect(lru.get("b")).toBeUndefined();
    expect(lru.stats).toMatchObject({ hits: 1, misses: 1, evictions: 0, entries: 1, bytes: 5, maxBytes: 100 });
  });

  test("adding past the byte bound evicts the least recently used entries first", () => {
    const evicted: string[] = [];
    const lru = new LruCache<string, string>({ maxBytes: 10, sizeOf: byLength, onEvict: (k) => evicted.push(k) });
    lru.set("a", "aaaa");
    lru.set("b", "bbbb");
    lru.get("a");
    lru.set("c", "cccc");
    expect(evicted).toEqual(["b"]);
    expect(lru.keys()).toEqual(["a", "c"]);
    expect(lru.bytes).toBe(8);
    expect(lru.stats.evictions).toBe(1);
  });

  test("one large entry can evict several small ones", () => {
    const lru = new LruCache<string, string>({ maxBytes: 10, sizeOf: byLength });
    for (const k of ["a", "b", "c", "d", "e"]) lru.set(k, "xx");
    lru.set("big", "y".repeat(9));
    expect(lru.keys()).toEqual(["big"]);
    expect(lru.stats).toMatchObject({ evictions: 5, entries: 1, bytes: 9 });
  });

  test("replacing a key updates its size and makes it the most recent", () => {
    const lru = new LruCache<string, string>({ maxBytes: 10, sizeOf: byLength });
    lru.set("a", "aa");
    lru.set("b", "bb");
    lru.set("a", "aaaaaa");
    expect(lru.keys()).toEqual(["b", "a"]);
    expect(lru.bytes).toBe(8);
    expect(lru.stats.evictions).toBe(0);
  });

  test("a value larger than the whole bound is not stored and removes the old value of its key", () => {
    const lru = new LruCache<string, string>({ maxBytes: 5, sizeOf: byLength });
    lru.set("a", "aa");
    lru.set("b", "bb");
    expect(lru.set("a", "way too long")).toBe(false);
    expect(lru.has("a")).toBe(false);
    expect(lru.keys()).toEqual(["b"]);
    expect(lru.stats).toMatchObject({ rejected: 1, bytes: 2 });
  });

  test("peek neither promotes nor counts", () => {
    const lru = new LruCache<string, string>({ maxBytes: 4, sizeOf: byLength });
    lru.set("a", "aa");
    lru.set("b", "bb");
    expect(lru.peek("a")).toBe("aa");
    lru.set("c", "cc");
    expect(lru.keys()).toEqual(["b", "c"]);
    expect(lru.stats).toMatchObject({ hits: 0, misses: 0 });
  });

  test("delete and clear free their bytes without counting evictions", () => {
    const lru = new LruCache<string, string>({ maxBytes: 100, sizeOf: byLength });
    lru.set("a", "aaa");
    lru.set("b", "bbb");
    expect(lru.delete("a")).toBe(true);
    expect(lru.delete("a")).toBe(false);
    expect(lru.bytes).toBe(3);
    lru.clear();
    expect(lru.stats).toMatchObject({ entries: 0, bytes: 0, evictions: 0 });
  });

  test("the size function receives the key and a bad size is refused", () => {
    const lru = new LruCache<string, string>({ maxBytes: 100, sizeOf: (v, k) => v.length + k.length });
    lru.set("key", "val");
    expect(lru.bytes).toBe(6);
    const broken = new LruCache<string, string>({ maxBytes: 100, sizeOf: () => Number.NaN });
    expect(() => broken.set("a", "b")).toThrow(RangeError);
    expect(() => new LruCache<string, string>({ maxBytes: -1, sizeOf: byLength })).toThrow(RangeError);
  });
});
