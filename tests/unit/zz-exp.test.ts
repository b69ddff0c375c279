import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "vitest";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import type { CacheFs } from "../../src/cache/cache-fs.js";
import { FaultInjectingFs } from "../../src/cache/fault-injecting-fs.js";
import { standInEngine, startInProcess } from "../../src/harness/chaos/in-process.js";
class Spy implements CacheFs {
  failed: string[] = []; ops: string[] = [];
  constructor(private i: CacheFs) {}
  w<T>(op: string, p: string, f: () => Promise<T>) { this.ops.push(op); return f().catch((e) => { if (e.code === "EIO") this.failed.push(`${op} ${p.split("/").slice(-2).join("/")}`); throw e; }); }
  mkdir = (p: string, o: any) => this.w("mkdir", p, () => this.i.mkdir(p, o));
  readdir = (p: string) => this.w("readdir", p, () => this.i.readdir(p));
  rename = (a: string, b: string) => this.w("rename", b, () => this.i.rename(a, b));
  unlink = (p: string) => this.w("unlink", p, () => this.i.unlink(p));
  stat = (p: string) => this.w("stat", p, () => this.i.stat(p));
  async open(p: string, f: string, m?: number) { const h = await this.w(`open(${f})`, p, () => this.i.open(p, f, m)); return { writeFile: (d: Uint8Array) => this.w("write", p, () => h.writeFile(d)), readFile: () => this.w("read", p, () => h.readFile()), stat: () => this.w("fstat", p, () => h.stat()), sync: () => this.w("sync", p, () => h.sync()), close: () => this.w("close", p, () => h.close()) }; }
}
test("x", async () => {
  const engine = standInEngine();
  const root = mkdtempSync(join(tmpdir(), "exp-"));
  const base = join(root, "base");
  let s = await startInProcess(base, nodeCacheFs, engine); await s.settled(); await s.ask("sweep seeded A"); await s.ask("sweep seeded B"); await s.close();
  for (let n = 1; n <= 52; n++) {
    const dir = join(root, `n${n}`); cpSync(base, dir, { recursive: true });
    const fi = new FaultInjectingFs(nodeCacheFs); fi.inject({ op: "any", code: "EIO", after: n, times: 1 });
    const spy = new Spy(fi);
    s = await startInProcess(dir, spy, engine); await s.settled();
    for (const c of ["sweep seeded A", "sweep new C", "sweep seeded B", "sweep new C", "sweep new D"]) await s.ask(c);
    const m = (await s.app.inject({ method: "GET", url: "/metrics" })).body.split("\n").filter((l) => /corruptions_total\{reason="io"\}|errors_total/.test(l)).join(" ");
    await s.close();
    const logs = s.logs.map((l) => { const o = JSON.parse(l); return `${o.msg} ${o.code} ${o.op}`; });
    if (logs.length === 0 && spy.failed.length) console.log(n, "SILENT", spy.failed, m);
  }
});
