/** Public API of the configuration module. */
export { loadConfig } from "./load-config.js";
export type { ConfigResult, FrozenConfig, LoadConfigInput } from "./load-config.js";
export { defaultConfig } from "./defaults.js";
export { renderHelp } from "./help.js";
export { formatConfigErrors } from "./format.js";
export { wantsHelp } from "./argv.js";
export { WARNING_CODES } from "./warnings.js";
export { nodeConfigFs } from "./config-fs.js";
export type { ConfigFs, ConfigFsStat } from "./config-fs.js";
export { memoryFs } from "./memory-fs.js";
export type { MemoryEntry } from "./memory-fs.js";
export { checkPortAvailable, describePortProblem } from "./port-check.js";
export type { PortCheckFailure, PortCheckResult } from "./port-check.js";
export { OPTIONS, optionList } from "./schema.js";
export type { ListedOption, OptionDef, OptionId } from "./schema.js";
export type { Config, ConfigWarning, ConfigWarningCode, DeepPartial, GpuMode, LogLevel, ModelPreset } from "./types.js";
