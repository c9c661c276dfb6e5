// Errors of the CLI layer. A UsageError (bad input: a flag, a file, a server address the user
// gave) exits with code 2; anything else that escapes a command exits with code 1. Messages
// speak the CLI's words: the flag or file as typed and what to do, never a class name or an
// errno code (cli/failure.ts turns other layers' errors into these).
export const ExitCode = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable, snake_case codes of the `{"error":{"code","message"}}` document that --json prints. */
export const UsageCode = {
  usage: "usage",
  noSuchFile: "no_such_file",
  notAFile: "not_a_file",
  emptyFile: "empty_file",
  binaryFile: "binary_file",
  badValue: "bad_value",
  badModel: "bad_model",
  natsUnreachable: "nats_unreachable",
  tooLarge: "too_large",
  noSuchRun: "no_such_run",
} as const;
export type UsageCode = (typeof UsageCode)[keyof typeof UsageCode];

export class UsageError extends Error {
  readonly code: UsageCode;
  constructor(message: string, options?: { cause?: unknown; code?: UsageCode }) {
    super(message, options);
    this.name = "UsageError";
    this.code = options?.code ?? UsageCode.usage;
  }
}

export function isUsageError(err: unknown): err is UsageError {
  return err instanceof UsageError;
}

/** A correct request that could not be done (exit 1) with a message in the CLI's words. */
export class CommandFailedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CommandFailedError";
    this.code = code;
  }
}

export function isCommandFailedError(err: unknown): err is CommandFailedError {
  return err instanceof CommandFailedError;
}

/** The user stopped the command (Ctrl-C); exits 130 like a shell does, after saying what was kept. */
export class InterruptedError extends Error {
  readonly code = "interrupted";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InterruptedError";
  }
}

export function isInterruptedError(err: unknown): err is InterruptedError {
  return err instanceof InterruptedError;
}
