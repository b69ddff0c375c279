/**
 * The chaos catalogue: which steps run, on which server, in which order.
 *
 *   main          the child server (`gauntlet serve`, embedded tiny model, 2 slots, --timeout-ms 3000,
 *                 breaker cooldown 300 ms and 1 success to close, GAUNTLET_DEBUG_ENGINE_FAULT=tagged,
 *                 GAUNTLET_DEBUG_CACHE_FS_FAULT=slow-sync:25 so that kill -9 lands inside writes),
 *                 its cache directory on a 32 MiB tmpfs when the harness may mount one: client, engine,
 *                 cache-while-running, full-disk, then kill -9 + corruption-while-stopped + restart
 *   in-process    the SQLite-style sweeps on buildServer() in this process (plus the injected full
 *                 disk when there is no tmpfs)
 *   enospc, eio   (full catalogue only) child servers with GAUNTLET_DEBUG_CACHE_FS_FAULT set
 * `quick` is the subset `gauntlet gate` runs: every kind of fault, one server start and one restart.
 */
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedModelId, ensureEmbeddedModel } from "../../engine/embedded-model.js";
import type { ModelInfo } from "../report/types.js";
import { childEnvironment } from "../runner/bundled-server.js";
import type { ChaosStep, StepGroup } from "./case-runner.js";
import { startChaosServer } from "./child-server.js";
import type { ChaosServerConfig } from "./child-server.js";
import { seededRandom } from "./corrupt.js";
import { getJson } from "./http-client.js";
import type { MainContext } from "./main-context.js";
import { cacheRunningSteps } from "./steps-cache.js";
import { clientSteps } from "./steps-client.js";
import { CORRUPTION_OPS } from "./corrupt.js";
import { crashStep, stoppedSoloStep } from "./steps-crash.js";
import { diskFullStep, eioAtStartStep, enospcInjectedStep } from "./steps-disk.js";
import { engineSteps } from "./steps-engine.js";
import { diskFullInjected, ioErrorSweep, powerLossSweep } from "./sweeps.js";
import type { SweepContext } from "./sweeps.js";
import { REQUEST_TIMEOUT_MS, SERVER_ARGS, SLOW_SYNC_MS, TMPFS_BYTES } from "./settings.js";
import { mountTmpfs } from "./tmpfs.js";
import type { Tmpfs } from "./tmpfs.js";


export interface CatalogueOptions {
  quick: boolean;
  binPath: string;
  parentEnv: Readonly<Record<string, string | undefined>>;
  /** Try a tmpfs for the real full disk (default true; needs root on Linux). */
  tmpfs?: boolean;
  /** Only steps with a case whose name equals one of these or starts with it plus "-". */
  only?: readonly string[];
  /** Seed of the corruption operations' random choices. */
  seed?: number;
  line(text: string): void;
}

export interface Catalogue {
  groups: StepGroup<any>[];
  /** The model the child servers serve (known once a server group is set up). */
  model(): ModelInfo | null;
  /** How the full disk is made: on a tmpfs, or injected (and why). */
  diskFull: string;
  /** Unmounts the tmpfs and removes the directories; always call it. */
  cleanup(): Promise<void>;
}

/** Corruptions of a stopped server's files that need a restart of their own (full catalogue only). */
const soloSteps = (quick: boolean) => (quick ? [] : CORRUPTION_OPS.filter((op) => !op.quick).map(stoppedSoloStep));

const selected = (only: readonly string[] | undefined) => (step: ChaosStep<any>) =>
  !only || only.length === 0 || step.cases.some((c) => only.some((o) => c.name === o || c.name.startsWith(`${o}-`)));

/** Every step of the catalogue, for --list (disk-full under main: without a tmpfs it runs in process). */
export function catalogueSteps(quick: boolean): { group: string; steps: ChaosStep<any>[] }[] {
  return [
    { group: "main", steps: [...clientSteps(quick), ...engineSteps(quick), ...cacheRunningSteps(quick), diskFullStep, crashStep(), ...soloSteps(quick)] },
    { group: "in-process", steps: [ioErrorSweep, powerLossSweep] },
    ...(quick ? [] : [{ group: "enospc", steps: [enospcInjectedStep] }, { group: "eio", steps: [eioAtStartStep] }]),
  ];
}

interface GroupInput {
  name: string;
  o: CatalogueOptions;
  steps: ChaosStep<MainContext>[];
  extraEnv: Record<string, string>;
  /** The cache directory (on the tmpfs for the main group); null: a temporary one made at set-up. */
  cacheDir: string | null;
  tmpfsBytes: number | null;
  model: { value: ModelInfo | null };
}

function serverGroup(g: GroupInput): StepGroup<MainContext> {
  let own: string | null = null;
  return {
    name: `the ${g.name} server`,
    // Each step's requests and waits follow its cancellation.
    steps: g.steps.map((step) => ({
      ...step,
      run: (ctx, rec, signal) => {
        ctx.signal = signal;
        return step.run(ctx, rec, signal);
      },
    })),
    async setup() {
      const cacheDir = g.cacheDir ?? (own = await mkdtemp(join(tmpdir(), `gauntlet-chaos-${g.name}-`)));
      await mkdir(join(cacheDir, "models"), { recursive: true });
      const model = await ensureEmbeddedModel(join(cacheDir, "models"), "tiny");
      g.model.value ??= { id: embeddedModelId("tiny"), sha256: model.sha256, sizeBytes: (await stat(model.path)).size };
      const config: ChaosServerConfig = {
        binPath: g.o.binPath,
        cacheDir,
        args: SERVER_ARGS,
        env: childEnvironment(g.o.parentEnv, { GAUNTLET_DEBUG_ENGINE_FAULT: "tagged", ...g.extraEnv }),
      };
      let n = 0;
      const ctx: MainContext = {
        server: await startChaosServer(config),
        async restart() {
          if (ctx.server.alive()) await ctx.server.stop();
          ctx.server = await startChaosServer(config);
          return ctx.server;
        },
        config,
        recordDir: join(cacheDir, "responses", model.sha256.slice(0, 16)),
        fingerprint: model.sha256,
        tmpfsBytes: g.tmpfsBytes,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        quick: g.o.quick,
        runTag: `${g.name}-${Date.now().toString(36)}-${process.pid}`,
        next: () => ++n,
        references: new Map(),
        random: seededRandom(g.o.seed ?? 1),
        signal: new AbortController().signal,
      };
      return ctx;
    },
    alive: async (ctx) => ctx.server.alive() && (await getJson(ctx.server.baseUrl, "/health", 5000)).status === 200,
    recover: (ctx) => ctx.restart().then(() => ctx),
    async teardown(ctx) {
      try {
        if (ctx) await ctx.server.stop();
      } finally {
        if (own) await rm(own, { recursive: true, force: true });
      }
    },
  };
}

/** Mounts the tmpfs when it can (and the full-disk case is wanted), and lays out the groups. */
export async function prepareCatalogue(o: CatalogueOptions): Promise<Catalogue> {
  const keep = selected(o.only);
  const model = { value: null as ModelInfo | null };
  const mainDir = await mkdtemp(join(tmpdir(), "gauntlet-chaos-main-"));
  let tmpfs: Tmpfs | null = null;
  let diskFull = "not run";
  if (keep(diskFullStep)) {
    const m = o.tmpfs === false ? ({ ok: false, reason: "--no-tmpfs" } as const) : await mountTmpfs(mainDir, TMPFS_BYTES);
    if (m.ok) tmpfs = m.tmpfs;
    diskFull = m.ok ? `a real ENOSPC on a ${TMPFS_BYTES >> 20} MiB tmpfs holding the main server's cache directory` : `injected ENOSPC in process (no tmpfs: ${m.reason})`;
  }
  const main = serverGroup({
    name: "main",
    o,
    steps: [...clientSteps(o.quick), ...engineSteps(o.quick), ...cacheRunningSteps(o.quick), ...(tmpfs ? [diskFullStep] : []), crashStep(), ...soloSteps(o.quick)].filter(keep),
    // Every fsync of a new record waits 25 ms, so the kill -9 under load lands inside writes.
    extraEnv: { GAUNTLET_DEBUG_CACHE_FS_FAULT: `slow-sync:${SLOW_SYNC_MS}` },
    cacheDir: mainDir,
    tmpfsBytes: tmpfs ? TMPFS_BYTES : null,
    model,
  });
  let sweepRoot: string | null = null;
  const inProcess: StepGroup<SweepContext> = {
    name: "the in-process sweeps",
    // No child server: it runs while the main server boots and is tested.
    background: true,
    steps: [ioErrorSweep, powerLossSweep, ...(tmpfs ? [] : [diskFullInjected])].filter(keep),
    async setup() {
      sweepRoot = await mkdtemp(join(tmpdir(), "gauntlet-chaos-sweep-"));
      return { root: sweepRoot, quick: o.quick };
    },
    alive: async () => true,
    recover: async (c) => c,
    async teardown() {
      if (sweepRoot) await rm(sweepRoot, { recursive: true, force: true });
    },
  };
  const groups: StepGroup<any>[] = [main, inProcess];
  if (!o.quick) {
    const extra = (name: string, step: ChaosStep<MainContext>, fault: string) =>
      serverGroup({ name, o, steps: [step].filter(keep), extraEnv: { GAUNTLET_DEBUG_CACHE_FS_FAULT: fault }, cacheDir: null, tmpfsBytes: null, model });
    groups.push(extra("enospc", enospcInjectedStep, "enospc-after:2"), extra("eio", eioAtStartStep, "eio-at:1"));
  }
  return {
    groups: groups.filter((g) => g.steps.length > 0),
    model: () => model.value,
    diskFull,
    async cleanup() {
      try {
        await tmpfs?.unmount();
      } finally {
        await rm(mainDir, { recursive: true, force: true });
      }
    },
  };
}
