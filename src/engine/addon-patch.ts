/**
 * The one change `gauntlet engine build` makes to node-llama-cpp's addon before compiling it: a
 * `decodeBatchAndSampleToken(batchLogitIndex, sampler)` method that decodes the context's batch and samples
 * the next token in ONE libuv work item.
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

export const PATCH_MARKER = "gauntlet: decodeBatchAndSampleToken";

const HEADER_ANCHOR = "        Napi::Value SampleToken(const Napi::CallbackInfo& info);\n";
const HEADER_ADDITION = `        Napi::Value DecodeBatchAndSampleToken(const Napi::CallbackInfo& info); // ${PATCH_MARKER}\n`;

const SOURCE_ANCHOR = "Napi::Value AddonContext::DecodeBatch(const Napi::CallbackInfo& info) {\n";
const SOURCE_ADDITION = `// ${PATCH_MARKER} (added by \`gauntlet engine build\`): decode the batch and sample the next token in one
// libuv work item instead of two (decodeBatch + sampleToken), the same steps in the same order.
class AddonContextDecodeBatchAndSampleTokenWorker : public Napi::AsyncWorker {
    public:
        AddonContext* ctx;
        AddonSampler* sampler;
        int32_t batchLogitIndex;
        llama_token result = -1;
        bool no_output = false;

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
                ctx->sharedSamplerData.gotLogit = false;
                ctx->sharedSamplerData.hasLogits = false;

                int r = llama_decode(ctx->ctx, ctx->batch);
                if (r != 0) {
                    if (r == 1) {
                        SetError("could not find a KV slot for the batch (try reducing the size of the batch or increase the context)");
                    } else {
                        SetError("Eval has failed");
                    }
                    return;
                }
                llama_synchronize(ctx->ctx);

                sampler->rebuildChainIfNeeded();
                std::unique_lock<std::mutex> samplingLock(ctx->sharedSamplerData.mutex);
                if (!ctx->sharedSamplerData.gotLogit) {
                    ctx->sharedSamplerData.hasLogits = llama_get_logits(ctx->ctx) != nullptr;
                    ctx->sharedSamplerData.gotLogit = true;
                }
                if (!ctx->sharedSamplerData.hasLogits) {
                    SetError("This model does not support token generation");
                    return;
                }

                llama_token_data_array cur_p;
                sampler->sampleAndReleaseLock(ctx->sharedSamplerData.mutex, samplingLock, ctx->ctx, batchLogitIndex, cur_p, false);
                if (cur_p.size == 0 || !(cur_p.selected >= 0 && cur_p.selected < (int32_t)cur_p.size)) {
                    no_output = true;
                    return;
                }
                result = cur_p.data[cur_p.selected].id;
            } catch (const std::exception& e) {
                SetError(e.what());
            } catch(...) {
                SetError("Unknown error when calling \\"decodeBatchAndSampleToken\\"");
            }
        }
        void OnOK() {
            deferred.Resolve(Napi::Number::New(Env(), no_output ? -1 : static_cast<uint32_t>(result)));
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
`;

const METHOD_ANCHOR = `                InstanceMethod("sampleToken", &AddonContext::SampleToken),\n`;
const METHOD_ADDITION = `                InstanceMethod("decodeBatchAndSampleToken", &AddonContext::DecodeBatchAndSampleToken), // ${PATCH_MARKER}\n`;

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

/** The patched text of both files, or why the patch does not fit them. Pure, for tests. */
export function patchTexts(header: string, source: string): { header: string; source: string } | { reason: string } | "already-applied" {
  const inHeader = header.includes(PATCH_MARKER);
  const inSource = source.includes(PATCH_MARKER);
  if (inHeader && inSource) return "already-applied";
  if (inHeader !== inSource) return { reason: "the addon sources are half patched; reinstall node-llama-cpp (npm install) and build again" };
  if (!header.includes(HEADER_ANCHOR)) return { reason: "AddonContext.h does not declare SampleToken where expected (another node-llama-cpp version?)" };
  if (!source.includes(SOURCE_ANCHOR) || !source.includes(METHOD_ANCHOR)) {
    return { reason: "AddonContext.cpp does not define DecodeBatch / register sampleToken where expected (another node-llama-cpp version?)" };
  }
  return {
    header: header.replace(HEADER_ANCHOR, HEADER_ANCHOR + HEADER_ADDITION),
    source: source.replace(SOURCE_ANCHOR, SOURCE_ADDITION + SOURCE_ANCHOR).replace(METHOD_ANCHOR, METHOD_ANCHOR + METHOD_ADDITION),
  };
}

/** Applies the patch in place, keeping the originals next to them (`.orig`) for revertAddonPatch. */
export function applyAddonPatch(files: AddonFiles): PatchResult {
  if (!existsSync(files.header) || !existsSync(files.source)) return { status: "not-applicable", reason: "node-llama-cpp's addon sources are not installed" };
  const patched = patchTexts(readFileSync(files.header, "utf8"), readFileSync(files.source, "utf8"));
  if (patched === "already-applied") return { status: "already-applied" };
  if ("reason" in patched) return { status: "not-applicable", reason: patched.reason };
  copyFileSync(files.header, `${files.header}.orig`);
  copyFileSync(files.source, `${files.source}.orig`);
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
