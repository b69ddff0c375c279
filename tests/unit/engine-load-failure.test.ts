import { describe, expect, test } from "vitest";
import { explainLoadFailure } from "../../src/engine/llama-engine-support.js";

describe("explainLoadFailure", () => {
  test("names the real reason, not the generic last line, and drops the C function prefixes", () => {
    const lines = [
      "llama_model_loader: loaded meta data with 24 key-value pairs and 21 tensors from /home/me/models/x.gguf (version GGUF V3 (latest))",
      "llama_model_load: error loading model: error loading model architecture: unknown model architecture: 'llamb'",
      "llama_model_load_from_file_impl: failed to load model",
    ];
    expect(explainLoadFailure(lines)).toBe("the model file could not be loaded: unknown model architecture: 'llamb'");
  });

  test("keeps a tensor-bounds reason and never an absolute path", () => {
    const lines = [
      "llama_model_load: error loading model: tensor 'blk.0.attn_q.weight' data is not within the file bounds, model is corrupted or incomplete",
      "llama_model_load_from_file_impl: failed to load model",
    ];
    const text = explainLoadFailure(lines);
    expect(text).toContain("tensor 'blk.0.attn_q.weight' data is not within the file bounds");
    expect(explainLoadFailure(["llama_model_load: error loading model: cannot open /home/me/secret/x.gguf"])).not.toContain("/home/me");
  });

  test("falls back to the generic line, and says so when the engine gave nothing", () => {
    expect(explainLoadFailure(["llama_model_load_from_file_impl: failed to load model"])).toBe("the model file could not be loaded: failed to load model");
    expect(explainLoadFailure([])).toBe("the model file could not be loaded: the engine gave no reason");
  });
});
