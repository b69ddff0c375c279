import * as fsp from "node:fs/promises";

/** GitHub rejects a step summary larger than 1 MiB. */
export const GITHUB_SUMMARY_LIMIT_BYTES = 1024 * 1024;

const NOTE = "\n> ⚠️ Summary truncated to fit GitHub's 1 MiB limit; see report.md for the rest.\n";

export interface SummaryFs {
  appendFile(path: string, data: string): Promise<void>;
}

/** Cuts markdown at a line boundary so that it plus the truncation note fits in `limit` bytes. */
export function fitSummary(markdown: string, limit = GITHUB_SUMMARY_LIMIT_BYTES): string {
  const text = markdown.endsWith("\n") ? markdown : `${markdown}\n`;
  if (Buffer.byteLength(text) <= limit) return text;
  const budget = limit - Buffer.byteLength(NOTE);
  let cut = Buffer.from(text).subarray(0, Math.max(0, budget)).toString("utf8");
  cut = cut.replace(/\uFFFD$/, "");
  const lastNewline = cut.lastIndexOf("\n");
  cut = lastNewline >= 0 ? cut.slice(0, lastNewline + 1) : "";
  return `${cut}${NOTE}`;
}

/**
 * Appends markdown to the GitHub Actions step summary file. The caller passes the path
 * (the value of GITHUB_STEP_SUMMARY); library code reads no environment.
 */
export async function appendGithubSummary(markdown: string, path: string, options: { fs?: SummaryFs } = {}): Promise<void> {
  if (path === "") throw new TypeError("appendGithubSummary needs the summary file path (GITHUB_STEP_SUMMARY)");
  const fs = options.fs ?? { appendFile: (p: string, d: string) => fsp.appendFile(p, d, "utf8") };
  await fs.appendFile(path, fitSummary(markdown));
}
