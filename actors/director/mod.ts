// Public surface of the director: the curriculum statechart, its seams (StageWork,
// SnapshotStore, DirectorClock), the plan it runs, and what it reports.
export {
  STAGE_IDS,
  STAGES,
  LOSS_TERMS,
  LOSS_HOME_STAGE,
  MODULES,
  MODULE_HOME_STAGE,
  METRICS,
  DIRECTIONS,
  isStageId,
  stageInfo,
  stageLabel,
} from "./stages.js";
export type { StageId, LossTerm, LossName, ModuleName, Direction, MetricInfo, StageInfo } from "./stages.js";

export { RAMP_KINDS, checkPlan, stagePlan } from "./plan.js";
export type {
  CurriculumPlan,
  StagePlan,
  GatePlan,
  RetryPlan,
  RetryChange,
  LossPlan,
  LossSchedule,
  Ramp,
  RampKind,
} from "./plan.js";

export { lambdasAt, lambdasFor, rampFactor, termsSwitchedOn, zeroLambdas } from "./lambdas.js";
export type { Lambdas } from "./lambdas.js";
export { attemptSettings, maxAttempts } from "./attempts.js";
export type { AttemptSettings } from "./attempts.js";
export { describeEvidence, judgeGate } from "./gate.js";
export type { Evidence, GateCheck, GateEvidence, GateVerdict } from "./gate.js";

export type {
  StageWork,
  WorkInput,
  PrepareInput,
  PrepareOutput,
  TrainInput,
  TrainOutput,
  TrainProgress,
  ProgressListener,
  EvaluateInput,
  EvaluateOutput,
  CheckpointInput,
  CheckpointOutput,
  RollbackInput,
  LossValues,
} from "./work.js";
export type { JsonValue, JsonObject } from "./json.js";
export { systemClock, waitUntil } from "./clock.js";
export type { DirectorClock } from "./clock.js";

export { DIRECTOR_CHART_VERSION, initialContext } from "./context.js";
export type {
  DirectorContext,
  DirectorInput,
  StageRecord,
  AttemptRecord,
  AttemptOutcome,
  StageStatus,
  StopRecord,
  StopKind,
  RunOutcome,
  ProgressRecord,
} from "./context.js";

export { directorMachine } from "./machine.js";
export type { DirectorMachine, DirectorEvent, WaitInput } from "./machine.js";
export { provideDirector, directorActors } from "./provide.js";
export type { DirectorDeps, ProvidedDirectorMachine } from "./provide.js";
export { startDirector, resumeDirector } from "./director.js";
export type { DirectorHandle, DirectorOptions, StartOptions } from "./director.js";
export { createMemorySnapshotStore } from "./store.js";
export type { SnapshotStore, StoredSnapshot, PersistedDirectorSnapshot, MemorySnapshotStore } from "./store.js";

export { summarizeRun, summarizeStage } from "./summary.js";
export type { RunSummary, StageSummary } from "./summary.js";

export {
  DirectorErrorCode,
  DirectorPlanError,
  SnapshotConflictError,
  DirectorSnapshotError,
  StageWorkError,
  NotProvidedError,
  ChartFormatError,
  DirectorStoppedError,
  isDirectorStoppedError,
  isDirectorPlanError,
  isSnapshotConflictError,
  isDirectorSnapshotError,
  isStageWorkError,
  isNotProvidedError,
  isChartFormatError,
  toErrorRecord,
} from "./errors.js";
export type { ErrorRecord, WorkOp } from "./errors.js";

export { statusOf, formatStatus, stateName } from "./status.js";
export type { StatusView } from "./status.js";

export { CHART_FORMATS, chartDocument, chartToMermaid, formatChart, chartFormatForPath } from "./chart.js";
export type { ChartDocument, ChartFormat, ChartState, ChartTransition } from "./chart.js";

// What the run reports as it goes: director snapshots as run events, and the loss curves per
// stage, attempt and term (bounded memory, persistable). The report layer renders them.
export { createLossRecorder, compareTerms, DEFAULT_MAX_POINTS, RECORDER_FORMAT } from "./recorder.js";
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
