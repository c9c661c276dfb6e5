// The messages of the cast: stage jobs on the trainer's work queue, training progress,
// checkpoint announcements, cancellation, the teacher's forward passes and the evaluator's
// scores and gate answers. Bodies are plain data plus wire tensors; a checkpoint is named by
// the models layer's CheckpointRef (run, stage, step, kind) in the store of a given bucket.
import { type Infer, defineMessage, t } from "../../protocol/mod.js";

/** A checkpoint in the Object Store: bucket troupe_<ref.run>_<bucket>, objects <stage>/<kind>-<step>/… */
export const CheckpointRefSchema = t.object({
  bucket: t.string({ maxLength: 64 }),
  run: t.string({ maxLength: 64 }),
  stage: t.string({ maxLength: 64 }),
  step: t.int({ min: 0 }),
  kind: t.oneOf(["step", "best"]),
});
export type StoredCheckpoint = Infer<typeof CheckpointRefSchema>;

export const JOB_KINDS = ["base", "adapter", "heads"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * A stage job for the trainer (a JetStream work queue: redelivered if the trainer dies).
 * `base`: pretrain the frozen base on `lane`; `adapter`: train the LoRA/DoRA adapter of the
 * stage on `lane` over `base`, never on the prompts of `evalLane`; `heads`: a stage-2..6 job on
 * the frozen stage model (`agp`: its weights, layers, λ schedule, oracle labels; agp-messages.ts).
 */
export const TrainJob = defineMessage(
  "cast.train.job",
  t.object({
    jobId: t.string({ maxLength: 128 }),
    kind: t.oneOf(JOB_KINDS),
    stage: t.int({ min: 0, max: 6 }),
    attempt: t.int({ min: 1 }),
    lane: t.string({ maxLength: 64 }),
    evalLane: t.optional(t.string({ maxLength: 64 })),
    steps: t.int({ min: 1 }),
    lr: t.number({ min: 0, finite: true }),
    batch: t.int({ min: 1 }),
    warmup: t.int({ min: 0 }),
    seed: t.int({ min: 0 }),
    checkpointEvery: t.int({ min: 0 }),
    /** Where the job's checkpoints go (the models layer's checkpoint "run" and "stage"). */
    checkpoints: t.object({ bucket: t.string({ maxLength: 64 }), run: t.string({ maxLength: 64 }), stage: t.string({ maxLength: 64 }) }),
    base: t.optional(CheckpointRefSchema),
    /** kind "heads": the stage's settings (AgpJobSpec, plain JSON) */
    agp: t.optional(t.unknown()),
  }),
);
export type TrainJobBody = Infer<typeof TrainJob.body>;

/** Steps done since the last report, stored in the run's progress stream (progress.ts). */
export const TrainProgress = defineMessage(
  "cast.train.progress",
  t.object({
    jobId: t.string({ maxLength: 128 }),
    stage: t.int({ min: 0, max: 6 }),
    attempt: t.int({ min: 1 }),
    steps: t.int({ min: 1 }),
    points: t.array(
      t.object({
        step: t.int({ min: 1 }),
        /** the total: the λ-weighted composite loss */
        loss: t.number({ allowNaN: true }),
        tokens: t.int({ min: 0 }),
        /** each loss term of the composite loss, unweighted, and `total` (head stages) */
        losses: t.optional(t.record(t.number({ allowNaN: true }))),
      }),
      { maxLength: 10_000 },
    ),
  }),
);
export type TrainProgressBody = Infer<typeof TrainProgress.body>;

/** The director gave up on a job (attempt timeout, run stopped): stop it and do not retry. */
export const CancelJob = defineMessage(
  "cast.train.cancel",
  t.object({
    jobId: t.string({ maxLength: 128 }),
    reason: t.string({ maxLength: 1024 }),
    /** The asking director's lease epoch: refused when a newer director owns the run. */
    epoch: t.optional(t.int({ min: 0 })),
  }),
);

/** A checkpoint the trainer wrote and is durable, for the evaluator (broadcast). */
export const CheckpointAnnounced = defineMessage(
  "cast.checkpoint.announced",
  t.object({
    jobId: t.string({ maxLength: 128 }),
    kind: t.oneOf(JOB_KINDS),
    stage: t.int({ min: 0, max: 6 }),
    attempt: t.int({ min: 1 }),
    evalLane: t.optional(t.string({ maxLength: 64 })),
    checkpoint: CheckpointRefSchema,
  }),
);
export type CheckpointAnnouncedBody = Infer<typeof CheckpointAnnounced.body>;

/**
 * One full-depth forward pass of a frozen checkpoint (the teacher batches concurrent ones).
 * idx/targets: i32 [B, T]; `layers`: residual-stream indices to capture (0 = embeddings,
 * i = after block i-1). Replies with what `want` asks for: logits f32 [B, T, V], hidden
 * f32 [L, B, T, C], lens i32 [L + 1, B, T] (logit-lens argmax per layer, then the final
 * layer's), and the masked cross-entropy of `targets` (sum and token count).
 */
export const TeacherForward = defineMessage(
  "cast.teacher.forward",
  t.object({
    checkpoint: CheckpointRefSchema,
    idx: t.tensor({ dtypes: ["i32"], rank: 2 }),
    targets: t.optional(t.tensor({ dtypes: ["i32"], rank: 2 })),
    layers: t.array(t.int({ min: 0 }), { maxLength: 256 }),
    want: t.object({ logits: t.boolean(), hidden: t.boolean(), lens: t.boolean() }),
    /** Store the captured hidden states (f16) in the run's hidden bucket under this name. */
    storeAs: t.optional(t.string({ maxLength: 256 })),
  }),
  t.object({
    logits: t.optional(t.tensor({ dtypes: ["f32"], rank: 3 })),
    hidden: t.optional(t.tensor({ dtypes: ["f32"], rank: 4 })),
    lens: t.optional(t.tensor({ dtypes: ["i32"], rank: 3 })),
    lossSum: t.number({ min: 0 }),
    tokens: t.int({ min: 0 }),
    stored: t.optional(t.object({ name: t.string(), bytes: t.int({ min: 0 }), digest: t.string() })),
    /** Requests served by the same forward pass (1 = not batched with others). */
    batchedWith: t.int({ min: 1 }),
  }),
);
export type TeacherForwardBody = Infer<typeof TeacherForward.body>;
export type TeacherForwardReply = Infer<NonNullable<typeof TeacherForward.reply>>;

/** Exact match and masked CE, overall and per domain. */
export const ScoreSchema = t.object({
  n: t.int({ min: 0 }),
  exactMatch: t.number({ min: 0, max: 1 }),
  loss: t.number({ min: 0 }),
  byDomain: t.record(t.object({ n: t.int({ min: 0 }), exactMatch: t.number({ min: 0, max: 1 }), loss: t.number({ min: 0 }) })),
  examples: t.array(t.object({ prompt: t.string(), expected: t.string(), got: t.string() }), { maxLength: 16 }),
  /**
   * Per item of the lane, in its order: "1" where the greedy answer was right, "0" where not —
   * what a gate compares item by item with its references (absent in scores cached by an older
   * evaluator).
   */
  hits: t.optional(t.string()),
  /** Exact match by the expected answer's length in characters ("7": answers of 7 characters). */
  byLength: t.optional(t.record(t.object({ n: t.int({ min: 0 }), exactMatch: t.number({ min: 0, max: 1 }) }))),
});
export type Score = Infer<typeof ScoreSchema>;

/** Scores a checkpoint on a lane (cached in KV by checkpoint and lane). */
export const ScoreCheckpoint = defineMessage(
  "cast.eval.score",
  t.object({ checkpoint: CheckpointRefSchema, lane: t.string({ maxLength: 64 }) }),
  t.object({ score: ScoreSchema, cached: t.boolean() }),
);

/**
 * The director's gate question for stage 1: base vs adapted on the eval lane. The reply's
 * `metric` is the evaluator's (em_gain: over the base alone); the director's work measures
 * em_gain against the trivial baselines too, from the per-item hits (work/adapter-gate.ts).
 */
export const GateQuestion = defineMessage(
  "cast.eval.gate",
  t.object({
    stage: t.int({ min: 0, max: 6 }),
    attempt: t.int({ min: 1 }),
    metric: t.string({ maxLength: 64 }),
    lane: t.string({ maxLength: 64 }),
    base: CheckpointRefSchema,
    adapted: CheckpointRefSchema,
  }),
  t.object({
    metric: t.number({ allowNaN: true }),
    base: ScoreSchema,
    adapted: ScoreSchema,
    /** Announced checkpoints of this attempt scored so far, by step. */
    trajectory: t.array(t.object({ step: t.int({ min: 0 }), exactMatch: t.number(), loss: t.number() })),
  }),
);
export type GateAnswer = Infer<NonNullable<typeof GateQuestion.reply>>;
