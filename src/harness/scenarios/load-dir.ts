/**
 * Reads a load directory: `scenarios/*.json` (one scenario per file) and `thresholds.json`.
 * Every problem in every file is collected, so one run of the command lists all there is to fix.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { closestMatch } from "../../config/suggest.js";
import type { ScenarioDef, ThresholdsDef } from "./types.js";
import { validateScenario } from "./validate-scenario.js";
import { validateThresholds } from "./validate-thresholds.js";

export interface LoadDefinitions {
  scenarios: ScenarioDef[];
  thresholds: ThresholdsDef;
}

export type LoadDirResult = { ok: true; defs: LoadDefinitions } | { ok: false; errors: string[] };

/** JSON.parse with a message that gives line and column instead of a bare offset. */
export function parseJsonFile(text: string, file: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let where = "";
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split("\n").length;
      where = ` at line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
    }
    return { ok: false, error: `${file}: not valid JSON${where}: ${msg.replace(/ in JSON at position \d+.*$/, "")}` };
  }
}

async function readJson(path: string, shown: string, errors: string[]): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    errors.push(`${shown}: cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    return undefined;
  }
  const parsed = parseJsonFile(text, shown);
  if (!parsed.ok) errors.push(parsed.error);
  return parsed.ok ? parsed.value : undefined;
}

/** `shownDir` is how the directory is named in messages (e.g. "load"). */
export async function loadDefinitions(dir: string, shownDir = dir): Promise<LoadDirResult> {
  const errors: string[] = [];
  let files: string[] = [];
  try {
    files = (await readdir(join(dir, "scenarios"))).filter((f) => f.endsWith(".json")).sort();
  } catch {
    errors.push(`${shownDir}/scenarios: no such directory; scenarios live in ${shownDir}/scenarios/<name>.json`);
  }
  const scenarios: ScenarioDef[] = [];
  for (const f of files) {
    const shown = `${shownDir}/scenarios/${f}`;
    const raw = await readJson(join(dir, "scenarios", f), shown, errors);
    if (raw === undefined) continue;
    const r = validateScenario(raw, shown);
    if (r.ok) scenarios.push(r.scenario);
    else errors.push(...r.errors);
  }
  const tShown = `${shownDir}/thresholds.json`;
  const rawThresholds = await readJson(join(dir, "thresholds.json"), tShown, errors);
  let thresholds: ThresholdsDef | null = null;
  if (rawThresholds !== undefined) {
    const t = validateThresholds(rawThresholds, tShown);
    if (t.ok) thresholds = t.thresholds;
    else errors.push(...t.errors);
  }
  if (thresholds && files.length > 0) {
    const names = scenarios.map((s) => s.name);
    for (const name of Object.keys(thresholds.scenarios)) {
      if (names.includes(name) || errors.some((e) => e.includes(`/${name}.json`))) continue;
      const guess = closestMatch(name, names);
      errors.push(`${tShown}: $.scenarios.${name}: names no scenario in ${shownDir}/scenarios${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}`);
    }
  }
  if (errors.length > 0 || thresholds === null) return { ok: false, errors };
  return { ok: true, defs: { scenarios, thresholds } };
}

/** Picks scenarios by name (in the order given) or, with no names, by tag (or all with no tag). */
export function selectScenarios(all: readonly ScenarioDef[], names: readonly string[], tag?: string): { ok: true; scenarios: ScenarioDef[] } | { ok: false; error: string } {
  if (names.length === 0) {
    const picked = tag === undefined ? [...all] : all.filter((s) => s.tags.includes(tag));
    if (picked.length === 0) return { ok: false, error: tag === undefined ? "no scenarios defined" : `no scenario is tagged ${JSON.stringify(tag)}` };
    return { ok: true, scenarios: picked };
  }
  const out: ScenarioDef[] = [];
  for (const name of names) {
    const s = all.find((x) => x.name === name);
    if (!s) {
      const guess = closestMatch(name, all.map((x) => x.name));
      return { ok: false, error: `unknown scenario ${JSON.stringify(name)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}; known: ${all.map((x) => x.name).join(", ")}` };
    }
    if (!out.includes(s)) out.push(s);
  }
  return { ok: true, scenarios: out };
}
