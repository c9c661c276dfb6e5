// Errors of the scenarios layer. A ScenarioError lists every problem found, each as
// `file:line key.path: message`; the CLI prints them and exits 2 without starting anything.

export const ScenarioErrorCode = {
  invalid: "SCENARIO_INVALID",
  read: "SCENARIO_READ",
} as const;
export type ScenarioErrorCode = (typeof ScenarioErrorCode)[keyof typeof ScenarioErrorCode];

export interface ScenarioIssue {
  readonly file: string;
  /** 1-based line of the offending key or value. */
  readonly line: number;
  readonly col: number;
  /** Dotted key path, e.g. "curriculum.stages.1.gate.min"; "" for the document itself. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(i: ScenarioIssue): string {
  return i.path === "" ? `${i.file}:${i.line}: ${i.message}` : `${i.file}:${i.line} ${i.path}: ${i.message}`;
}

/** A scenario file that does not validate. `issues` is sorted by line. */
export class ScenarioError extends Error {
  readonly code = ScenarioErrorCode.invalid;
  readonly issues: readonly ScenarioIssue[];
  constructor(readonly file: string, issues: readonly ScenarioIssue[], options?: { cause?: unknown }) {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
    super(sorted.map(formatIssue).join("\n"), options);
    this.name = "ScenarioError";
    this.issues = sorted;
  }
}

/** The scenario file could not be read at all. */
export class ScenarioReadError extends Error {
  readonly code = ScenarioErrorCode.read;
  constructor(readonly file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = "ScenarioReadError";
  }
}

export function isScenarioError(err: unknown): err is ScenarioError {
  return err instanceof ScenarioError;
}
export function isScenarioReadError(err: unknown): err is ScenarioReadError {
  return err instanceof ScenarioReadError;
}
