import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { sanitizeMessage } from "../../src/observability/sanitize.js";

const segment = fc.stringMatching(/^[A-Za-z0-9._@ -]{1,12}$/).filter((s) => s.trim() === s && s.length > 0);
const posixPath = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join("/")}`);
const windowsPath = fc.tuple(fc.constantFrom("C", "D", "z"), fc.array(segment, { minLength: 1, maxLength: 5 })).map(([d, parts]) => `${d}:\\${parts.join("\\")}`);
const homePath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `~/${parts.join("/")}`);
const fileUrl = posixPath.map((p) => `file://${p}`);
const anyPath = fc.oneof(posixPath, windowsPath, homePath, fileUrl);
const words = fc.stringMatching(/^[A-Za-z ,:;()'"=-]{0,30}$/);

describe("sanitizeMessage", () => {
  test("never lets an absolute path through, wherever it stands in a message", () => {
    fc.assert(
      fc.property(words, anyPath, words, fc.constantFrom(" ", "'", '"', "(", ": "), (before, path, after, quote) => {
        const msg = `${before}${quote}${path}${quote === "(" ? ")" : quote}${after}`;
        const out = sanitizeMessage(msg);
        expect(out).not.toContain(path);
        const lastSegment = path.split(/[\\/]/).pop()!;
        if (lastSegment.length > 3) expect(out).not.toContain(`/${lastSegment}`);
        expect(out).toContain("<path>");
      }),
      { numRuns: 500 },
    );
  });

  test("leaves messages without paths unchanged", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9 ,.:;()'"=-]{0,80}$/), (msg) => {
        expect(sanitizeMessage(msg)).toBe(msg);
      }),
    );
  });

  test("keeps the explanation around the path", () => {
    expect(sanitizeMessage("tensor 'blk.0' data is not within the file bounds of /root/models/x.gguf, model is corrupted"))
      .toBe("tensor 'blk.0' data is not within the file bounds of <path>, model is corrupted");
  });
});
