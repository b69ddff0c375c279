/**
 * The stress stage: runs scenarios against the bundled server (one child process per distinct
 * server configuration, started in the order scenarios need them) or against a --target.
 */
import type { Gate } from "../gates/index.js";
import { parseGate } from "../gates/index.js";
import { createMemorySampler } from "../load/memory-sampler.js";
import type { MemorySampler } from "../load/memory-sampler.js";
import { procMemorySource } from "../load/memory-source.js";
import type { Marker, MemorySample, ModelInfo, ScenarioReport } from "../report/types.js";
import type { ScenarioDef, ThresholdsDef } from "../scenarios/types.js";
import { LatencyHistogram } from "../stats/histogram.js";
import { childEnvironment, startBundledServer } from "./bundled-server.js";
import { gatesForScenario } from "./gates.js";
import type { GateSpec } from "./gates.js";
import { runScenario } from "./run-scenario.js";
import type { ScenarioOutcome } from "./scenario-outcome.js";
import type { Stage, StageContext, StageResult } from "./stage.js";
import { probeTarget } from "./target.js";

export type ServerChoice =
  | { kind: "bundled"; binPath: string; parentEnv: Readonly<Record<string, string | undefined>> }
  | { kind: "target"; baseUrl: string; /** Sent with every request (e.g. authorization). */ headers?: Record<string, string> };

export interface StressStageOptions {
  name?: string;
  scenarios: ScenarioDef[];
  thresholds: ThresholdsDef;
  extraGates: Gate[];
  server: ServerChoice;
  memoryIntervalMs?: number;
}

/** Scenarios grouped by the bundled-server configuration they need, in first-use order. */
export function groupByServer(scenarios: readonly ScenarioDef[]): ScenarioDef[][] {
  const groups = new Map<string, ScenarioDef[]>();
  for (const s of scenarios) {
    const key = JSON.stringify([s.server.args, Object.entries(s.server.env).sort()]);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
}

/** A scenario that could not run: no requests, every gate unavailable, the reason in its notes. */
function notRun(s: ScenarioDef, reason: string): ScenarioOutcome {
  const report: ScenarioReport = {
    name: s.name, description: s.description, requests: { total: 0, ok: 0, failed: 0, wrongAnswers: 0 }, successRate: null, throughputRps: null,
    latencyMs: new LatencyHistogram().summary(), errorsByKind: {}, notes: [`not run: ${reason}`],
  };
  return { report, metrics: {}, invalid: [], series: [], markers: [], memory: [] };
}

export function stressStage(o: StressStageOptions): Stage {
  const name = o.name ?? "stress";
  return {
    name,
    async run(ctx: StageContext): Promise<StageResult> {
      const outcomes: ScenarioOutcome[] = [];
      const memory: MemorySample[] = [];
      const markers: Marker[] = [];
      const servers: unknown[] = [];
      let model: ModelInfo | null = null;
      let startFailures = 0;
      const interval = o.memoryIntervalMs ?? 100;
      const headers = o.server.kind === "target" ? (o.server.headers ?? {}) : {};
      const runGroup = async (group: ScenarioDef[], baseUrl: string, modelId: string | null, sampler: MemorySampler | null, memoryNote: string | null, serverPids: number[] | null) => {
        if (sampler) await sampler.start();
        try {
          for (const s of group) {
            if (ctx.signal?.aborted) { outcomes.push(notRun(s, "the run was interrupted")); continue; }
            outcomes.push(await runScenario(s, { ...ctx, baseUrl, headers, model: modelId, memory: sampler, memoryNote, serverPids }));
          }
        } finally {
          if (sampler) {
            await sampler.stop();
            memory.push(...sampler.samples());
          }
        }
      };
      if (o.server.kind === "target") {
        const probe = await probeTarget(o.server.baseUrl, headers);
        servers.push({ target: o.server.baseUrl, model: probe.modelId, memory: probe.memoryNote ?? "from /metrics process_resident_memory_bytes" });
        const sampler = probe.memory ? createMemorySampler(probe.memory, { intervalMs: Math.max(250, interval), clock: ctx.clock, origin: ctx.origin }) : null;
        await runGroup(o.scenarios, o.server.baseUrl, probe.modelId, sampler, probe.memoryNote, null);
      } else {
        for (const group of groupByServer(o.scenarios)) {
          const first = group[0]!;
          const names = group.map((s) => s.name).join(", ");
          ctx.progress.line(`starting the bundled server for ${names}`);
          let server;
          try {
            server = await startBundledServer({ binPath: o.server.binPath, args: first.server.args, env: childEnvironment(o.server.parentEnv, first.server.env) });
          } catch (err) {
            startFailures++;
            const reason = `the bundled server did not start: ${(err as Error).message.split("\n")[0]}`;
            ctx.progress.line(reason);
            outcomes.push(...group.map((s) => notRun(s, reason)));
            continue;
          }
          model ??= server.model;
          servers.push({ scenarios: group.map((s) => s.name), command: server.command, env: first.server.env, memory: "VmRSS from /proc/<pid>/status of the serving process", relaunched: server.pids.length > 1 });
          markers.push({ tMs: ctx.clock.now() - ctx.origin, label: `server up (${group.length} scenario(s))` });
          const sampler = createMemorySampler(procMemorySource(server.pid), { intervalMs: interval, clock: ctx.clock, origin: ctx.origin });
          try {
            await runGroup(group, server.baseUrl, server.model?.id ?? null, sampler, null, server.pids);
          } finally {
            const code = await server.stop();
            ctx.progress.line(`stopped the bundled server (exit ${code ?? "signal"})`);
          }
        }
      }
      const gates: GateSpec[] = [
        ...o.scenarios.flatMap((s) => gatesForScenario(s.name, o.thresholds, o.extraGates)),
        ...(o.server.kind === "bundled" ? [{ id: `${name}/server-started`, scenario: null, gate: parseGate("server_start_failures == 0") }] : []),
      ];
      return {
        scenarios: outcomes,
        gates,
        runMetrics: { server_start_failures: startFailures },
        invalid: outcomes.flatMap((x) => x.invalid),
        memory,
        latency: outcomes.flatMap((x) => x.series),
        markers: [...markers, ...outcomes.flatMap((x) => x.markers)].sort((a, b) => a.tMs - b.tMs),
        model,
        config: { servers, scenarios: o.scenarios, extraGates: o.extraGates.map((g) => g.source) },
      };
    },
  };
}
