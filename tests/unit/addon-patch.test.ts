import { existsSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { PATCH_MARKER, addonFiles, patchTexts } from "../../src/engine/addon-patch.js";
import { nodeLlamaCppPackageDir } from "../../src/engine/engine-build.js";

// The installed node-llama-cpp (3.22.1): the patch must fit its real sources. After `gauntlet engine build` the
// installed files are patched and the originals sit beside them (.orig): the originals are what is patched.
const files = addonFiles(nodeLlamaCppPackageDir());
const installed = { header: readFileSync(files.header, "utf8"), source: readFileSync(files.source, "utf8") };
const pristine = (file: string, text: string) => (text.includes(PATCH_MARKER) && existsSync(`${file}.orig`) ? readFileSync(`${file}.orig`, "utf8") : text);
const header = pristine(files.header, installed.header);
const source = pristine(files.source, installed.source);

describe("the decodeBatchAndSampleToken addon patch", () => {
  test("fits the installed node-llama-cpp's AddonContext sources: declared, defined before DecodeBatch, registered", () => {
    const p = patchTexts(header, source);
    if (p === "already-applied" || "reason" in p) throw new Error(`not applicable: ${JSON.stringify(p)}`);
    expect(p.header).toContain("Napi::Value DecodeBatchAndSampleToken(const Napi::CallbackInfo& info);");
    expect(p.source.indexOf("class AddonContextDecodeBatchAndSampleTokenWorker")).toBeLessThan(p.source.indexOf("Napi::Value AddonContext::DecodeBatch("));
    expect(p.source).toContain('InstanceMethod("decodeBatchAndSampleToken", &AddonContext::DecodeBatchAndSampleToken)');
    // Everything else is untouched.
    expect(p.source.replace(/\/\/ gauntlet: decodeBatchAndSampleToken[\s\S]*?return worker->GetPromise\(\);\n}\n/, "").replace(/ *InstanceMethod\("decodeBatchAndSampleToken".*\n/, "")).toBe(source);
  });

  test("the installed sources are either untouched or exactly what the patch makes of the originals", () => {
    const p = patchTexts(header, source);
    if (p === "already-applied" || "reason" in p) throw new Error("not applicable");
    if (installed.header.includes(PATCH_MARKER)) expect(installed).toEqual(p);
    else expect(installed).toEqual({ header, source });
  });

  test("is idempotent: a patched source is recognised and not patched twice", () => {
    const p = patchTexts(header, source);
    if (p === "already-applied" || "reason" in p) throw new Error("not applicable");
    expect(patchTexts(p.header, p.source)).toBe("already-applied");
  });

  test("refuses half-patched or foreign sources instead of guessing", () => {
    const p = patchTexts(header, source);
    if (p === "already-applied" || "reason" in p) throw new Error("not applicable");
    expect(patchTexts(p.header, source)).toMatchObject({ reason: expect.stringMatching(/half patched/) });
    expect(patchTexts("class X {};", source)).toMatchObject({ reason: expect.stringMatching(/AddonContext\.h/) });
    expect(patchTexts(header, "int main() {}")).toMatchObject({ reason: expect.stringMatching(/AddonContext\.cpp/) });
    expect(header.includes(PATCH_MARKER) || source.includes(PATCH_MARKER)).toBe(false);
  });
});
