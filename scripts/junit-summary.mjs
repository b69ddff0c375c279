#!/usr/bin/env node
// Closing lines for CI: per JUnit file, the count of tests passed, failed and skipped, then every failed
// test by file and name with the first lines of its failure, so the end of a long CI log says what broke.
// Usage: node scripts/junit-summary.mjs <junit.xml>...   Exit code: 0 (a summary never fails CI itself).
import { existsSync, readFileSync } from "node:fs";

const decode = (s) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, "&");

const attr = (tag, name) => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? decode(m[1]) : "";
};

export function summarise(xml) {
  const cases = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m; (m = re.exec(xml)); ) {
    const head = m[1];
    const body = m[3] ?? "";
    const failure = /<(failure|error)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    cases.push({
      file: attr(head, "classname"),
      name: attr(head, "name"),
      skipped: /<skipped\b/.test(body),
      failure: failure
        ? decode(`${attr(failure[2], "message")}\n${failure[4] ?? ""}`).trim()
        : undefined,
    });
  }
  const failed = cases.filter((c) => c.failure !== undefined);
  const skipped = cases.filter((c) => c.skipped && c.failure === undefined);
  return { total: cases.length, failed, skipped: skipped.length, passed: cases.length - failed.length - skipped.length };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  for (const file of process.argv.slice(2)) {
    if (!existsSync(file)) {
      console.log(`${file}: missing (its tier did not run or did not finish)`);
      continue;
    }
    const s = summarise(readFileSync(file, "utf8"));
    console.log(`${file}: ${s.passed} passed, ${s.failed.length} failed, ${s.skipped} skipped`);
    for (const f of s.failed) {
      const lines = f.failure.split("\n").filter((l) => l.trim() !== "").slice(0, 6);
      console.log(`  ✗ ${f.file} › ${f.name}`);
      for (const l of lines) console.log(`      ${l.slice(0, 300)}`);
    }
  }
}
