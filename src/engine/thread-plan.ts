/**
 * How many CPU threads each slot gets, and how the process must be set up for it. Pure: the caller
 * gives the detected build, the core count and the configuration.
 *
 * Measured (docs/engine.md): the npm prebuilt binaries collapse above 1 thread (each graph compute
 * spawns a throwaway pool that busy-waits), so they run 1 thread per slot and get more slots
 * instead. The local OpenMP build scales: the cores are split between the slots. Every libuv
 * worker that ever runs a decode keeps its own OpenMP team spinning, so the libuv pool gets exactly
 * one worker per slot (UV_THREADPOOL_SIZE=slots; 1 for one slot): never more teams than slots.
 */

export type EngineBuildKind = "prebuilt" | "local";

export interface ThreadPlanInput {
  build: EngineBuildKind;
  /** Usable CPU cores (os.availableParallelism()). */
  cores: number;
  slots: number;
  /** Threads per slot the user asked for (--threads / THREADS); undefined = choose. */
  requestedThreads?: number | undefined;
}

export interface ThreadPlan {
  build: EngineBuildKind;
  /** Threads of each slot when every slot is busy. */
  threadsPerSlot: number;
  /** Threads a slot may take while the others are idle (the local build only; else = threadsPerSlot). */
  maxThreadsPerSlot: number;
  /** slots x threadsPerSlot. */
  totalThreads: number;
  /** The libuv pool size the process must start with; null = the default (4) is fine. */
  uvThreadpoolSize: number | null;
  /**
   * OpenMP settings the process should start with (libgomp reads them when the engine loads; a user's own value
   * wins). Several slots on the local build are several OpenMP teams (one per libuv worker): libgomp then counts
   * the cores as oversubscribed and lets an idle thread spin only 100 times before it sleeps, so each decode of a
   * lone request using every core had to wake its helper threads (medium model, 2 slots on 2 cores: 5.2-5.7 ms per
   * token instead of 3.9). OMP_WAIT_POLICY=ACTIVE raises that to 1000 spins; GOMP_SPINCOUNT=300000 keeps libgomp's
   * default spin where the cores are not oversubscribed (ACTIVE alone would spin for seconds there).
   */
  openMpEnv: Record<string, string>;
  /** Advice for the user (printed at start-up). */
  warnings: string[];
  /** One line for the start-up log. */
  summary: string;
}

const LIBUV_DEFAULT_POOL = 4;

export function planThreads(input: ThreadPlanInput): ThreadPlan {
  const { build, slots, requestedThreads } = input;
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a whole number >= 1, got ${slots}`);
  if (requestedThreads !== undefined && (!Number.isInteger(requestedThreads) || requestedThreads < 1)) {
    throw new RangeError(`threads must be a whole number >= 1, got ${requestedThreads}`);
  }
  const cores = Number.isFinite(input.cores) && input.cores >= 1 ? Math.floor(input.cores) : 1;
  const warnings: string[] = [];
  let threadsPerSlot: number;
  let uvThreadpoolSize: number | null;

  if (build === "prebuilt") {
    threadsPerSlot = requestedThreads ?? 1;
    if (threadsPerSlot > 1) {
      warnings.push(
        `${threadsPerSlot} threads per slot on the prebuilt engine: its thread pool busy-waits and a request gets many times slower ` +
          `above 1 thread; keep --threads 1 and raise --slots, or build the optimized engine with 'gauntlet engine build'`,
      );
    }
    uvThreadpoolSize = slots > LIBUV_DEFAULT_POOL ? slots : null;
  } else {
    threadsPerSlot = requestedThreads ?? Math.max(1, Math.floor(cores / slots));
    uvThreadpoolSize = slots;
  }
  const totalThreads = slots * threadsPerSlot;
  if (build === "local" && totalThreads > cores) {
    warnings.push(
      requestedThreads !== undefined && requestedThreads > 1
        ? `${slots} slot(s) x ${threadsPerSlot} thread(s) on ${cores} core(s): OpenMP threads spin while they wait, so more threads than cores ` +
            `slow everything down; use --threads ${Math.max(1, Math.floor(cores / slots))} or fewer slots`
        : `${slots} slots need more threads (${totalThreads}) than cores (${cores}): requests will share cores; fewer slots would be faster`,
    );
  }

  // A lone generation on the local build may use every core; a user's explicit count stays fixed.
  const maxThreadsPerSlot = build === "local" && requestedThreads === undefined ? Math.max(threadsPerSlot, cores) : threadsPerSlot;

  const what = build === "local" ? "local OpenMP build" : "prebuilt binaries";
  const lone = maxThreadsPerSlot > threadsPerSlot ? ` (up to ${maxThreadsPerSlot} for a lone request)` : "";
  const uv = uvThreadpoolSize === null ? "" : `, UV_THREADPOOL_SIZE=${uvThreadpoolSize}`;
  const summary = `${what}, ${slots} slot(s) x ${threadsPerSlot} thread(s)${lone} on ${cores} core(s)${uv}`;
  const openMpEnv: Record<string, string> = build === "local" && slots > 1 ? { OMP_WAIT_POLICY: "ACTIVE", GOMP_SPINCOUNT: "300000" } : {};
  return { build, threadsPerSlot, maxThreadsPerSlot, totalThreads, uvThreadpoolSize, openMpEnv, warnings, summary };
}

/**
 * The thread count the user asked for, or undefined when they left it to the plan. The parsed
 * configuration always has a value (default 1); only an explicit --threads or THREADS counts.
 */
export function requestedThreadsFrom(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  configuredThreads: number,
): number | undefined {
  const inArgv = argv.some((a) => a === "--threads" || a.startsWith("--threads="));
  const inEnv = (env.THREADS ?? "") !== "";
  return inArgv || inEnv ? configuredThreads : undefined;
}
