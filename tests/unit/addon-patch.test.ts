import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { LEGACY_PATCH_MARKERS, PATCH_MARKER, addonFiles, applyAddonPatch, hasAnyPatchMarker, patchTexts } from "../../src/engine/addon-patch.js";
import { nodeLlamaCppPackageDir } from "../../src/engine/engine-build.js";

// The installed node-llama-cpp (3.22.1): the patch must fit its real sources. After `gauntlet engine build` the
// installed files are patched and the originals sit beside them (.orig): the originals are what is patched.
const files = addonFiles(nodeLlamaCppPackageDir());
const installed = { header: readFileSync(files.header, "utf8"), source: readFileSync(files.source, "utf8") };
const pristine = (file: string, text: string) => (hasAnyPatchMarker(text) && existsSync(`${file}.orig`) ? readFileSync(`${file}.orig`, "utf8") : text);
const header = pristine(files.header, installed.header);
const source = pristine(files.source, installed.source);

describe("the addon patch (decodeBatchAndSampleToken, generateTokens)", () => {
  test("fits the installed node-llama-cpp's AddonContext sources: declared, defined before DecodeBatch, registered", () => {
    const p = patchTexts(header, source);
    if (p === "already-applied" || "reason" in p) throw new Error(`not applicable: ${JSON.stringify(p)}`);
    expect(p.header).toContain("Napi::Value DecodeBatchAndSampleToken(const Napi::CallbackInfo& info);");
    expect(p.header).toContain("Napi::Value GenerateTokens(const Napi::CallbackInfo& info);");
    for (const cls of ["class AddonContextDecodeBatchAndSampleTokenWorker", "class AddonContextGenerateTokensWorker"]) {
      expect(p.source.indexOf(cls)).toBeGreaterThan(-1);
      expect(p.source.indexOf(cls)).toBeLessThan(p.source.indexOf("Napi::Value AddonContext::DecodeBatch("));
    }
    expect(p.source).toContain('InstanceMethod("decodeBatchAndSampleToken", &AddonContext::DecodeBatchAndSampleToken)');
    expect(p.source).toContain('InstanceMethod("generateTokens", &AddonContext::GenerateTokens)');
    // Everything else is untouched: one inserted block and two registrations.
    const block = /\/\/ gauntlet: native generation patch v2[\s\S]*?Napi::Value AddonContext::GenerateTokens[\s\S]*?return worker->GetPromise\(\);\n}\n/;
    expect(p.source.replace(block, "").replace(/ *InstanceMethod\("(decodeBatchAndSampleToken|generateTokens)".*\n/g, "")).toBe(source);
    expect(p.header.replace(/.*\/\/ gauntlet: native generation patch v2\n/g, "")).toBe(header);
  });

  test("sources patched by an earlier gauntlet are patched again from their originals, and the originals are kept", () => {
    const p = patchTexts(header, source);
    if (p === "already-applied" || "reason" in p) throw new Error("not applicable");
    const dir = mkdtempSync(join(tmpdir(), "addon-patch-"));
    try {
      const files = { header: join(dir, "AddonContext.h"), source: join(dir, "AddonContext.cpp") };
      // What gauntlet's first patch left: its marker in both files, the originals beside them.
      const legacy = `// ${LEGACY_PATCH_MARKERS[0]}\n`;
      writeFileSync(files.header, legacy + header);
      writeFileSync(files.source, legacy + source);
      writeFileSync(`${files.header}.orig`, header);
      writeFileSync(`${files.source}.orig`, source);
      expect(applyAddonPatch(files)).toEqual({ status: "applied" });
      expect({ header: readFileSync(files.header, "utf8"), source: readFileSync(files.source, "utf8") }).toEqual(p);
      expect(readFileSync(`${files.source}.orig`, "utf8")).toBe(source);
      expect(applyAddonPatch(files)).toEqual({ status: "already-applied" });
      // Without the originals there is nothing safe to patch: say so.
      writeFileSync(files.header, legacy + header);
      writeFileSync(files.source, legacy + source);
      rmSync(`${files.header}.orig`);
      rmSync(`${files.source}.orig`);
      expect(applyAddonPatch(files)).toMatchObject({ status: "not-applicable", reason: expect.stringMatching(/earlier gauntlet patch/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the installed sources are either untouched or exactly what the patch makes of the originals", () => {
    const p = patchTexts(header, source);
    if (p === "already-applied" || "reason" in p) throw new Error("not applicable");
    if (hasAnyPatchMarker(installed.header)) expect(installed).toEqual(p);
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
    expect(hasAnyPatchMarker(header) || hasAnyPatchMarker(source)).toBe(false);
  });
});
