/**
 * A small tmpfs for a real "no space left on device": mounted only when the harness runs as root on
 * Linux (mount(8) must succeed), always unmounted by the caller (lazily if it is still busy).
 * Also the filler that takes every free byte of it, and gives them back.
 */
import { execFile } from "node:child_process";
import { open, rm } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Tmpfs {
  dir: string;
  sizeBytes: number;
  unmount(): Promise<void>;
}

export type TmpfsResult = { ok: true; tmpfs: Tmpfs } | { ok: false; reason: string };

export async function mountTmpfs(dir: string, sizeBytes: number): Promise<TmpfsResult> {
  if (process.platform !== "linux") return { ok: false, reason: "not Linux" };
  if (process.getuid?.() !== 0) return { ok: false, reason: "not root (mounting a tmpfs needs it)" };
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0755`, "tmpfs", dir], { timeout: 10_000 });
  } catch (err) {
    return { ok: false, reason: `mount failed: ${String((err as Error).message).split("\n")[0]}` };
  }
  let mounted = true;
  return {
    ok: true,
    tmpfs: {
      dir,
      sizeBytes,
      async unmount() {
        if (!mounted) return;
        try {
          await run("umount", [dir], { timeout: 10_000 });
        } catch {
          await run("umount", ["-l", dir], { timeout: 10_000 });
        }
        mounted = false;
      },
    },
  };
}

/** Writes `path` until the file system says ENOSPC; returns the bytes taken. Throws on other errors. */
export async function fillDisk(path: string): Promise<number> {
  const handle = await open(path, "w");
  let taken = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const block = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          const { bytesWritten } = await handle.write(block);
          taken += bytesWritten;
          if (bytesWritten < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  return taken;
}

export async function freeDisk(path: string): Promise<void> {
  await rm(path, { force: true });
}
