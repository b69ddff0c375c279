import { describe, expect, test } from "vitest";
import { openMpSettings, runEngineCommand } from "../../src/cli/engine.js";
import { planThreads } from "../../src/engine/thread-plan.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) }, out, err };
}

describe("gauntlet engine", () => {
  test("status names the engine build and the thread plan for the given slots", async () => {
    const c = capture();
    expect(await runEngineCommand(["status", "--slots", "3"], c.io)).toBe(0);
    expect(c.out.join("\n")).toMatch(/^engine build: (local|npm prebuilt)/);
    expect(c.out.join("\n")).toMatch(/thread plan for 3 slot\(s\): .*3 slot\(s\) x \d+ thread\(s\)/);
  });

  test("build --dry-run prints node-llama-cpp's own source build command for the CPU", async () => {
    const c = capture();
    expect(await runEngineCommand(["build", "--dry-run"], c.io)).toBe(0);
    expect(c.out[0]).toMatch(/node-llama-cpp[\\/]dist[\\/]cli[\\/]cli\.js source download --gpu false$/);
  });

  test("refuses an unknown subcommand or a bad slot count with exit code 2 and the usage", async () => {
    const a = capture();
    expect(await runEngineCommand(["fly"], a.io)).toBe(2);
    expect(a.err.join("\n")).toMatch(/unknown subcommand 'fly'[\s\S]*Usage: gauntlet engine/);
    const b = capture();
    expect(await runEngineCommand(["status", "--slots", "0"], b.io)).toBe(2);
  });
});

describe("the OpenMP settings a served process starts with", () => {
  test("are the plan's, except where the user set a value (theirs wins; an empty value counts as unset)", () => {
    const plan = planThreads({ build: "local", cores: 2, slots: 2 });
    expect(openMpSettings(plan, {})).toEqual({ OMP_WAIT_POLICY: "ACTIVE", GOMP_SPINCOUNT: "300000" });
    expect(openMpSettings(plan, { OMP_WAIT_POLICY: "PASSIVE", GOMP_SPINCOUNT: "" })).toEqual({ GOMP_SPINCOUNT: "300000" });
    expect(openMpSettings(planThreads({ build: "local", cores: 2, slots: 1 }), {})).toEqual({});
  });
});
