// Public surface of the run report: the report document and how to build, write and read it,
// the loss recorder, the director observer that turns snapshots into events, and the live
// progress view. Pure rendering; the runtime decides when to call it.
export { REPORT_FORMAT } from "./model.js";
export type {
  RunReport,
  ReportFormat,
  StageReport,
  AttemptReport,
  GateRow,
  LossName,
  LossRow,
  ScenarioInfo,
  CastMember,
  HostInfo,
  TransferRow,
  BenchmarkRow,
} from "./model.js";

export { buildReport, jsonSafe } from "./build.js";
export type { ReportInput } from "./build.js";
export { configDigest, canonicalJson } from "./digest.js";
export { writeReport, readReport, parseReport, writeFileAtomic, REPORT_JSON, REPORT_HTML } from "./files.js";
export type { ReportPaths } from "./files.js";
export { renderHtml } from "./html.js";
export { esc } from "./format.js";
export { stageCurves, TERM_COLORS } from "./curves.js";
export type { CurveOptions } from "./curves.js";
export { lineChart } from "./chart.js";
export type { ChartOptions, ChartLine, ChartMarker, ChartPoint } from "./chart.js";
export { SCALE_KINDS, axisFor, chooseScale, linearAxis, logAxis } from "./scale.js";
export type { Axis, ScaleKind, ScaleChoice } from "./scale.js";

export { createLossRecorder, DEFAULT_MAX_POINTS, RECORDER_FORMAT } from "./recorder.js";
export type { LossRecorder, LossRecorderOptions, LossRecorderState, LossReport, AttemptSeries } from "./recorder.js";
export type { SeriesPoint, TermSeries } from "./series.js";

export { PHASES } from "./events.js";
export type {
  ReportEvent,
  ReportEventType,
  Phase,
  ReportedLosses,
  RunStartedEvent,
  StageStartedEvent,
  AttemptStartedEvent,
  PhaseEvent,
  ProgressEvent,
  AttemptEndedEvent,
  StageEndedEvent,
  RunEndedEvent,
} from "./events.js";
export { createDirectorObserver, phaseOf } from "./observer.js";
export type { DirectorObserver, DirectorObserverOptions, ObservedSnapshot } from "./observer.js";
export { createProgressView } from "./progress.js";
export type { ProgressView, ProgressOptions, ProgressStream } from "./progress.js";

export {
  ReportErrorCode,
  ReportInputError,
  ReportFormatError,
  ReportWriteError,
  isReportInputError,
  isReportFormatError,
  isReportWriteError,
} from "./errors.js";
