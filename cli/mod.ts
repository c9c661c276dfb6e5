export { buildProgram, runCli } from "./program.js";
export { CommandFailedError, ExitCode, UsageCode, UsageError, isCommandFailedError, isUsageError } from "./errors.js";
export { cleanMessage, describeFailure, reportFailure, type Failure } from "./failure.js";
export { printJson, printLine, progress } from "./output.js";
