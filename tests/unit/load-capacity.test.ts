import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadAutocannon } from "../../src/harness/load/autocannon-driver.js";
import { measureCapacity } from "../../src/harness/load/capacity-probe.js";
import { systemClock } from "../../src/harness/load/clock.js";
import { startTrivialEndpoint, type TrivialEndpoint } from "../../src/harness/load/trivial-endpoint.js";
import http from "node:http";
import { sendChat } from "../../src/harness/load/chat-client.js";

let endpoint: TrivialEndpoint;
beforeAll(async () => { endpoint = await startTrivialEndpoint(); });
afterAll(async () => { await endpoint.close(); });

describe("trivial endpoint", () => {
  test("answers a plain and a streamed request with the canned text, usage and timings", async () => {
    const agent = new http.Agent({ keepAlive: true });
    const opts = { baseUrl: endpoint.baseUrl, agent, timeoutMs: 5000, now: systemClock.now };
    const body = { messages: [{ role: "user" as const, content: "x" }], max_tokens: 8, temperature: 0 };
    const plain = await sendChat(opts, { index: 0, key: "k", body: { ...body, stream: false } });
    const streamed = await sendChat(opts, { index: 1, key: "k", body: { ...body, stream: true, stream_options: { include_usage: true } } });
    agent.destroy();
    for (const rec of [plain, streamed]) {
      expect(rec.error).toBeNull();
      expect(rec.answer).toMatchObject({ text: endpoint.text, finishReason: "length", completionTokens: 7 });
      expect(rec.server?.totalMs).toBe(0.2);
    }
    expect(streamed.itlMs).toHaveLength(6);
  });
});

describe("measureCapacity", () => {
  test("drives the requested number of requests without errors and reports a rate", async () => {
    const r = await measureCapacity({ baseUrl: endpoint.baseUrl, stream: true, connections: 4, requests: 50, clock: systemClock });
    expect(r).toMatchObject({ requests: 50, errors: 0, connections: 4, stream: true });
    expect(r.rps).toBeGreaterThan(0);
    expect(r.latencyMs.count).toBe(50);
    expect(r.client).toBe("gauntlet-client");
  });

  test("measures plain requests through autocannon when given it: the client plain scenarios are driven by", async () => {
    const autocannon = await loadAutocannon();
    expect(autocannon).not.toBeNull();
    const r = await measureCapacity({ baseUrl: endpoint.baseUrl, stream: false, connections: 4, requests: 60, clock: systemClock, autocannon });
    expect(r).toMatchObject({ requests: 60, errors: 0, stream: false, client: "autocannon" });
    expect(r.latencyMs.count).toBe(60);
    expect(r.rps).toBeGreaterThan(0);
  });
});
