/** Renders configuration errors and warnings as one block for stderr (no trailing newline). */

export function formatConfigErrors(errors: readonly string[], warnings: readonly string[]): string {
  const lines: string[] = [];
  if (errors.length > 0) {
    lines.push(`gauntlet: ${errors.length} configuration error${errors.length === 1 ? "" : "s"}:`);
    for (const error of errors) lines.push(`  - ${error}`);
  }
  for (const warning of warnings) lines.push(`warning: ${warning}`);
  if (errors.length > 0) lines.push("Run 'gauntlet serve --help' to see every option.");
  return lines.join("\n");
}
