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
