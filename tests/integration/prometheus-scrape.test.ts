import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TTFT_BUCKETS_SECONDS } from "../../src/observability/prom-metrics.js";
import { startTestServer, userMessage, type TestServer } from "../helpers/tiny-server.js";

/** Debian's prometheus package; required in CI, skipped with a reason elsewhere. */
const found = spawnSync("prometheus", ["--version"], { encoding: "utf8" }).status === 0;
const REASON = "prometheus is not on PATH (apt-get install prometheus)";
const suite = found || process.env.CI ? describe : describe.skip;
if (!found && !process.env.CI) console.warn(`skipping the Prometheus scrape test: ${REASON}`);

const TTFT_P95 = "histogram_quantile(0.95, sum by (le) (rate(gauntlet_time_to_first_token_seconds_bucket[10s])))";
const REQUEST_RATE = "sum(rate(gauntlet_requests_total[10s]))";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

async function until<T>(what: string, read: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await read();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}

let s: TestServer;
let prom: ChildProcess | null = null;
let promLog = "";
let dir = "";
let promUrl = "";

async function query(q: string): Promise<number | undefined> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ value: [number, string] }> } };
  const v = body.data.result[0]?.value[1];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

async function stopPrometheus(): Promise<void> {
  const p = prom;
  prom = null;
  if (!p || p.exitCode !== null || p.pid === undefined) return;
  const exited = new Promise<void>((r) => p.once("exit", () => r()));
  process.kill(p.pid, "SIGTERM");
  const t = setTimeout(() => p.pid !== undefined && p.exitCode === null && process.kill(p.pid, "SIGKILL"), 5_000);
  await exited;
  clearTimeout(t);
}

suite(`a real Prometheus scraping a live server${found ? "" : ` (${REASON})`}`, () => {
  beforeAll(async () => {
    if (!found) return;
    s = await startTestServer({ slots: 2 }, { listen: true });
    dir = mkdtempSync(join(tmpdir(), "gauntlet-prometheus-"));
    const target = new URL(s.url).host;
    writeFileSync(
      join(dir, "prometheus.yml"),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: gauntlet\n    metrics_path: /metrics\n    static_configs:\n      - targets: ["${target}"]\n`,
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn(
      "prometheus",
      [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prom.stdout?.on("data", (c: Buffer) => void (promLog = (promLog + c.toString()).slice(-4000)));
    prom.stderr?.on("data", (c: Buffer) => void (promLog = (promLog + c.toString()).slice(-4000)));
  });
  afterAll(async () => {
    // Always stopped by its pid, also when a test failed.
    await stopPrometheus();
    await s?.app.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("answers a PromQL TTFT p95 from the histogram and the request rate", async () => {
    if (!found) throw new Error(`${REASON}: CI must run this test for real`);
    try {
      await until("the target to be up", () => query('up{job="gauntlet"}'), 12_000);
      const ttfts: number[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage(`prometheus ${i}`), max_tokens: 4 } });
        ttfts.push(res.json().timings.ttft_ms / 1000);
      }
      const p95 = await until("the TTFT p95 query", () => query(TTFT_P95), 12_000);
      const rate = await until("the request rate query", () => query(REQUEST_RATE), 5_000);
      // histogram_quantile interpolates inside a bucket: the estimate cannot pass the bucket holding the slowest TTFT.
      const slowest = Math.max(...ttfts);
      const bound = TTFT_BUCKETS_SECONDS.find((b) => b >= slowest) ?? Number.POSITIVE_INFINITY;
      expect(p95).toBeGreaterThan(0);
      expect(p95).toBeLessThanOrEqual(bound);
      expect(rate).toBeGreaterThan(0);
      expect(rate).toBeLessThan(100);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nprometheus output:\n${promLog}`);
    }
  }, 40_000);
});
