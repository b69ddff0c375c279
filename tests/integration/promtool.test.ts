import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { METRIC_NAMES } from "../../src/observability/prom-metrics.js";
import { streamChat } from "../helpers/sse-client.js";
import { startTestServer, userMessage, type TestServer } from "../helpers/tiny-server.js";

/** promtool comes with Debian's prometheus package. Required in CI; skipped with a reason elsewhere. */
const found = spawnSync("promtool", ["--version"], { encoding: "utf8" }).status === 0;
const REASON = "promtool is not on PATH (apt-get install prometheus)";
const suite = found || process.env.CI ? describe : describe.skip;
if (!found && !process.env.CI) console.warn(`skipping promtool tests: ${REASON}`);

let s: TestServer;

suite(`promtool check metrics${found ? "" : ` (${REASON})`}`, () => {
  beforeAll(async () => {
    if (!found) return;
    s = await startTestServer({ slots: 1, queueMax: 0 }, { listen: true });
  });
  afterAll(async () => {
    await s?.app.close();
  });

  test("finds no problem in a live server's /metrics after real traffic", async () => {
    if (!found) throw new Error(`${REASON}: CI must run this test for real`);
    await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage("promtool plain"), max_tokens: 6 } });
    await streamChat(s.url, { messages: userMessage("promtool stream"), max_tokens: 6 });
    await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: [] } });
    s.app.metrics.cache.corruption("truncated");
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toContain("gauntlet_requests_total{");
    // Every project metric is in what promtool checks, the breaker and memory-guard families included.
    for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);

    const res = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(res.stdout + res.stderr).toBe("");
    expect(res.status).toBe(0);
  });

  test("reports a badly named metric, so a clean result means something", () => {
    if (!found) throw new Error(`${REASON}: CI must run this test for real`);
    const bad = "# HELP gauntlet_bad_total A gauge.\n# TYPE gauntlet_bad_total gauge\ngauntlet_bad_total 1\n";
    const res = spawnSync("promtool", ["check", "metrics"], { input: bad, encoding: "utf8" });
    expect(res.status).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/_total/);
  });
});
