export { loadFixture, gptConfigOf, type Fixture, type FixtureConfig, type FixtureAdamW } from "./fixture.js";
export { verifyFixture, gptNumerics, type VerifyReport } from "./verify.js";
export {
  CheckKind,
  compareToReference,
  requireReferenceTensors,
  type CheckSummary,
  type ReferenceBounds,
  type ReferenceComparison,
  type ReferenceExpectation,
  type ReferenceRun,
  type TensorCheck,
} from "./compare.js";
export {
  F32_UNIT_ROUNDOFF,
  TRAJECTORY_FRACTION,
  adamStepBound,
  adamTravel,
  compareElements,
  compareScaled,
  compareTrajectory,
  f32RelativeBound,
  paramRounding,
  type AdamWSettings,
  type NumericsShape,
  type TensorComparison,
  type TrajectoryComparison,
  type TrajectoryOptions,
  type WorstElement,
} from "./tolerance.js";
export { SWEEP_SIZES, runSweep, torchMissing, type FixtureSpec, type SweepOptions, type SweepReport, type SweepWorst } from "./sweep.js";
