/**
 * Headless Chromium for the report tests (Debian's chromium package; CHROMIUM_PATH overrides, e.g.
 * /usr/bin/google-chrome on GitHub's runners). Required when CI is set; skipped with a reason elsewhere.
 *
 * The network is off for real, not only by the page's Content-Security-Policy: every host resolves to
 * nothing and every connection goes to a proxy that does not exist. Console messages are captured from
 * Chromium's own log (--enable-logging=stderr), so any console.error/warn/log of the page is visible.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { TestContext } from "vitest";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = Boolean(process.env.CI);
const NO_CHROMIUM = `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH); required when CI is set`;

export function requireChromium(ctx: TestContext): void {
  ctx.skip(!HAS_CHROMIUM && !IN_CI, NO_CHROMIUM);
  expect(HAS_CHROMIUM, NO_CHROMIUM).toBe(true);
}

export interface ChromiumRun {
  stdout: string;
  /** Lines the page wrote to its console (Chromium's "CONSOLE(n)" log lines). */
  console: string[];
}

export function chromium(workDir: string, ...args: string[]): ChromiumRun {
  const profile = mkdtempSync(join(workDir, "profile-"));
  const r = spawnSync(
    CHROMIUM,
    [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`,
      // Network off: no name resolves, and anything that tries to connect goes to a dead proxy.
      "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
      "--enable-logging=stderr", "--v=0",
      ...args,
    ],
    { encoding: "utf8", timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  expect(r.error, String(r.error)).toBeUndefined();
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  return { stdout: r.stdout, console: r.stderr.split("\n").filter((l) => /:CONSOLE[:(]\d+\)?\]|Uncaught/.test(l)) };
}

/** The rendered DOM and the attributes of its <body> after the page's inline script ran. */
export function render(workDir: string, url: string): { dom: string; body: Record<string, string>; console: string[] } {
  const run = chromium(workDir, "--dump-dom", url);
  const tag = /<body\b([^>]*)>/.exec(run.stdout)?.[1];
  expect(tag, "no <body> in the dumped DOM").toBeDefined();
  return { dom: run.stdout, body: Object.fromEntries([...tag!.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])), console: run.console };
}
