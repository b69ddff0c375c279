/** Checks that --model points at a readable GGUF file. Messages echo the path only when it is relative. */
import { isAbsolute, resolve } from "node:path";
import type { ConfigFs } from "./config-fs.js";
import { makeEcho } from "./echo.js";
import type { Echo } from "./echo.js";

export type ModelFileResult = { ok: true; path: string } | { ok: false; error: string };

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return "UNKNOWN";
}

function unreadable(subject: string, code: string): ModelFileResult {
  const reason = code === "EACCES" || code === "EPERM" ? "permission denied" : code;
  return { ok: false, error: `${subject} cannot be read (${reason}); check its permissions` };
}

export function checkModelFile(typed: string, cwd: string, fs: ConfigFs, echo: Echo = makeEcho(null)): ModelFileResult {
  const path = resolve(cwd, typed);
  const shown = isAbsolute(typed) ? null : `'${echo(typed, 200)}'`;
  const file = shown === null ? "<model file>" : `model file ${shown}`;
  let stat;
  try {
    stat = fs.stat(path);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") {
      return {
        ok: false,
        error: `${file} does not exist; pass --model with the path to a .gguf file, or leave it out to use the embedded model`,
      };
    }
    return unreadable(file, code);
  }
  if (stat.isDirectory()) {
    const subject = shown === null ? "<model file>" : `model path ${shown}`;
    return { ok: false, error: `${subject} is a directory; pass the .gguf file inside it` };
  }
  if (!stat.isFile()) return { ok: false, error: `${file} is not a regular file; pass a .gguf file` };
  let head: Uint8Array;
  try {
    head = fs.readHead(path, GGUF_MAGIC.length);
  } catch (error) {
    return unreadable(file, errorCode(error));
  }
  if (head.length < GGUF_MAGIC.length || GGUF_MAGIC.some((byte, i) => head[i] !== byte)) {
    return {
      ok: false,
      error: `${file} is not a GGUF file (it does not start with the bytes 'GGUF'); pass a .gguf model, converting it with llama.cpp if needed`,
    };
  }
  return { ok: true, path };
}
