// Errors of the report. Each class sets `name` to the class name and carries a `code`; use the
// predicates, not string matching.

export const ReportErrorCode = {
  input: "REPORT_INPUT",
  format: "REPORT_FORMAT",
  write: "REPORT_WRITE",
} as const;
export type ReportErrorCode = (typeof ReportErrorCode)[keyof typeof ReportErrorCode];

/** buildReport() was given neither a director context nor a run summary. */
export class ReportInputError extends Error {
  readonly code = ReportErrorCode.input;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReportInputError";
  }
}

/** A report.json that is not a troupe report, or one of a format this version cannot read. */
export class ReportFormatError extends Error {
  readonly code = ReportErrorCode.format;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReportFormatError";
  }
}

/** Writing report.json or report.html failed; nothing half-written was left behind. */
export class ReportWriteError extends Error {
  readonly code = ReportErrorCode.write;
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`could not write ${path}: ${message}`, options);
    this.name = "ReportWriteError";
  }
}

export function isReportInputError(err: unknown): err is ReportInputError {
  return err instanceof ReportInputError;
}
export function isReportFormatError(err: unknown): err is ReportFormatError {
  return err instanceof ReportFormatError;
}
export function isReportWriteError(err: unknown): err is ReportWriteError {
  return err instanceof ReportWriteError;
}
