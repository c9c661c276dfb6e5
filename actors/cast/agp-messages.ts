// The messages of curriculum stages 2-6: the oracle's work queue and its label batches, the
// evaluator's gate question for a head stage, and the transfer encoder's and decoder's calls.
// Stage jobs for the heads go on the trainer's queue as TrainJob kind "heads" (messages.ts),
// with their stage settings in `agp` (AgpJobSpec, checked by checkAgpJob).
// Legend: B rows, T time, n counted positions (response tokens), H head layers, I items.
import { type Infer, defineMessage, t } from "../../protocol/mod.js";
import { CheckpointRefSchema } from "./messages.js";

/** What the oracle decides agreement by (models' OracleConfig, the scenario's `oracle:`). */
export const OracleSettingsSchema = t.object({
  klMax: t.number({ min: 0, finite: true }),
  top1: t.boolean(),
  rule: t.oneOf(["stable", "first"]),
});
export type OracleSettings = Infer<typeof OracleSettingsSchema>;

/** The weights a head stage runs on: a model checkpoint, its adapter as stage 6 left it, the heads so far. */
export const WeightsSchema = t.object({
  model: CheckpointRefSchema,
  /** Object (bucket heads) with the model's adapter parameters after a joint finetune; absent: the checkpoint's. */
  adapter: t.optional(t.string({ maxLength: 256 })),
  /** Object (bucket heads) with the head set; absent: no heads yet. */
  heads: t.optional(t.string({ maxLength: 256 })),
});
export type Weights = Infer<typeof WeightsSchema>;

/**
 * One batch of prompts to label (a JetStream work queue; job id = message id). The oracle runs
 * the frozen model at full depth over items [from, to) of `lane` (less the prompts of
 * `without`, the stage's eval lane, when the lane trains), decodes every candidate
 * layer with the logit lens and labels every response token at the head layers, with the
 * reference norm of each head layer taken over the lane's reference batch (the same for every
 * batch and every oracle).
 */
export const OracleJob = defineMessage(
  "cast.oracle.job",
  t.object({
    jobId: t.string({ maxLength: 128 }),
    stage: t.int({ min: 2, max: 6 }),
    lane: t.string({ maxLength: 64 }),
    /** a lane whose prompts are left out of `lane` before batching (the stage's eval lane) */
    without: t.optional(t.string({ maxLength: 64 })),
    batch: t.int({ min: 0 }),
    from: t.int({ min: 0 }),
    to: t.int({ min: 1 }),
    model: CheckpointRefSchema,
    /** residual-stream indices, ascending */
    candidates: t.array(t.int({ min: 0 }), { maxLength: 256 }),
    heads: t.array(t.int({ min: 0 }), { maxLength: 256 }),
    oracle: OracleSettingsSchema,
    /** the reference batch: items [from, to) of `lane` (less `without`) — the training lane's first batch */
    reference: t.object({ lane: t.string({ maxLength: 64 }), without: t.optional(t.string({ maxLength: 64 })), from: t.int({ min: 0 }), to: t.int({ min: 1 }) }),
  }),
);
export type OracleJobBody = Infer<typeof OracleJob.body>;

/**
 * The labels of one batch, stored in the run's label stream (message id = the job id, so a
 * batch labelled twice — its oracle died after storing it — is stored once). Per head layer h
 * and counted position r: route and vitality classes and their confidences.
 */
export const OracleLabels = defineMessage(
  "cast.oracle.labels",
  t.object({
    jobId: t.string({ maxLength: 128 }),
    stage: t.int({ min: 2, max: 6 }),
    lane: t.string({ maxLength: 64 }),
    batch: t.int({ min: 0 }),
    from: t.int({ min: 0 }),
    to: t.int({ min: 1 }),
    candidates: t.array(t.int({ min: 0 }), { maxLength: 256 }),
    heads: t.array(t.int({ min: 0 }), { maxLength: 256 }),
    /** reference norm per head layer */
    normRef: t.array(t.number({ finite: true }), { maxLength: 256 }),
    /** i32 [I]: counted positions of each item */
    perItem: t.tensor({ dtypes: ["i32"], rank: 1 }),
    /** i32 [H, n] */
    route: t.tensor({ dtypes: ["i32"], rank: 2 }),
    /** f32 [H, n] */
    routeConfidence: t.tensor({ dtypes: ["f32"], rank: 2 }),
    vitality: t.tensor({ dtypes: ["i32"], rank: 2 }),
    vitalityConfidence: t.tensor({ dtypes: ["f32"], rank: 2 }),
    /** i32 [n]: earliest acceptable layer by the rule (-1: only the final layer) */
    earliest: t.tensor({ dtypes: ["i32"], rank: 1 }),
    /** who labelled it: the oracle's address and the queue's delivery count */
    by: t.string({ maxLength: 256 }),
    delivery: t.int({ min: 1 }),
  }),
);
export type OracleLabelsBody = Infer<typeof OracleLabels.body>;

/** The settings of a stage-2..6 `heads` job (TrainJob.agp), plain JSON. */
export interface AgpJobSpec {
  readonly weights: Weights;
  /** Object (bucket heads) the trained head set goes to; stage 6 also writes `<headsOut>.adapter`. */
  readonly headsOut: string;
  /** The eval lane (its prompts never train). */
  readonly evalLane: string | null;
  /** Residual indices: the oracle's candidates, the stage-2 head layers, the stage-3 residuals, the stage-5 splits. */
  readonly candidates: readonly number[];
  readonly headLayers: readonly number[];
  readonly depthLayers: readonly number[];
  readonly splitLayers: readonly number[];
  /** Stage 4: the index the semantic head reads. */
  readonly semanticLayer: number | null;
  /** The stage's loss terms: λ at step k is lambdasFor(schedule, k). */
  readonly schedule: Readonly<Record<string, { readonly weight: number; readonly ramp: { readonly kind: string; readonly steps: number } }>>;
  readonly oracle: OracleSettings;
  /** Stage 2: the label stream's batches of the training lane to train on. */
  readonly labels: { readonly stage: number; readonly lane: string; readonly batches: number } | null;
  readonly bitratePenalty: number | null;
}

/**
 * The evaluator's gate question for a head stage: the stage's measurement on the eval lane with
 * the weights its training left (stage 5: the constant-state baseline; the codecs are measured
 * by the transfer actors). The answer is the models layer's GateReport as JSON, with its
 * per-item vectors as tensors. Answers are cached in KV by stage, attempt and weights.
 */
export const AgpGateQuestion = defineMessage(
  "cast.eval.agp",
  t.object({
    stage: t.int({ min: 2, max: 6 }),
    attempt: t.int({ min: 1 }),
    metric: t.string({ maxLength: 64 }),
    threshold: t.optional(t.number({ finite: true })),
    lane: t.string({ maxLength: 64 }),
    evalLane: t.string({ maxLength: 64 }),
    weights: WeightsSchema,
    /** Stage 6: the weights before the joint finetune (the rollback point) */
    before: t.optional(WeightsSchema),
    /** Stage-specific settings (plain JSON): layers, oracle labels to use, repeats, ... */
    settings: t.unknown(),
  }),
  t.object({
    /** GateReport without its per-item vectors, as JSON */
    report: t.unknown(),
    /** The per-item vectors: score, named, then each trivial baseline (f32 [K, N]) */
    items: t.optional(t.tensor({ dtypes: ["f32"], rank: 2 })),
    cached: t.boolean(),
  }),
);
export type AgpGateAnswer = Infer<NonNullable<typeof AgpGateQuestion.reply>>;

/** Measure one codec at one split on one batch: the encoder encodes, the decoder resumes (stage 5). */
export const TransferMeasure = defineMessage(
  "cast.transfer.measure",
  t.object({
    weights: WeightsSchema,
    layer: t.int({ min: 0 }),
    codec: t.string({ maxLength: 32 }),
    /** i32 [B, T] */
    idx: t.tensor({ dtypes: ["i32"], rank: 2 }),
    /** f32 [B·T]: 1 where the resumed prediction counts */
    mask: t.tensor({ dtypes: ["f32"], rank: 1 }),
  }),
  t.object({
    /** f32 [n]: KL(no transfer ‖ resumed) of every counted position */
    kl: t.tensor({ dtypes: ["f32"], rank: 1 }),
    agree: t.int({ min: 0 }),
    counted: t.int({ min: 0 }),
    /** packet bytes (header included) and payload bytes, for B·T tokens */
    bytes: t.int({ min: 0 }),
    payloadBytes: t.int({ min: 0 }),
    tokens: t.int({ min: 0 }),
    encodeMs: t.number({ min: 0 }),
    decodeMs: t.number({ min: 0 }),
    /** the decoder that resumed it */
    decoder: t.string({ maxLength: 256 }),
    /** the encoder's host */
    host: t.optional(t.string({ maxLength: 64 })),
    /**
     * On hosts, with the decoder on another host: the fields above are the same-host path (the
     * encoder's host decodes the packet itself) and this is the same packet sent over a link to
     * the decoder on `host` and resumed there.
     */
    crossHost: t.optional(t.object({
      host: t.string({ maxLength: 64 }),
      decoder: t.string({ maxLength: 256 }),
      kl: t.tensor({ dtypes: ["f32"], rank: 1 }),
      agree: t.int({ min: 0 }),
      counted: t.int({ min: 0 }),
      payloadBytes: t.int({ min: 0 }),
      /** packet bytes the decoder received over the link (the attachment) */
      receivedBytes: t.int({ min: 0 }),
      decodeMs: t.number({ min: 0 }),
      /** send → answer over the link */
      roundTripMs: t.number({ min: 0 }),
    })),
  }),
);

/** A packet frame over a link (actors/transfer/link.ts): the packet is the frame's attachment. */
export const TransferLinkPacket = t.object({
  seq: t.int({ min: 0 }),
  weights: WeightsSchema,
  idx: t.tensor({ dtypes: ["i32"], rank: 2 }),
  mask: t.tensor({ dtypes: ["f32"], rank: 1 }),
});
/** The decoder's answer over the link. */
export const TransferLinkMeasured = t.object({
  seq: t.int({ min: 0 }),
  kl: t.tensor({ dtypes: ["f32"], rank: 1 }),
  agree: t.int({ min: 0 }),
  counted: t.int({ min: 0 }),
  payloadBytes: t.int({ min: 0 }),
  decodeMs: t.number({ min: 0 }),
  receivedBytes: t.int({ min: 0 }),
});

/**
 * A hidden-state packet for the decoder (models/transfer's bytes, unchanged: the cross-host
 * path sends the same ones). `idx` and `mask` are for the fidelity measurement only: the
 * decoder runs the no-transfer forward pass on them to compare.
 */
export const TransferPacket = defineMessage(
  "cast.transfer.packet",
  t.object({
    weights: WeightsSchema,
    packet: t.bytes({ maxLength: 7 << 20 }),
    idx: t.tensor({ dtypes: ["i32"], rank: 2 }),
    mask: t.tensor({ dtypes: ["f32"], rank: 1 }),
  }),
  t.object({
    kl: t.tensor({ dtypes: ["f32"], rank: 1 }),
    agree: t.int({ min: 0 }),
    counted: t.int({ min: 0 }),
    payloadBytes: t.int({ min: 0 }),
    decodeMs: t.number({ min: 0 }),
    decoder: t.string({ maxLength: 256 }),
  }),
);

/** What a transfer decoder counted since it started (packets received, decoded, refused by reason). */
export const TransferCounters = defineMessage(
  "cast.transfer.counters",
  t.object({}),
  t.object({ received: t.int({ min: 0 }), decoded: t.int({ min: 0 }), rejected: t.int({ min: 0 }), rejectedByReason: t.record(t.int({ min: 0 })) }),
);
