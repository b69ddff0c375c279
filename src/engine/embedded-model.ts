/**
 * The embedded tiny model: generated once into a cache directory (atomically), then verified by
 * SHA-256 against the generator's output on every later call and rewritten if it differs.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  DEFAULT_TINY_CONTEXT_LENGTH,
  DEFAULT_TINY_MODEL_SEED,
  TINY_MODEL_PRESETS,
  type TinyModelPreset,
  writeTinyModel,
} from "./gguf/writer.js";

/** Bumped whenever the generator's output changes, so old cache files are not mistaken for new ones. */
export const EMBEDDED_MODEL_FORMAT_VERSION = 1;

export interface EmbeddedModelOptions {
  /** Default 42. */
  seed?: number;
  /** Leave eos unsuppressed so generation can stop naturally. Default false. */
  allowEos?: boolean;
  /** Multi-byte UTF-8 output (é, CJK, emoji split across tokens). Default false. */
  multiByte?: boolean;
  /** Default 4096. */
  contextLength?: number;
}

export interface EmbeddedModel {
  path: string;
  /** Hex SHA-256 of the file. */
  sha256: string;
  /** Whether this call wrote the file (first use or repair). */
  created: boolean;
}

interface Expected {
  sha256: string;
  size: number;
}

/** Expected hash and size per file name, so each variant is generated at most once per process to learn them. */
const expectedByName = new Map<string, Expected>();
/** In-flight calls per target path, so concurrent callers share one write. */
const inFlight = new Map<string, Promise<EmbeddedModel>>();

/** The model id served for a preset, e.g. "gauntlet-tiny". */
export function embeddedModelId(preset: TinyModelPreset): string {
  return `gauntlet-${preset}`;
}

/** File name of a variant, e.g. "gauntlet-tiny-42-v1.gguf", "gauntlet-tiny-eos-42-v1.gguf" or "gauntlet-tiny-utf8-42-v1.gguf". */
export function embeddedModelFileName(preset: TinyModelPreset, opts: EmbeddedModelOptions = {}): string {
  const seed = opts.seed ?? DEFAULT_TINY_MODEL_SEED;
  const ctx = opts.contextLength ?? DEFAULT_TINY_CONTEXT_LENGTH;
  const eos = opts.allowEos ? "-eos" : "";
  const utf8 = opts.multiByte ? "-utf8" : "";
  const ctxPart = ctx === DEFAULT_TINY_CONTEXT_LENGTH ? "" : `-ctx${ctx}`;
  return `${embeddedModelId(preset)}${eos}${utf8}${ctxPart}-${seed}-v${EMBEDDED_MODEL_FORMAT_VERSION}.gguf`;
}

function generate(preset: TinyModelPreset, opts: EmbeddedModelOptions): Buffer {
  return writeTinyModel({
    preset,
    seed: opts.seed ?? DEFAULT_TINY_MODEL_SEED,
    allowEos: opts.allowEos ?? false,
    multiByte: opts.multiByte ?? false,
    contextLength: opts.contextLength ?? DEFAULT_TINY_CONTEXT_LENGTH,
    name: embeddedModelId(preset),
  });
}

function sha256Of(buf: Buffer): string {
  return createHash("sha256").update(buf).digest("hex");
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Hash of the file at `path` if it exists with the expected size, else undefined. */
async function currentSha(path: string, size: number): Promise<string | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size !== size) return undefined;
    return await sha256OfFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Writes `data` to `path` atomically: temp file in the same directory, fsync, rename, fsync the directory. */
async function writeAtomic(path: string, dir: string, data: Buffer): Promise<void> {
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}.gguf`);
  try {
    const fh = await open(tmp, "wx");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  try {
    const dh = await open(dir, "r");
    await dh.sync().finally(() => dh.close());
  } catch {
    // Directory fsync is best effort (not supported on every platform/filesystem).
  }
}

async function ensure(cacheDir: string, preset: TinyModelPreset, opts: EmbeddedModelOptions): Promise<EmbeddedModel> {
  const fileName = embeddedModelFileName(preset, opts);
  const path = join(cacheDir, fileName);
  await mkdir(cacheDir, { recursive: true });

  let generated: Buffer | undefined;
  let expected = expectedByName.get(fileName);
  if (!expected) {
    generated = generate(preset, opts);
    expected = { sha256: sha256Of(generated), size: generated.length };
    expectedByName.set(fileName, expected);
  }
  if ((await currentSha(path, expected.size)) === expected.sha256) {
    return { path, sha256: expected.sha256, created: false };
  }
  await writeAtomic(path, cacheDir, generated ?? generate(preset, opts));
  return { path, sha256: expected.sha256, created: true };
}

/** File-system errors carry absolute paths; report the errno and what to check instead. */
function cacheError(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string") return err;
  return new Error(
    `cannot prepare the embedded model in the cache directory (${code}): check that the cache directory is a writable directory with free space`,
    { cause: err },
  );
}

/**
 * Makes sure the preset's model file exists in `cacheDir` with the right content and returns its
 * path and SHA-256. Creates the directory if needed.
 */
export async function ensureEmbeddedModel(
  cacheDir: string,
  preset: TinyModelPreset,
  opts: EmbeddedModelOptions = {},
): Promise<EmbeddedModel> {
  if (!Object.hasOwn(TINY_MODEL_PRESETS, preset)) {
    throw new RangeError(`unknown embedded model preset '${String(preset)}'; use one of ${Object.keys(TINY_MODEL_PRESETS).join(", ")}`);
  }
  const key = join(cacheDir, embeddedModelFileName(preset, opts));
  const pending = inFlight.get(key);
  if (pending) return pending;
  const run = ensure(cacheDir, preset, opts)
    .catch((err: unknown) => {
      throw cacheError(err);
    })
    .finally(() => inFlight.delete(key));
  inFlight.set(key, run);
  return run;
}
