/** Reading the cache's counters out of the server's Prometheus text. */
import { describe, expect, test } from "vitest";
import { corruptionsCountedIn, ioErrorsCounted } from "../../src/harness/chaos/metrics-text.js";

const text = [
  "# HELP gauntlet_cache_corruptions_total Corrupt records.",
  "# TYPE gauntlet_cache_corruptions_total counter",
  'gauntlet_cache_corruptions_total{reason="truncated"} 2',
  'gauntlet_cache_corruptions_total{reason="checksum-mismatch"} 1',
  "gauntlet_cache_corruptions_totally_different 99",
  'gauntlet_cache_io_errors_total{op="sync",code="EIO"} 3',
  'gauntlet_cache_io_errors_total{op="get",code="EISDIR"} 1',
  "gauntlet_cache_hits_total 7",
].join("\n");

describe("chaos: counters in /metrics", () => {
  test("corrupt records are summed over their reasons; a look-alike family is not counted", () => {
    expect(corruptionsCountedIn(text)).toBe(3);
  });

  test("cache I/O errors are summed over every label", () => {
    expect(ioErrorsCounted(text)).toBe(4);
  });

  test("a family the server does not expose is null, not zero", () => {
    expect(ioErrorsCounted("gauntlet_cache_hits_total 7\n")).toBeNull();
    expect(corruptionsCountedIn("")).toBeNull();
  });
});
