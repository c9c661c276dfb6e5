// Public surface of the report layer (between cli/ and actors/): the run report document and
// how to build, write and read it, a finished or running run's report from its state in
// JetStream, and the live progress view. The loss curves and the run events it draws come from
// the director (actors/director: the loss recorder, the observer of its snapshots).
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
  RouteRow,
  CalibrationRow,
  ArchitectureRow,
} from "./model.js";
export { architectureOf, calibrationOf, routeOf, transferRowsOf } from "./curriculum.js";

export { buildReport, jsonSafe } from "./build.js";
export type { ReportInput } from "./build.js";
export { writeReport, readReport, parseReport, writeFileAtomic, REPORT_JSON, REPORT_HTML } from "./files.js";
export type { ReportPaths } from "./files.js";
export { buildRunReport, writeRunReport } from "./run.js";
export { renderHtml } from "./html.js";
export { esc } from "./format.js";
export { stageCurves, TERM_COLORS } from "./curves.js";
export type { CurveOptions } from "./curves.js";
export { lineChart } from "./chart.js";
export type { ChartOptions, ChartLine, ChartMarker, ChartPoint } from "./chart.js";
export { SCALE_KINDS, axisFor, chooseScale, linearAxis, logAxis } from "./scale.js";
export type { Axis, ScaleKind, ScaleChoice } from "./scale.js";

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
