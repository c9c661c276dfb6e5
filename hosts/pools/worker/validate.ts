// A worker's checks on a Forward request, in a fixed order so that a request with one fault
// is refused for that fault: the model, the tokens tensor, the output dtype, the lengths, the
// row count, the longest row against the buckets, the token ids, the layers, and that
// something was asked for. Each failure is a PoolRejection whose reason picks the status code.
import { PoolReason, fromProtoTensor, isDecodeError, typedView } from "../../../protocol/mod.js";
import { PoolRejection } from "../../errors.js";
import { maxSeqLenOf } from "../buckets.js";
import type { Bucket, ForwardRequest } from "../proto.js";
import type { ModelShape } from "./core-messages.js";

export interface ServedModel {
  readonly id: string;
  readonly digest: string;
  readonly shape: ModelShape;
}

/** A request as the cores run it. */
export interface CheckedRequest {
  /** i32 [B, T] */
  readonly tokens: Int32Array;
  readonly B: number;
  readonly T: number;
  readonly lengths: number[];
  readonly layers: number[];
  readonly logits: "none" | "all" | "last";
  readonly lens: boolean;
}

export interface Limits {
  readonly buckets: readonly Bucket[];
  readonly maxRows: number;
}

export function checkForward(req: ForwardRequest, model: ServedModel, limits: Limits): CheckedRequest {
  if (req.modelId && req.modelId !== model.id) {
    throw new PoolRejection(PoolReason.modelNotFound, `model ${JSON.stringify(req.modelId)} is not served here (this worker serves ${JSON.stringify(model.id)})`, { model_id: req.modelId, served: model.id });
  }
  let tokens;
  try {
    tokens = fromProtoTensor(req.tokens, "tokens");
  } catch (err) {
    const dtypeProblem = isDecodeError(err) && err.code === "DTYPE";
    throw new PoolRejection(dtypeProblem ? PoolReason.wrongDtype : PoolReason.badTensor, (err as Error).message, { dtype: req.tokens?.dtype ?? "" });
  }
  if (tokens.dtype !== "i32") {
    throw new PoolRejection(PoolReason.wrongDtype, `tokens must be i32, got ${tokens.dtype}`, { dtype: tokens.dtype, expected: "i32" });
  }
  if (tokens.shape.length !== 2 || tokens.shape[0]! < 1 || tokens.shape[1]! < 1) {
    throw new PoolRejection(PoolReason.badTensor, `tokens must be i32 [B, T] with B, T >= 1, got [${tokens.shape.join(",")}]`, { shape: tokens.shape.join(",") });
  }
  const outDtype = req.outputs?.dtype || "f32";
  if (outDtype !== "f32") {
    throw new PoolRejection(PoolReason.wrongDtype, `output dtype ${outDtype} is not offered (this worker sends f32)`, { dtype: outDtype, offered: "f32" });
  }
  const [B, T] = tokens.shape as [number, number];
  const lengths = req.lengths.length === 0 ? Array.from({ length: B }, () => T) : req.lengths.map(Number);
  if (lengths.length !== B) {
    throw new PoolRejection(PoolReason.badLengths, `${lengths.length} lengths for ${B} rows`, { lengths: lengths.length, rows: B });
  }
  const bad = lengths.findIndex((l) => !Number.isInteger(l) || l < 1 || l > T);
  if (bad >= 0) throw new PoolRejection(PoolReason.badLengths, `row ${bad} has length ${lengths[bad]}, outside 1..${T}`, { row: bad, length: lengths[bad]!, T });
  if (B > limits.maxRows) throw new PoolRejection(PoolReason.tooManyRows, `${B} rows; this worker takes at most ${limits.maxRows} in one request`, { rows: B, max_rows: limits.maxRows });
  const maxSeq = maxSeqLenOf(limits.buckets);
  const longest = lengths.reduce((m, l, i) => (l > lengths[m]! ? i : m), 0);
  if (lengths[longest]! > maxSeq) {
    throw new PoolRejection(PoolReason.sequenceTooLong, `row ${longest} has ${lengths[longest]} tokens; the longest compiled bucket holds ${maxSeq}`, { row: longest, length: lengths[longest]!, max_seq_len: maxSeq });
  }
  const ids = typedView(tokens as typeof tokens & { dtype: "i32" });
  const V = model.shape.vocabSize;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < lengths[b]!; p++) {
      const id = ids[b * T + p]!;
      if (id < 0 || id >= V) throw new PoolRejection(PoolReason.tokenOutOfRange, `token ${id} at row ${b}, position ${p} is outside 0..${V - 1}`, { row: b, position: p, token: id, vocab_size: V });
    }
  }
  const layers = (req.outputs?.hiddenLayers ?? []).map(Number);
  const badLayer = layers.find((l) => !Number.isInteger(l) || l < 0 || l > model.shape.nLayer);
  if (badLayer !== undefined) {
    throw new PoolRejection(PoolReason.layerOutOfRange, `hidden layer ${badLayer} is outside 0..${model.shape.nLayer}`, { layer: badLayer, n_layer: model.shape.nLayer });
  }
  const mode = req.outputs?.logits ?? "LOGITS_NONE";
  const logits = mode === "LOGITS_ALL" ? "all" : mode === "LOGITS_LAST" ? "last" : "none";
  const lens = req.outputs?.lens === true;
  if (logits === "none" && layers.length === 0 && !lens) throw new PoolRejection(PoolReason.noOutputs, "the request asks for no output (no logits, no hidden layers, no lens)");
  // a private aligned copy: the request's buffer may be a view into a larger one
  return { tokens: Int32Array.from(ids), B, T, lengths, layers, logits, lens };
}
