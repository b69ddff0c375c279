/** A gate expression that cannot be parsed; the message says what is wrong and shows a caret. */
export class GateSyntaxError extends Error {
  override readonly name = "GateSyntaxError";
  /** What is wrong, without the source excerpt. */
  readonly reason: string;
  /** 1-based column of the problem in `source`. */
  readonly column: number;
  readonly source: string;

  constructor(reason: string, source: string, index: number) {
    const column = Math.max(1, Math.min(index, source.length) + 1);
    const shown = source.replace(/[\r\n\t]/g, " ");
    super(`${reason} (column ${column})\n  ${shown}\n  ${" ".repeat(column - 1)}^`);
    this.reason = reason;
    this.column = column;
    this.source = source;
  }
}
