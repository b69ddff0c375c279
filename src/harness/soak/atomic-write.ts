/**
 * writeFileAtomic: replace a file so that readers and a power loss see either the
 * old or the new content, never a mix: write a temporary sibling, fsync it, rename
 * it over the target, fsync the directory. On failure the temporary file is removed
 * (best effort) and the error propagates.
 */
import { randomBytes } from "node:crypto";
import { syncParentDirectory } from "./soak-fs.js";
import type { SoakFileHandle, SoakFs } from "./soak-fs.js";

export async function writeFileAtomic(path: string, data: string | Uint8Array, { fs }: { fs: SoakFs }): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  let handle: SoakFileHandle | null = null;
  try {
    handle = await fs.open(temp, "w");
    await handle.writeFile(data);
    await handle.sync();
    const h = handle;
    handle = null;
    await h.close();
    await fs.rename(temp, path);
  } catch (err) {
    if (handle !== null) await handle.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncParentDirectory(fs, path);
}
