/**
 * The change `gauntlet engine build` makes to node-llama-cpp's addon before compiling it, two methods:
 * - `decodeBatchAndSampleToken(batchLogitIndex, sampler)` decodes the context's batch and samples the next token
 *   in ONE libuv work item;
 * - `generateTokens(token, pos, sequenceId, maxDecodes, sampler, stop, onToken)` runs the whole token loop in one
 *   work item: decode a token, sample the next, hand it to `onToken` (on the main thread, in order, without
 *   waiting for it) and go on, until `maxDecodes` decodes, an end-of-generation token, or `stop[0] != 0` (set by
 *   the main thread when a stop string matched, the budget is reached or the request was aborted). It resolves
 *   the tokens it decoded into the KV cache, after every onToken call. The worker never waits for JavaScript, so
 *   the per-token hand-off (a wake-up of the main thread and one of the worker, ~60 us here) leaves the critical
 *   path: the main thread's work for token n overlaps the decode of token n+1.
 *
 * Why: the stock addon has `decodeBatch()` and `sampleToken()` as two async calls, so every generated token
 * crosses to a libuv worker and back twice (measured at about 250-300 us per token on this machine; on the
 * 64x2 model that is most of a request, and the main reason node-llama-cpp trails llama.cpp's own server
 * there). With the combined call a token costs one hand-off. The prebuilt binaries do not have the method;
 * the engine uses it only when it is there (see llama-engine-slot.ts) and behaves the same either way.
 *
 * The patch is applied by string insertion at two anchors, is idempotent (a marker says it is there) and can
 * be reverted from the kept original. If the anchors are not found (another node-llama-cpp version), nothing
 * is changed and the build goes on without it.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const PATCH_MARKER = "gauntlet: native generation patch v2";
/** What earlier gauntlet versions marked their patch with: sources patched by them are re-patched from the originals. */
export const LEGACY_PATCH_MARKERS = ["gauntlet: decodeBatchAndSampleToken"];

const HEADER_ANCHOR = "        Napi::Value SampleToken(const Napi::CallbackInfo& info);\n";
const HEADER_ADDITION =
  `        Napi::Value DecodeBatchAndSampleToken(const Napi::CallbackInfo& info); // ${PATCH_MARKER}\n` +
  `        Napi::Value GenerateTokens(const Napi::CallbackInfo& info); // ${PATCH_MARKER}\n`;

const SOURCE_ANCHOR = "Napi::Value AddonContext::DecodeBatch(const Napi::CallbackInfo& info) {\n";
const SOURCE_ADDITION = `// ${PATCH_MARKER} (added by \`gauntlet engine build\`): the token loop without a libuv hand-off per token.
// Decodes ctx->batch and samples the token after it at batchLogitIndex: the steps of decodeBatch and then
// sampleToken, in the same order. Returns an error message or "" (token = -1 when the sampler gave nothing).
static std::string gauntletDecodeAndSample(AddonContext* ctx, AddonSampler* sampler, int32_t batchLogitIndex, llama_token& token) {
    token = -1;
    ctx->sharedSamplerData.gotLogit = false;
    ctx->sharedSamplerData.hasLogits = false;
    int r = llama_decode(ctx->ctx, ctx->batch);
    if (r != 0) {
        return r == 1 ? "could not find a KV slot for the batch (try reducing the size of the batch or increase the context)" : "Eval has failed";
    }
    llama_synchronize(ctx->ctx);

    sampler->rebuildChainIfNeeded();
    std::unique_lock<std::mutex> samplingLock(ctx->sharedSamplerData.mutex);
    if (!ctx->sharedSamplerData.gotLogit) {
        ctx->sharedSamplerData.hasLogits = llama_get_logits(ctx->ctx) != nullptr;
        ctx->sharedSamplerData.gotLogit = true;
    }
    if (!ctx->sharedSamplerData.hasLogits) {
        return "This model does not support token generation";
    }

    llama_token_data_array cur_p;
    sampler->sampleAndReleaseLock(ctx->sharedSamplerData.mutex, samplingLock, ctx->ctx, batchLogitIndex, cur_p, false);
    if (cur_p.size == 0 || !(cur_p.selected >= 0 && cur_p.selected < (int32_t)cur_p.size)) {
        return "";
    }
    token = cur_p.data[cur_p.selected].id;
    sampler->acceptToken(token);
    return "";
}

// decodeBatchAndSampleToken(batchLogitIndex, sampler): decode the batch and sample the next token in one libuv
// work item instead of two (decodeBatch + sampleToken). Resolves the token, or -1.
class AddonContextDecodeBatchAndSampleTokenWorker : public Napi::AsyncWorker {
    public:
        AddonContext* ctx;
        AddonSampler* sampler;
        int32_t batchLogitIndex;
        llama_token result = -1;

        AddonContextDecodeBatchAndSampleTokenWorker(const Napi::CallbackInfo& info, AddonContext* ctx)
            : Napi::AsyncWorker(info.Env(), "AddonContextDecodeBatchAndSampleTokenWorker"),
              ctx(ctx),
              deferred(Napi::Promise::Deferred::New(info.Env())) {
            ctx->Ref();
            batchLogitIndex = info[0].As<Napi::Number>().Int32Value();
            sampler = Napi::ObjectWrap<AddonSampler>::Unwrap(info[1].As<Napi::Object>());
            sampler->Ref();
        }
        ~AddonContextDecodeBatchAndSampleTokenWorker() {
            ctx->Unref();
            sampler->Unref();
        }

        Napi::Promise GetPromise() {
            return deferred.Promise();
        }

    protected:
        Napi::Promise::Deferred deferred;

        void Execute() {
            try {
                std::string error = gauntletDecodeAndSample(ctx, sampler, batchLogitIndex, result);
                if (!error.empty()) SetError(error);
            } catch (const std::exception& e) {
                SetError(e.what());
            } catch(...) {
                SetError("Unknown error when calling \\"decodeBatchAndSampleToken\\"");
            }
        }
        void OnOK() {
            deferred.Resolve(Napi::Number::New(Env(), result < 0 ? -1 : static_cast<uint32_t>(result)));
        }
        void OnError(const Napi::Error& err) {
            deferred.Reject(err.Value());
        }
};
Napi::Value AddonContext::DecodeBatchAndSampleToken(const Napi::CallbackInfo& info) {
    AddonContextDecodeBatchAndSampleTokenWorker* worker = new AddonContextDecodeBatchAndSampleTokenWorker(info, this);
    worker->Queue();
    return worker->GetPromise();
}

// generateTokens(token, pos, sequenceId, maxDecodes, sampler, stop, onToken): the whole token loop in one libuv work
// item. Decodes a token and samples the next (gauntletDecodeAndSample), hands it to onToken on the main thread without
// waiting, repeats; stops at maxDecodes decodes, an end-of-generation token, a sampler without output, or when
// stop[0] != 0 (checked before each decode). Resolves the tokens decoded into the KV cache, after every onToken call
// (AsyncProgressQueueWorker delivers all progress before completing).
class AddonContextGenerateTokensWorker : public Napi::AsyncProgressQueueWorker<llama_token> {
    public:
        AddonContext* ctx;
        AddonSampler* sampler;
        llama_token token;
        int32_t pos;
        int32_t sequenceId;
        int32_t maxDecodes;
        int32_t* stopFlag;
        Napi::ObjectReference stopRef;
        Napi::FunctionReference onToken;
        std::vector<llama_token> fed;

        AddonContextGenerateTokensWorker(const Napi::CallbackInfo& info, AddonContext* ctx)
            : Napi::AsyncProgressQueueWorker<llama_token>(info.Env(), "AddonContextGenerateTokensWorker"),
              ctx(ctx),
              deferred(Napi::Promise::Deferred::New(info.Env())) {
            ctx->Ref();
            token = static_cast<llama_token>(info[0].As<Napi::Number>().Uint32Value());
            pos = info[1].As<Napi::Number>().Int32Value();
            sequenceId = info[2].As<Napi::Number>().Int32Value();
            maxDecodes = info[3].As<Napi::Number>().Int32Value();
            sampler = Napi::ObjectWrap<AddonSampler>::Unwrap(info[4].As<Napi::Object>());
            sampler->Ref();
            Napi::Int32Array stop = info[5].As<Napi::Int32Array>();
            stopFlag = stop.Data();
            stopRef = Napi::Persistent(stop.As<Napi::Object>());
            onToken = Napi::Persistent(info[6].As<Napi::Function>());
        }
        ~AddonContextGenerateTokensWorker() {
            ctx->Unref();
            sampler->Unref();
        }

        Napi::Promise GetPromise() {
            return deferred.Promise();
        }

    protected:
        Napi::Promise::Deferred deferred;

        void Execute(const ExecutionProgress& progress) {
            try {
                for (int32_t i = 0; i < maxDecodes; i++) {
                    if (__atomic_load_n(stopFlag, __ATOMIC_ACQUIRE) != 0) return;
                    ctx->batch.n_tokens = 0;
                    common_batch_add(ctx->batch, token, pos, { sequenceId }, true);
                    llama_token next = -1;
                    std::string error = gauntletDecodeAndSample(ctx, sampler, 0, next);
                    if (!error.empty()) {
                        SetError(error);
                        return;
                    }
                    fed.push_back(token);
                    pos++;
                    if (next < 0) return;
                    token = next;
                    progress.Send(&token, 1);
                    if (llama_vocab_is_eog(ctx->model->vocab, token)) return;
                }
            } catch (const std::exception& e) {
                SetError(e.what());
            } catch(...) {
                SetError("Unknown error when calling \\"generateTokens\\"");
            }
        }
        void OnProgress(const llama_token* data, size_t count) {
            for (size_t i = 0; i < count; i++) {
                try {
                    onToken.Call({ Napi::Number::New(Env(), static_cast<uint32_t>(data[i])) });
                } catch (...) {
                    // A throwing callback stops the loop (the engine's callback does not throw).
                    __atomic_store_n(stopFlag, 1, __ATOMIC_RELEASE);
                }
            }
        }
        void OnOK() {
            Napi::Uint32Array res = Napi::Uint32Array::New(Env(), fed.size());
            for (size_t i = 0; i < fed.size(); i++) res[i] = static_cast<uint32_t>(fed[i]);
            deferred.Resolve(res);
        }
        void OnError(const Napi::Error& err) {
            deferred.Reject(err.Value());
        }
};
Napi::Value AddonContext::GenerateTokens(const Napi::CallbackInfo& info) {
    if (disposed) {
        Napi::Error::New(info.Env(), "Context is disposed").ThrowAsJavaScriptException();
        return info.Env().Undefined();
    }
    if (!has_batch || batch_n_tokens < 1) {
        Napi::Error::New(info.Env(), "No batch is initialized").ThrowAsJavaScriptException();
        return info.Env().Undefined();
    }
    AddonContextGenerateTokensWorker* worker = new AddonContextGenerateTokensWorker(info, this);
    worker->Queue();
    return worker->GetPromise();
}
`;

const METHOD_ANCHOR = `                InstanceMethod("sampleToken", &AddonContext::SampleToken),\n`;
const METHOD_ADDITION =
  `                InstanceMethod("decodeBatchAndSampleToken", &AddonContext::DecodeBatchAndSampleToken), // ${PATCH_MARKER}\n` +
  `                InstanceMethod("generateTokens", &AddonContext::GenerateTokens), // ${PATCH_MARKER}\n`;

export type PatchResult =
  | { status: "applied" | "already-applied" }
  | { status: "not-applicable"; reason: string };

export interface AddonFiles {
  header: string;
  source: string;
}

export function addonFiles(nodeLlamaCppDir: string): AddonFiles {
  return { header: join(nodeLlamaCppDir, "llama", "addon", "AddonContext.h"), source: join(nodeLlamaCppDir, "llama", "addon", "AddonContext.cpp") };
}

/** True when `text` carries this patch or one of an earlier gauntlet version. */
export function hasAnyPatchMarker(text: string): boolean {
  return text.includes(PATCH_MARKER) || LEGACY_PATCH_MARKERS.some((m) => text.includes(m));
}

/** The patched text of both files, or why the patch does not fit them. Pure, for tests. */
export function patchTexts(header: string, source: string): { header: string; source: string } | { reason: string } | "already-applied" {
  const inHeader = header.includes(PATCH_MARKER);
  const inSource = source.includes(PATCH_MARKER);
  if (inHeader && inSource) return "already-applied";
  if (inHeader !== inSource) return { reason: "the addon sources are half patched; reinstall node-llama-cpp (npm install) and build again" };
  if (hasAnyPatchMarker(header) || hasAnyPatchMarker(source)) {
    return { reason: "the addon sources carry an earlier gauntlet patch and their originals (.orig) are gone; reinstall node-llama-cpp (npm install) and build again" };
  }
  if (!header.includes(HEADER_ANCHOR)) return { reason: "AddonContext.h does not declare SampleToken where expected (another node-llama-cpp version?)" };
  if (!source.includes(SOURCE_ANCHOR) || !source.includes(METHOD_ANCHOR)) {
    return { reason: "AddonContext.cpp does not define DecodeBatch / register sampleToken where expected (another node-llama-cpp version?)" };
  }
  return {
    header: header.replace(HEADER_ANCHOR, HEADER_ANCHOR + HEADER_ADDITION),
    source: source.replace(SOURCE_ANCHOR, SOURCE_ADDITION + SOURCE_ANCHOR).replace(METHOD_ANCHOR, METHOD_ANCHOR + METHOD_ADDITION),
  };
}

/**
 * Applies the patch in place, keeping the originals next to them (`.orig`) for revertAddonPatch. Sources patched by an
 * earlier gauntlet version are patched again from those originals.
 */
export function applyAddonPatch(files: AddonFiles): PatchResult {
  if (!existsSync(files.header) || !existsSync(files.source)) return { status: "not-applicable", reason: "node-llama-cpp's addon sources are not installed" };
  const read = (f: string) => {
    const text = readFileSync(f, "utf8");
    const stale = hasAnyPatchMarker(text) && !text.includes(PATCH_MARKER);
    return stale && existsSync(`${f}.orig`) ? { text: readFileSync(`${f}.orig`, "utf8"), fromOrig: true } : { text, fromOrig: false };
  };
  const header = read(files.header);
  const source = read(files.source);
  const patched = patchTexts(header.text, source.text);
  if (patched === "already-applied") return { status: "already-applied" };
  if ("reason" in patched) return { status: "not-applicable", reason: patched.reason };
  if (!header.fromOrig) copyFileSync(files.header, `${files.header}.orig`);
  if (!source.fromOrig) copyFileSync(files.source, `${files.source}.orig`);
  writeFileSync(files.header, patched.header);
  writeFileSync(files.source, patched.source);
  return { status: "applied" };
}

/** Puts the original sources back (after a failed build); true when there was something to restore. */
export function revertAddonPatch(files: AddonFiles): boolean {
  let restored = false;
  for (const f of [files.header, files.source]) {
    if (existsSync(`${f}.orig`)) {
      copyFileSync(`${f}.orig`, f);
      restored = true;
    }
  }
  return restored;
}
