// How a failed command ends: one place that turns any error into an exit code (2 for bad
// input, 1 for a correct request that failed) and a message in the CLI's words, printed as
// `troupe: message` on stderr, and with --json also as {"error":{"code","message"}} on stdout.
// Other layers' errors are recognised by their stable `code` (each layer's errors.ts); their
// class names and Node's errno codes never reach the user.
import { CommanderError } from "commander";
import { ExitCode, UsageCode, isCommandFailedError, isInterruptedError, isUsageError } from "./errors.js";

export interface Failure {
  readonly exit: 1 | 2 | 130;
  /** snake_case, stable: what a script branches on */
  readonly code: string;
  readonly message: string;
}

/** Codes of other layers' errors that mean the input was wrong (a file, a value, a server address). */
const INPUT_CODES = new Set([
  "SCENARIO_INVALID", "SCENARIO_READ",
  "DATA_CONFIG", "DATA_CORPUS", "DATA_RECORD", "DATA_TOKENIZER", "DATA_TOKENIZER_UNSUPPORTED",
  "MODEL_CONFIG", "MODEL_ADAPTER", "CHECKPOINT_FORMAT", "CHECKPOINT_NOT_FOUND", "CHECKPOINT_MISMATCH",
  "NATS_CONNECT", "KERNEL_FORMAT",
]);

/** Node's errno codes in words (a message never shows `EISDIR`). */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory, not a file",
  ENOTDIR: "a part of the path is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on the device",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  EMFILE: "too many open files",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  ENOMEM: "out of memory",
};
const USER_ERRNO = new Set(["ENOENT", "EISDIR", "ENOTDIR", "EACCES", "EPERM", "EEXIST"]);

/** What follows "cannot connect to NATS at URL" for each command: the hint must fit it. */
const NATS_HINTS: Record<string, string> = {
  run: "omit --nats to start an embedded server for this run",
  status: "omit --nats to read the latest report under runs/",
  train: "omit --nats to keep the checkpoints on disk only",
  artifacts: "give the URL of the server the run used (troupe run printed it)",
  eval: "omit --nats",
};

const CLASS_PREFIX = /\b[A-Z][A-Za-z]*(?:Error|Exception|Escalation|Rejection)\b:?\s*/g;
const ERRNO = /\(?\b(E[A-Z]{3,})\b\)?:?/g;

/** Removes class-name prefixes and errno codes that leaked into a message from below. */
export function cleanMessage(message: string): string {
  return message
    .replace(CLASS_PREFIX, "")
    .replace(ERRNO, (all, code: string) => (ERRNO_WORDS[code] ? `(${ERRNO_WORDS[code]})` : all))
    .trim();
}

function snake(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

/** The failure an error means, for `command` (the first word after `troupe`). */
export function describeFailure(err: unknown, command: string): Failure {
  if (isUsageError(err)) return { exit: ExitCode.usage, code: err.code, message: cleanMessage(err.message) };
  if (isInterruptedError(err)) return { exit: ExitCode.interrupted, code: err.code, message: err.message };
  if (isCommandFailedError(err)) return { exit: ExitCode.failure, code: snake(err.code), message: cleanMessage(err.message) };
  if (!(err instanceof Error)) return { exit: ExitCode.failure, code: "failed", message: String(err) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && code === "NATS_CONNECT") {
    const url = (err as { url?: string }).url;
    const hint = NATS_HINTS[command] ?? "check the URL and that nats-server runs there";
    const head = url ? `--nats ${url}: cannot connect (${reason(err)})` : cleanMessage(err.message);
    return { exit: ExitCode.usage, code: UsageCode.natsUnreachable, message: `${head}; is nats-server running there? Or ${hint}` };
  }
  if (typeof code === "string" && INPUT_CODES.has(code)) return { exit: ExitCode.usage, code: snake(code), message: cleanMessage(err.message) };
  if (typeof code === "string" && /^E[A-Z]{3,}$/.test(code)) {
    const path = (err as NodeJS.ErrnoException).path;
    const words = ERRNO_WORDS[code] ?? "cannot be used";
    const message = path ? `${path}: ${words}` : cleanMessage(err.message);
    return { exit: USER_ERRNO.has(code) && path ? ExitCode.usage : ExitCode.failure, code: snake(words), message };
  }
  return { exit: ExitCode.failure, code: typeof code === "string" ? snake(code) : "failed", message: cleanMessage(err.message) };
}

function reason(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  const text = cause instanceof Error ? cause.message : err.message;
  return cleanMessage(text.replace(/^cannot connect to NATS at \S+:\s*/, "").split(/\. /)[0]!);
}

/** Prints the failure (stderr, and stdout as JSON with --json) and returns the exit code. */
export function reportFailure(f: Failure, json: boolean): number {
  process.stderr.write(`troupe: ${f.message}\n`);
  if (json) process.stdout.write(JSON.stringify({ schema: "troupe.error/1", error: { code: f.code, message: f.message } }) + "\n");
  return f.exit;
}

/** Commander's own parse errors (an unknown option, a missing argument) as failures. */
export function commanderFailure(err: CommanderError): Failure {
  const message = err.message.replace(/^error:\s*/, "");
  return { exit: ExitCode.usage, code: snake(err.code.replace(/^commander\./, "")), message };
}
