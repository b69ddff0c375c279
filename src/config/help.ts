/** Help text for `gauntlet serve --help`, rendered from the schema table. */
import { GROUP_TITLES, optionList } from "./schema.js";
import type { ListedOption, OptionGroup } from "./schema.js";

const FLAG_COLUMN = 40;

function flagText(option: ListedOption): string {
  switch (option.kind) {
    case "bool":
      return `--${option.flag}, --no-${option.flag}`;
    case "int":
      return `--${option.flag} <int>`;
    case "choice":
      return `--${option.flag} <${option.choices.join("|")}>`;
    case "path":
      return `--${option.flag} <path>`;
    case "string":
      return `--${option.flag} ${option.placeholder}`;
  }
}

function optionLines(option: ListedOption): string[] {
  const flag = flagText(option);
  const gap = " ".repeat(Math.max(2, FLAG_COLUMN - flag.length));
  return [`  ${flag}${gap}env ${option.env}, default ${option.defaultText}`, `      ${option.description}`];
}

export function renderHelp(): string {
  const lines = [
    "Usage: gauntlet serve [options]",
    "",
    "Every option can be set with a flag or an environment variable.",
    "Flags win over environment variables, which win over defaults.",
    "Write --flag value or --flag=value. Booleans accept 1/true/yes/on and 0/false/no/off (any case);",
    "--flag alone means true and --no-flag means false.",
  ];
  const groups = new Map<OptionGroup, ListedOption[]>();
  for (const option of optionList()) {
    const members = groups.get(option.group) ?? [];
    members.push(option);
    groups.set(option.group, members);
  }
  for (const [group, members] of groups) {
    lines.push("", `${GROUP_TITLES[group]}:`, ...members.flatMap(optionLines));
  }
  return lines.join("\n");
}
