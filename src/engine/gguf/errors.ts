/** What kind of problem a GgufFormatError reports. */
export type GgufErrorCode =
  | "io"
  | "empty"
  | "bad-magic"
  | "bad-version"
  | "bad-count"
  | "truncated"
  | "header-too-large"
  | "bad-metadata"
  | "bad-value-type"
  | "bad-tensor"
  | "tensor-out-of-bounds";

/** A model file that is not a GGUF file llama.cpp can load. The message is meant for the user. */
export class GgufFormatError extends Error {
  override readonly name = "GgufFormatError";
  readonly code: GgufErrorCode;

  constructor(code: GgufErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Quotes a name read from a file for an error message: printable, short, never multi-line. */
export function quoteName(raw: string): string {
  const clean = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return `'${clean.length > 80 ? `${clean.slice(0, 77)}...` : clean}'`;
}
