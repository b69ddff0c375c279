/**
 * Deterministic generator of a small llama-architecture GGUF v3 model with seeded random f32
 * weights. Same options => byte-identical file.
 *
 * Residual channel 0 is held constant (embedding channel 0 = 1, row 0 of attn_output and ffn_down
 * = 0), so after the final RMS norm channel 0 is always positive. The output rows of control and
 * non-printable tokens get a large negative weight on channel 0: generated text is then printable
 * ASCII and runs to max_tokens. With `allowEos` the eos token `<|im_end|>` is left unsuppressed
 * (with a small bias), so natural stops happen.
 *
 * With `multiByte` the tokenizer has whole- and part-character tokens (see tokenizer.ts) and the
 * model writes valid multi-byte UTF-8 split across tokens: residual channel 1 is held to the
 * current token's embedding (+1 for a "lead" token that lacks one continuation byte, -1 otherwise;
 * row 1 of attn_output and ffn_down = 0), and the output rows weigh channel 1 so that a lead is
 * always followed by a continuation byte and nothing else ever is.
 */
import { alignUp, GGUF_DEFAULT_ALIGNMENT } from "./constants.js";
import { encodeGguf, type F32TensorSpec, type GgufKv } from "./encoder.js";
import { deriveSeed, mulberry32 } from "./prng.js";
import { buildTinyTokenizer, CHATML_TEMPLATE, type TinyTokenizer } from "./tokenizer.js";

export type TinyModelPreset = "tiny" | "small" | "medium";

export interface TinyModelDims {
  embeddingLength: number;
  blockCount: number;
  headCount: number;
}

export const TINY_MODEL_PRESETS: Readonly<Record<TinyModelPreset, Readonly<TinyModelDims>>> = {
  tiny: { embeddingLength: 64, blockCount: 2, headCount: 4 },
  small: { embeddingLength: 256, blockCount: 4, headCount: 4 },
  medium: { embeddingLength: 512, blockCount: 8, headCount: 8 },
};

export const DEFAULT_TINY_MODEL_SEED = 42;
export const DEFAULT_TINY_CONTEXT_LENGTH = 4096;

export interface TinyModelOptions extends Partial<TinyModelDims> {
  /** Base dimensions; explicit dims override them. Default "tiny". */
  preset?: TinyModelPreset;
  /** Unsigned 32-bit integer. Default 42. */
  seed?: number;
  /** llama.context_length. Default 4096. */
  contextLength?: number;
  /** Leave the eos token `<|im_end|>` unsuppressed so generation can stop naturally. Default false. */
  allowEos?: boolean;
  /** Whole- and part-character tokens; generated text is multi-byte UTF-8 split across tokens. Default false. */
  multiByte?: boolean;
  /** general.name. Default "gauntlet-<preset>". */
  name?: string;
  /** FFN width. Default 8E/3 rounded up to a multiple of 32. */
  feedForwardLength?: number;
}

/** Weight on output channel 0 for tokens that must never be generated. */
export const SUPPRESS_WEIGHT = -1000;
/** Channel-0 output weight of eos with `allowEos`: on the tiny preset about half of greedy answers stop within 48 tokens. */
const EOS_BIAS = 2.5;
/** Channel-1 output weight of the multi-byte variant: continuation bytes after a lead, nothing else. */
const LEAD_WEIGHT = 100;
/** Channel-0 output bias of multi-byte "text" and "lead" tokens, so that they come up often. */
const MULTIBYTE_BIAS = 1;
const EMBD_STD = 1;
const QK_STD = 1.5;
const PROJ_STD = 1;
const LOGIT_STD = 3;
const RMS_EPS = 1e-5;
const ROPE_FREQ_BASE = 10000;

interface ResolvedOptions extends TinyModelDims {
  preset: TinyModelPreset;
  seed: number;
  contextLength: number;
  allowEos: boolean;
  multiByte: boolean;
  name: string;
  feedForwardLength: number;
}

function positiveInt(value: number, what: string, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${what} must be an integer from 1 to ${max}, got ${value}`);
  }
  return value;
}

function resolve(opts: TinyModelOptions): ResolvedOptions {
  const preset = opts.preset ?? "tiny";
  const base = TINY_MODEL_PRESETS[preset];
  if (!base) throw new RangeError(`preset must be one of ${Object.keys(TINY_MODEL_PRESETS).join(", ")}, got ${preset}`);
  const embeddingLength = positiveInt(opts.embeddingLength ?? base.embeddingLength, "embeddingLength", 8192);
  const blockCount = positiveInt(opts.blockCount ?? base.blockCount, "blockCount", 64);
  const headCount = positiveInt(opts.headCount ?? base.headCount, "headCount", 128);
  if (embeddingLength % headCount !== 0 || (embeddingLength / headCount) % 2 !== 0) {
    throw new RangeError(
      `embeddingLength (${embeddingLength}) must be divisible by headCount (${headCount}) into an even head size`,
    );
  }
  const seed = opts.seed ?? DEFAULT_TINY_MODEL_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an unsigned 32-bit integer, got ${seed}`);
  }
  const ffDefault = alignUp(Math.ceil((8 * embeddingLength) / 3), 32);
  return {
    preset,
    embeddingLength,
    blockCount,
    headCount,
    seed,
    contextLength: positiveInt(opts.contextLength ?? DEFAULT_TINY_CONTEXT_LENGTH, "contextLength", 1 << 20),
    allowEos: opts.allowEos ?? false,
    multiByte: opts.multiByte ?? false,
    name: opts.name ?? `gauntlet-${preset}`,
    feedForwardLength: positiveInt(opts.feedForwardLength ?? ffDefault, "feedForwardLength", 65536),
  };
}

/** Uniform noise with standard deviation `std`. */
function noise(rand: () => number, std: number): number {
  return (rand() * 2 - 1) * std * Math.sqrt(3);
}

/** Seeded noise; the first `zeroRows` rows (output channels) are 0. */
function randomTensor(name: string, dims: readonly number[], seed: number, std: number, zeroRows = 0): F32TensorSpec {
  return {
    name,
    dims,
    fill(out) {
      const rand = mulberry32(seed);
      const zeros = (dims[0] ?? 1) * zeroRows;
      for (let i = 0; i < out.length; i++) out[i] = i < zeros ? 0 : noise(rand, std);
    },
  };
}

function onesTensor(name: string, n: number): F32TensorSpec {
  return { name, dims: [n], fill: (out) => out.fill(1) };
}

function embeddingTensor(o: ResolvedOptions, tok: TinyTokenizer, seed: number): F32TensorSpec {
  const e = o.embeddingLength;
  return {
    name: "token_embd.weight",
    dims: [e, tok.tokens.length],
    fill(out) {
      const rand = mulberry32(seed);
      for (let i = 0; i < out.length; i++) {
        if (i % e === 0) out[i] = 1;
        else if (o.multiByte && i % e === 1) out[i] = tok.kinds[Math.floor(i / e)] === "lead" ? 1 : -1;
        else out[i] = noise(rand, EMBD_STD);
      }
    },
  };
}

function outputTensor(o: ResolvedOptions, tok: TinyTokenizer, seed: number): F32TensorSpec {
  const e = o.embeddingLength;
  const std = LOGIT_STD / Math.sqrt(e);
  return {
    name: "output.weight",
    dims: [e, tok.tokens.length],
    fill(out) {
      const rand = mulberry32(seed);
      for (let id = 0; id < tok.tokens.length; id++) {
        const row = id * e;
        const isEos = id === tok.eosId && o.allowEos;
        out[row] = isEos ? EOS_BIAS : tok.printable[id] ? 0 : SUPPRESS_WEIGHT;
        for (let c = 1; c < e; c++) out[row + c] = noise(rand, std);
        if (o.multiByte) {
          const kind = tok.kinds[id];
          if (!isEos) out[row] = kind === "never" ? SUPPRESS_WEIGHT : tok.printable[id] || kind === "continuation" ? 0 : MULTIBYTE_BIAS;
          out[row + 1] = kind === "continuation" ? LEAD_WEIGHT : -LEAD_WEIGHT;
        }
      }
    },
  };
}

function tensors(o: ResolvedOptions, tok: TinyTokenizer): F32TensorSpec[] {
  const e = o.embeddingLength;
  const f = o.feedForwardLength;
  let stream = 0;
  const nextSeed = (): number => deriveSeed(o.seed, stream++);
  const list: F32TensorSpec[] = [embeddingTensor(o, tok, nextSeed())];
  /** Residual channels that carry only the embedding (0: constant; 1: the multi-byte lead flag). */
  const fixedRows = o.multiByte ? 2 : 1;
  const output = outputTensor(o, tok, nextSeed());
  for (let b = 0; b < o.blockCount; b++) {
    const p = `blk.${b}.`;
    list.push(
      onesTensor(`${p}attn_norm.weight`, e),
      randomTensor(`${p}attn_q.weight`, [e, e], nextSeed(), QK_STD / Math.sqrt(e)),
      randomTensor(`${p}attn_k.weight`, [e, e], nextSeed(), QK_STD / Math.sqrt(e)),
      randomTensor(`${p}attn_v.weight`, [e, e], nextSeed(), PROJ_STD / Math.sqrt(e)),
      randomTensor(`${p}attn_output.weight`, [e, e], nextSeed(), PROJ_STD / Math.sqrt(e), fixedRows),
      onesTensor(`${p}ffn_norm.weight`, e),
      randomTensor(`${p}ffn_gate.weight`, [e, f], nextSeed(), PROJ_STD / Math.sqrt(e)),
      randomTensor(`${p}ffn_up.weight`, [e, f], nextSeed(), PROJ_STD / Math.sqrt(e)),
      randomTensor(`${p}ffn_down.weight`, [f, e], nextSeed(), PROJ_STD / Math.sqrt(f), fixedRows),
    );
  }
  list.push(onesTensor("output_norm.weight", e), output);
  return list;
}

function metadata(o: ResolvedOptions, tok: TinyTokenizer): GgufKv[] {
  const u32 = (key: string, value: number): GgufKv => ({ key, type: "u32", value });
  return [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.name", type: "string", value: o.name },
    u32("general.alignment", GGUF_DEFAULT_ALIGNMENT),
    u32("general.file_type", 0),
    u32("general.quantization_version", 2),
    u32("llama.context_length", o.contextLength),
    u32("llama.embedding_length", o.embeddingLength),
    u32("llama.block_count", o.blockCount),
    u32("llama.feed_forward_length", o.feedForwardLength),
    u32("llama.attention.head_count", o.headCount),
    u32("llama.attention.head_count_kv", o.headCount),
    { key: "llama.attention.layer_norm_rms_epsilon", type: "f32", value: RMS_EPS },
    u32("llama.rope.dimension_count", o.embeddingLength / o.headCount),
    { key: "llama.rope.freq_base", type: "f32", value: ROPE_FREQ_BASE },
    u32("llama.vocab_size", tok.tokens.length),
    { key: "tokenizer.ggml.model", type: "string", value: "gpt2" },
    { key: "tokenizer.ggml.pre", type: "string", value: "default" },
    { key: "tokenizer.ggml.tokens", type: "string[]", value: tok.tokens },
    { key: "tokenizer.ggml.token_type", type: "i32[]", value: tok.tokenTypes },
    { key: "tokenizer.ggml.merges", type: "string[]", value: tok.merges },
    u32("tokenizer.ggml.bos_token_id", tok.bosId),
    u32("tokenizer.ggml.eos_token_id", tok.eosId),
    u32("tokenizer.ggml.padding_token_id", tok.paddingId),
    { key: "tokenizer.ggml.add_bos_token", type: "bool", value: false },
    { key: "tokenizer.ggml.add_eos_token", type: "bool", value: false },
    { key: "tokenizer.chat_template", type: "string", value: CHATML_TEMPLATE },
  ];
}

/** Generates the model file in memory. Throws RangeError for invalid options. */
export function writeTinyModel(opts: TinyModelOptions = {}): Buffer {
  const o = resolve(opts);
  const tok = buildTinyTokenizer({ multiByte: o.multiByte });
  return encodeGguf(metadata(o, tok), tensors(o, tok), GGUF_DEFAULT_ALIGNMENT);
}
