import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without types
import { summarise } from "../../scripts/junit-summary.mjs";

const xml = `<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="4" failures="1" errors="0" time="1.0">
  <testsuite name="tests/unit/a.test.ts" tests="4" failures="1" errors="0" skipped="1">
    <testcase classname="tests/unit/a.test.ts" name="passes" time="0.01"></testcase>
    <testcase classname="tests/unit/a.test.ts" name="passes too" time="0.01"/>
    <testcase classname="tests/unit/a.test.ts" name="compares &lt;a&gt; &amp; &quot;b&quot;" time="0.01">
      <failure message="expected 1 to be 2" type="AssertionError">AssertionError: expected 1 to be 2
 ❯ tests/unit/a.test.ts:9:14</failure>
    </testcase>
    <testcase classname="tests/unit/a.test.ts" name="skipped" time="0"><skipped/></testcase>
  </testsuite>
</testsuites>`;

describe("scripts/junit-summary.mjs", () => {
  it("counts passed, failed and skipped test cases and names every failure with its message", () => {
    const s = summarise(xml);
    expect(s).toMatchObject({ total: 4, passed: 2, skipped: 1 });
    expect(s.failed).toHaveLength(1);
    expect(s.failed[0].file).toBe("tests/unit/a.test.ts");
    expect(s.failed[0].name).toBe('compares <a> & "b"');
    expect(s.failed[0].failure).toContain("expected 1 to be 2");
    expect(s.failed[0].failure).toContain("a.test.ts:9:14");
  });

  it("treats an error element like a failure", () => {
    const s = summarise(`<testcase classname="f" name="n"><error message="boom"/></testcase>`);
    expect(s.failed.map((f: { failure: string }) => f.failure)).toEqual(["boom"]);
  });
});
