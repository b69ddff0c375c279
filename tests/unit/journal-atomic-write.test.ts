import { afterAll, describe, expect, test } from "vitest";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../src/harness/soak/atomic-write.js";
import { createMemoryFs } from "../../src/harness/soak/memory-fs.js";
import { nodeSoakFs } from "../../src/harness/soak/soak-fs.js";
import { openJournal, readJournal } from "../../src/harness/soak/journal.js";

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("journal-atomic-write", () => {
  test("replaces the file content and leaves no temporary file", async () => {
    const mem = createMemoryFs();
    mem.set("/out/summary.json", "old");
    await writeFileAtomic("/out/summary.json", '{"verdict":"pass"}', { fs: mem.fs });
    expect(text(mem.get("/out/summary.json"))).toBe('{"verdict":"pass"}');
    expect(mem.paths()).toEqual(["/out/summary.json"]);
  });

  test("the new content survives a simulated power loss right after it resolves", async () => {
    const mem = createMemoryFs();
    mem.set("/out/s.json", "old");
    await writeFileAtomic("/out/s.json", "new", { fs: mem.fs });
    mem.crash();
    expect(text(mem.get("/out/s.json"))).toBe("new");
  });

  test("an I/O error or power loss at any step leaves either the old or the new content", async () => {
    let rejected = 0;
    for (let failAt = 1; failAt <= 10; failAt++) {
      for (const tornWrite of [false, true]) {
        for (const crash of [false, true]) {
          const mem = createMemoryFs({ failAt, tornWrite });
          mem.set("/out/s.json", "old content");
          const ok = await writeFileAtomic("/out/s.json", "new content, longer", { fs: mem.fs }).then(
            () => true,
            () => false,
          );
          if (!ok) rejected++;
          if (crash) mem.crash();
          const now = text(mem.get("/out/s.json"));
          expect(["old content", "new content, longer"]).toContain(now);
          if (ok) expect(now).toBe("new content, longer");
          if (!crash && !ok) expect(mem.paths()).toEqual(["/out/s.json"]);
        }
      }
    }
    expect(rejected).toBeGreaterThan(10);
  });

  test("works against the real file system", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gauntlet-soak-"));
    dirs.push(dir);
    const target = join(dir, "summary.json");
    await writeFileAtomic(target, "one", { fs: nodeSoakFs });
    await writeFileAtomic(target, new TextEncoder().encode("two"), { fs: nodeSoakFs });
    expect(await readFile(target, "utf8")).toBe("two");
    expect(await readdir(dir)).toEqual(["summary.json"]);

    const journalPath = join(dir, "journal.jsonl");
    const j = await openJournal(journalPath, { fs: nodeSoakFs });
    const a = await j.append({ type: "meta", runId: "real" });
    const b = await j.append({ type: "window", index: 0 });
    await j.close();
    const r = await readJournal(journalPath, { fs: nodeSoakFs });
    expect(r.entries).toEqual([a, b]);
  });
});
