/** `gauntlet chaos` argument handling: misuse is exit 2 before any server starts. */
import { describe, expect, test } from "vitest";
import { chaosGateStage, parseChaosArgs, runChaosCommand } from "../../src/cli/chaos.js";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), progress: () => undefined, isTTY: false } };
}

describe("gauntlet chaos: arguments", () => {
  test("parses the options", () => {
    const p = parseChaosArgs(["--quick", "--case", "engine-hang", "--case", "cache-running", "--out", "r", "--name", "x1", "--seed", "7", "--no-tmpfs"]);
    expect(p).toEqual({ ok: true, args: { quick: true, cases: ["engine-hang", "cache-running"], out: "r", name: "x1", seed: 7, tmpfs: false, list: false, help: false } });
    expect(parseChaosArgs([])).toMatchObject({ ok: true, args: { quick: false, cases: [], out: "reports", name: null, seed: 1, tmpfs: true } });
  });

  test("rejects unknown options (with a suggestion), positionals, bad seeds and bad names", () => {
    expect(parseChaosArgs(["--quik"])).toEqual({ ok: false, error: expect.stringMatching(/unknown option --quik \(did you mean --quick\?\)/) });
    expect(parseChaosArgs(["engine-hang"])).toEqual({ ok: false, error: expect.stringMatching(/unexpected argument/) });
    expect(parseChaosArgs(["--seed", "-3"])).toEqual({ ok: false, error: expect.stringMatching(/--seed/) });
    expect(parseChaosArgs(["--name", "../x"])).toEqual({ ok: false, error: expect.stringMatching(/--name/) });
  });

  test("--help prints the usage and exits 0", async () => {
    const t = io();
    expect(await runChaosCommand(["--help"], {}, t.io)).toBe(0);
    expect(t.out.join("\n")).toMatch(/Usage: gauntlet chaos/);
    expect(t.out.join("\n")).toMatch(/--quick/);
  });

  test("--list prints every case with its group, quick ones marked, and exits 0", async () => {
    const t = io();
    expect(await runChaosCommand(["--list"], {}, t.io)).toBe(0);
    const text = t.out.join("\n");
    for (const name of ["client-huge-body", "engine-hang", "engine-stuck", "cache-running-truncate", "cache-stopped-fifo", "crash-kill9-under-load", "disk-full", "disk-eio-every-op"]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/engine-hang\s+main\s+quick/);
    expect(text).toMatch(/engine-stuck\s+main\s+full only/);
    // Opened without blocking since issue 7: the FIFO cases run in the quick subset (and the shared restart).
    expect(text).toMatch(/cache-running-fifo\s+main\s+quick/);
    expect(text).toMatch(/cache-stopped-fifo\s+main\s+quick/);
  });

  test("the gate's chaos stage is the quick subset against the bundled server", () => {
    const stage = chaosGateStage({});
    expect(stage.name).toBe("chaos-quick");
    expect(typeof stage.run).toBe("function");
  });

  test("an unknown --case is a usage error naming the closest case, before anything runs", async () => {
    const t = io();
    expect(await runChaosCommand(["--case", "engine-hangs"], {}, t.io)).toBe(2);
    expect(t.err.join("\n")).toMatch(/no chaos case .*engine-hangs.*did you mean engine-hang/);
  });

  test("a case that exists only in the full catalogue cannot be picked with --quick", async () => {
    const t = io();
    expect(await runChaosCommand(["--quick", "--case", "engine-stuck"], {}, t.io)).toBe(2);
    expect(t.err.join("\n")).toMatch(/engine-stuck.*not in the quick subset/);
  });
});
