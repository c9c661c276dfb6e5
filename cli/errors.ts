// Errors of the CLI layer. A UsageError exits with code 2; anything else that escapes a
// command exits with code 1.
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class UsageError extends Error {
  readonly code = "USAGE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}

export function isUsageError(err: unknown): err is UsageError {
  return err instanceof UsageError;
}
