/**
 * Reads load/soak-profiles.json: `defaults` (every field optional, over built-in defaults) and
 * `presets` (each overrides the defaults field by field; a gate set to null drops a default gate).
 * Every problem in the file is collected, with its path. Format: see the file's $comment fields.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { closestMatch } from "../../config/suggest.js";
import { FieldChecker, describeValue, isObject } from "../scenarios/field-checker.js";
import type { Json } from "../scenarios/field-checker.js";
import { parseJsonFile } from "../scenarios/load-dir.js";
import { parseDuration, parseRate } from "./duration.js";
import { parseSoakGate } from "./metric-names.js";
import { BUILTIN_PROFILE, autoMemoryIntervalMs } from "./profile-types.js";
import type { DraftProfile, SoakProfile } from "./profile-types.js";

/** One validated section: only the fields it gave. */
export interface ProfileSection {
  description?: string;
  durationMs?: number;
  windowMs?: number;
  ratePerSecond?: number | null;
  concurrency?: number;
  requestTimeoutMs?: number;
  memoryIntervalMs?: number;
  workload?: Partial<SoakProfile["workload"]>;
  canary?: Partial<SoakProfile["canary"]>;
  server?: { args?: string[]; env?: Record<string, string> };
  verdict?: { memory?: Partial<SoakProfile["verdict"]["memory"]>; latency?: Partial<SoakProfile["verdict"]["latency"]>; maxEventLoopDelayP99Ms?: number; maxSendLatenessP99Ms?: number; maxForeignCpuPct?: number; maxLaggingWindowShare?: number };
  gates?: Record<string, string | null>;
}

export interface SoakProfiles {
  defaults: ProfileSection;
  presets: Record<string, ProfileSection>;
}

export const PROFILES_FILE = "soak-profiles.json";
const SECTION_KEYS = ["description", "duration", "window", "rate", "concurrency", "requestTimeout", "memoryInterval", "workload", "canary", "server", "verdict", "gates"];
const GATE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

function obj(c: FieldChecker, v: unknown, path: string): Json | null {
  if (v === undefined) return null;
  if (isObject(v)) return v;
  c.fail(path, `must be an object, got ${describeValue(v)}`);
  return null;
}

function duration(c: FieldChecker, raw: Json, key: string, path: string): number | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  const r = typeof v === "string" ? parseDuration(v) : { ok: false as const, error: `must be a duration string like "90s", "10m" or "4h", got ${describeValue(v)}` };
  if (!r.ok) c.fail(`${path}.${key}`, r.error);
  return r.ok ? r.ms : undefined;
}

/** Copies the fields present in `raw` through `read`, leaving absent ones out. */
function pick<T extends object>(raw: Json, keys: readonly (keyof T & string)[], read: (k: keyof T & string) => unknown): Partial<T> {
  const out: Partial<T> = {};
  for (const k of keys) if (raw[k] !== undefined) (out as Record<string, unknown>)[k] = read(k);
  return out;
}

function section(c: FieldChecker, raw: unknown, path: string, allowNullGates: boolean): ProfileSection {
  const s: ProfileSection = {};
  const r = obj(c, raw, path);
  if (!r) return s;
  c.unknownKeys(r, path, SECTION_KEYS);
  if (r.description !== undefined) s.description = c.str(r, "description", path);
  const d = duration(c, r, "duration", path);
  if (d !== undefined) s.durationMs = d;
  const w = duration(c, r, "window", path);
  if (w !== undefined) s.windowMs = w;
  if (w !== undefined && w < 1000) c.fail(`${path}.window`, "must be at least 1s");
  const t = duration(c, r, "requestTimeout", path);
  if (t !== undefined) s.requestTimeoutMs = t;
  const mi = duration(c, r, "memoryInterval", path);
  if (mi !== undefined) s.memoryIntervalMs = mi;
  if (r.rate === null || r.rate === "closed") s.ratePerSecond = null;
  else if (r.rate !== undefined) {
    const rate = parseRate(String(r.rate));
    if (!rate.ok || (typeof r.rate !== "string" && typeof r.rate !== "number")) c.fail(`${path}.rate`, rate.ok ? "must be a string like \"2/min\"" : `${rate.error}, or null for a closed loop`);
    else s.ratePerSecond = rate.perSecond;
  }
  if (r.concurrency !== undefined) s.concurrency = c.int(r, "concurrency", path, 1, 256);
  const wl = obj(c, r.workload, `${path}.workload`);
  if (wl) {
    const p = `${path}.workload`;
    c.unknownKeys(wl, p, ["streamShare", "repeatShare", "repeatPool", "promptSizes", "maxTokens", "temperature", "seed"]);
    s.workload = pick<SoakProfile["workload"]>(wl, ["streamShare", "repeatShare", "repeatPool", "maxTokens", "temperature", "seed"], (k) =>
      k === "repeatPool" ? c.int(wl, k, p, 1, 1000) : k === "maxTokens" ? c.int(wl, k, p, 1, 4096) : k === "seed" ? c.int(wl, k, p, 0, 2 ** 31 - 1)
        : k === "temperature" ? c.num(wl, k, p, 0, 2, 0.7) : c.num(wl, k, p, 0, 1, 0));
    if (wl.temperature === 0) c.fail(`${p}.temperature`, "fresh requests must not be cacheable (temperature > 0), or the response cache grows all run long; cache hits come from repeatShare");
    if (wl.promptSizes !== undefined) {
      const v = wl.promptSizes;
      if (Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 1 && x <= 512)) s.workload.promptSizes = v as number[];
      else c.fail(`${p}.promptSizes`, `must be a non-empty list of integers from 1 to 512 (repetitions of a filler sentence), got ${describeValue(v)}`);
    }
  }
  const cn = obj(c, r.canary, `${path}.canary`);
  if (cn) {
    c.unknownKeys(cn, `${path}.canary`, ["prompt", "maxTokens"]);
    s.canary = pick<SoakProfile["canary"]>(cn, ["prompt", "maxTokens"], (k) => (k === "prompt" ? c.str(cn, k, `${path}.canary`) : c.int(cn, k, `${path}.canary`, 1, 512)));
  }
  const sv = obj(c, r.server, `${path}.server`);
  if (sv) {
    c.unknownKeys(sv, `${path}.server`, ["args", "env"]);
    s.server = {};
    if (sv.args !== undefined) s.server.args = c.strings(sv, "args", `${path}.server`);
    const env = obj(c, sv.env, `${path}.server.env`);
    if (env) {
      if (Object.values(env).some((v) => typeof v !== "string")) c.fail(`${path}.server.env`, "values must be strings");
      else s.server.env = env as Record<string, string>;
    }
  }
  const vd = obj(c, r.verdict, `${path}.verdict`);
  if (vd) {
    const p = `${path}.verdict`;
    c.unknownKeys(vd, p, ["memory", "latency", "maxEventLoopDelayP99Ms", "maxSendLatenessP99Ms", "maxForeignCpuPct", "maxLaggingWindowShare"]);
    s.verdict = {};
    const m = obj(c, vd.memory, `${p}.memory`);
    if (m) {
      c.unknownKeys(m, `${p}.memory`, ["maxGrowthPct", "confidence", "minPostWarmupSamples"]);
      s.verdict.memory = pick<SoakProfile["verdict"]["memory"]>(m, ["maxGrowthPct", "confidence", "minPostWarmupSamples"], (k) =>
        k === "confidence" ? c.num(m, k, `${p}.memory`, 0.5, 0.999, 0.95) : k === "minPostWarmupSamples" ? c.int(m, k, `${p}.memory`, 5, 100_000) : c.num(m, k, `${p}.memory`, 0, 1e6, 20));
    }
    const l = obj(c, vd.latency, `${p}.latency`);
    if (l) {
      c.unknownKeys(l, `${p}.latency`, ["maxRatio", "maxConsecutiveBad", "minRequests"]);
      s.verdict.latency = pick<SoakProfile["verdict"]["latency"]>(l, ["maxRatio", "maxConsecutiveBad", "minRequests"], (k) =>
        k === "maxRatio" ? c.num(l, k, `${p}.latency`, 1, 1000, 2) : c.int(l, k, `${p}.latency`, k === "minRequests" ? 2 : 0, 1_000_000));
    }
    if (vd.maxEventLoopDelayP99Ms !== undefined) s.verdict.maxEventLoopDelayP99Ms = c.num(vd, "maxEventLoopDelayP99Ms", p, 1, 1e6, 200);
    if (vd.maxSendLatenessP99Ms !== undefined) s.verdict.maxSendLatenessP99Ms = c.num(vd, "maxSendLatenessP99Ms", p, 1, 1e6, 100);
    if (vd.maxForeignCpuPct !== undefined) s.verdict.maxForeignCpuPct = c.num(vd, "maxForeignCpuPct", p, 0, 100, 70);
    if (vd.maxLaggingWindowShare !== undefined) s.verdict.maxLaggingWindowShare = c.num(vd, "maxLaggingWindowShare", p, 0, 1, 0.05);
  }
  const g = obj(c, r.gates, `${path}.gates`);
  if (g) {
    s.gates = {};
    for (const [name, expr] of Object.entries(g)) {
      if (name.startsWith("$")) continue;
      const at = `${path}.gates.${name}`;
      if (!GATE_NAME.test(name)) c.fail(at, "gate names are lower-case letters, digits and '-'");
      if (expr === null && allowNullGates) s.gates[name] = null;
      else if (typeof expr !== "string") c.fail(at, `must be a gate expression string${allowNullGates ? " (or null to drop a default)" : ""}, got ${describeValue(expr)}`);
      else {
        const parsed = parseSoakGate(expr);
        if (parsed.ok) s.gates[name] = expr;
        else c.fail(at, parsed.problem);
      }
    }
  }
  return s;
}

export type ProfilesResult = { ok: true; profiles: SoakProfiles } | { ok: false; errors: string[] };

export function validateSoakProfiles(raw: unknown, file: string): ProfilesResult {
  const c = new FieldChecker(file);
  if (!isObject(raw)) return { ok: false, errors: [`${file}: $: must be a JSON object with "defaults" and "presets"`] };
  c.unknownKeys(raw, "$", ["defaults", "presets"]);
  const defaults = section(c, raw.defaults, "$.defaults", false);
  const presets: Record<string, ProfileSection> = {};
  const rawPresets = obj(c, raw.presets, "$.presets") ?? {};
  for (const [name, p] of Object.entries(rawPresets)) {
    if (name.startsWith("$")) continue;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(name)) c.fail(`$.presets.${name}`, "preset names are letters, digits, '.', '_' and '-'");
    presets[name] = section(c, p, `$.presets.${name}`, true);
  }
  return c.errors.length > 0 ? { ok: false, errors: c.errors } : { ok: true, profiles: { defaults, presets } };
}

export async function loadSoakProfiles(dir: string): Promise<ProfilesResult> {
  const file = join(dir, PROFILES_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`] };
  }
  const parsed = parseJsonFile(text, file);
  return parsed.ok ? validateSoakProfiles(parsed.value, file) : { ok: false, errors: [parsed.error] };
}

function merge(base: DraftProfile, s: ProfileSection): DraftProfile {
  const gates: Record<string, string> = { ...base.gates };
  for (const [k, v] of Object.entries(s.gates ?? {})) {
    if (v === null) delete gates[k];
    else gates[k] = v;
  }
  return {
    ...base,
    ...(s.description !== undefined ? { description: s.description } : {}),
    ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
    ...(s.windowMs !== undefined ? { windowMs: s.windowMs } : {}),
    ...(s.ratePerSecond !== undefined ? { ratePerSecond: s.ratePerSecond } : {}),
    ...(s.concurrency !== undefined ? { concurrency: s.concurrency } : {}),
    ...(s.requestTimeoutMs !== undefined ? { requestTimeoutMs: s.requestTimeoutMs } : {}),
    ...(s.memoryIntervalMs !== undefined ? { memoryIntervalMs: s.memoryIntervalMs } : {}),
    workload: { ...base.workload, ...s.workload },
    canary: { ...base.canary, ...s.canary },
    server: { args: s.server?.args ?? base.server.args, env: s.server?.env ?? base.server.env },
    verdict: {
      ...base.verdict,
      ...(s.verdict?.maxEventLoopDelayP99Ms !== undefined ? { maxEventLoopDelayP99Ms: s.verdict.maxEventLoopDelayP99Ms } : {}),
      ...(s.verdict?.maxSendLatenessP99Ms !== undefined ? { maxSendLatenessP99Ms: s.verdict.maxSendLatenessP99Ms } : {}),
      ...(s.verdict?.maxForeignCpuPct !== undefined ? { maxForeignCpuPct: s.verdict.maxForeignCpuPct } : {}),
      ...(s.verdict?.maxLaggingWindowShare !== undefined ? { maxLaggingWindowShare: s.verdict.maxLaggingWindowShare } : {}),
      memory: { ...base.verdict.memory, ...s.verdict?.memory },
      latency: { ...base.verdict.latency, ...s.verdict?.latency },
    },
    gates,
  };
}

export type ResolvedProfile = { ok: true; profile: SoakProfile } | { ok: false; error: string };

export type ProfileOverrides = Pick<ProfileSection, "durationMs" | "windowMs" | "ratePerSecond" | "concurrency">;

/** Built-in defaults, then the file's defaults, then the preset (null: none), then command-line overrides. */
export function resolveProfile(profiles: SoakProfiles, preset: string | null, overrides: ProfileOverrides = {}): ResolvedProfile {
  let p = merge({ ...BUILTIN_PROFILE }, profiles.defaults);
  if (preset !== null) {
    const s = profiles.presets[preset];
    if (!s) {
      const names = Object.keys(profiles.presets);
      const guess = closestMatch(preset, names);
      return { ok: false, error: `unknown preset ${JSON.stringify(preset)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}; presets: ${names.join(", ") || "none"}` };
    }
    p = { ...merge(p, s), name: preset };
  }
  p = merge(p, overrides);
  return { ok: true, profile: { ...p, memoryIntervalMs: p.memoryIntervalMs ?? autoMemoryIntervalMs(p.windowMs) } };
}
