import { describe, expect, test } from "vitest";
import { editDistance, closestMatch } from "../../src/config/suggest.js";

describe("suggest", () => {
  test("edit distance counts insertions, deletions and substitutions", () => {
    expect(editDistance("port", "port")).toBe(0);
    expect(editDistance("prot", "port")).toBe(2);
    expect(editDistance("slot", "slots")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  test("the closest candidate within reach is suggested", () => {
    expect(closestMatch("prot", ["host", "port", "slots"])).toBe("port");
    expect(closestMatch("treads", ["threads", "slots"])).toBe("threads");
  });

  test("a prefix of a known name suggests that name", () => {
    expect(closestMatch("breaker-cool", ["breaker", "breaker-cooldown-ms"])).toBe("breaker-cooldown-ms");
  });

  test("nothing is suggested when every candidate is far away", () => {
    expect(closestMatch("zzzzzzzz", ["host", "port"])).toBeUndefined();
  });
});
