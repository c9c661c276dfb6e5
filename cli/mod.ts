export { buildProgram, runCli } from "./program.js";
export { ExitCode, UsageError, isUsageError } from "./errors.js";
export { printJson, printLine, progress } from "./output.js";
