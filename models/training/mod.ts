// The trainer loop library and its helpers.
export { type EvalOptions, type StepRecord, type TrainProgress, type TrainerOptions } from "./options.js";
export { type TrainResult, train } from "./loop.js";
export { batchTensors, evalLoss } from "./evaluate.js";
export { type KernelChange, type KernelRecord, currentKernels, kernelChange } from "./determinism.js";
export { type EvalPoint, TRAINER_STATE_VERSION, type TrainerState, checkTrainerState } from "./state.js";
export { type ProgressOptions, type ProgressReporter, type ProgressStream, createProgress, progressLine } from "./progress.js";
export { DEFAULT_BETAS, type Hparams, changedHparams, hparamsOf, storedHparams, withHparams } from "./hparams.js";
export { resolveTrainer } from "./options.js";
export { type GradientSync, type StepTotals } from "./sync.js";
