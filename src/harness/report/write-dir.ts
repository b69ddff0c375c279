import { randomUUID } from "node:crypto";
import * as fsp from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { toHtml } from "./html.js";
import { toJunitXml } from "./junit.js";
import type { JunitOptions } from "./junit.js";
import { toReportJson } from "./json.js";
import { toMarkdown } from "./markdown.js";
import type { RunReport } from "./types.js";
import { validateReport } from "./validate.js";

/** The file operations writeReportDir needs; node:fs/promises (with fsync before rename) by default. */
export interface ReportFs {
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  writeFile(path: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  rm(path: string, options: { force: true }): Promise<void>;
}

export interface WriteReportDirOptions {
  fs?: ReportFs;
  junit?: JunitOptions;
  /** Name of the symlink in the parent directory (default "latest"). */
  latestName?: string;
}

export interface WrittenReport {
  dir: string;
  files: { json: string; markdown: string; junit: string; html: string };
  /** Path of the updated symlink, or null when it could not be updated (see warnings). */
  latest: string | null;
  /** validateReport() problems; the files are written regardless, so a long run is never lost. */
  problems: string[];
  warnings: string[];
}

const nodeFs: ReportFs = {
  mkdir: (p, o) => fsp.mkdir(p, o),
  async writeFile(p, data) {
    const handle = await fsp.open(p, "w");
    try {
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (a, b) => fsp.rename(a, b),
  symlink: (t, p) => fsp.symlink(t, p),
  rm: (p, o) => fsp.rm(p, o),
};

const tempName = (target: string): string => `${target}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;

/**
 * Writes report.json, report.md, junit.xml and report.html into `dir`. Every file is written to a
 * temporary name first and renamed into place only once all four were written, so readers see
 * either the old or the new file, never a torn one. Then `<parent>/latest` is atomically pointed
 * at `dir` (relative symlink), unless something other than a symlink already has that name.
 */
export async function writeReportDir(dir: string, report: RunReport, options: WriteReportDirOptions = {}): Promise<WrittenReport> {
  const fs = options.fs ?? nodeFs;
  const abs = resolve(dir);
  await fs.mkdir(abs, { recursive: true });
  const files = {
    json: join(abs, "report.json"),
    markdown: join(abs, "report.md"),
    junit: join(abs, "junit.xml"),
    html: join(abs, "report.html"),
  };
  const contents: [string, string][] = [
    [files.json, toReportJson(report)],
    [files.markdown, toMarkdown(report)],
    [files.junit, toJunitXml(report, options.junit)],
    [files.html, toHtml(report)],
  ];
  const temps: [string, string][] = [];
  try {
    for (const [target, data] of contents) {
      const temp = tempName(target);
      temps.push([temp, target]);
      await fs.writeFile(temp, data);
    }
    for (const [temp, target] of temps) await fs.rename(temp, target);
  } catch (err) {
    await Promise.all(temps.map(([temp]) => fs.rm(temp, { force: true }).catch(() => undefined)));
    throw err;
  }
  const warnings: string[] = [];
  const latest = await pointLatest(fs, abs, options.latestName ?? "latest", warnings);
  return { dir: abs, files, latest, problems: validateReport(report), warnings };
}

async function pointLatest(fs: ReportFs, abs: string, name: string, warnings: string[]): Promise<string | null> {
  const link = join(dirname(abs), name);
  const temp = tempName(link);
  try {
    await fs.symlink(basename(abs), temp);
    await fs.rename(temp, link);
    return link;
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    warnings.push(`could not point ${link} at ${basename(abs)}: ${(err as Error).message}`);
    return null;
  }
}
