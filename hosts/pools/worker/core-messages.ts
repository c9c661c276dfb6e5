// What the worker's main thread and its core threads say to each other (worker_threads
// messages; typed arrays are transferred, not copied, on the way back).
import type { Bucket } from "../proto.js";

export interface ModelShape {
  readonly arch: string;
  readonly vocabSize: number;
  readonly nLayer: number;
  readonly nEmbd: number;
  readonly maxSeqLen: number;
}

/** One execution: R real rows of a request, run in `bucket`. */
export interface CoreRun {
  readonly type: "run";
  readonly id: number;
  readonly bucket: Bucket;
  /** i32 [R, T]: the request's rows, left-aligned */
  readonly tokens: Int32Array;
  readonly T: number;
  /** R lengths in 1..T */
  readonly lengths: readonly number[];
  readonly layers: readonly number[];
  readonly logits: "none" | "all" | "last";
  readonly hidden: boolean;
  readonly lens: boolean;
}

export type CoreRequest =
  | { readonly type: "load"; readonly path: string }
  | { readonly type: "compile"; readonly buckets: readonly Bucket[] }
  | CoreRun;

export type CoreReply =
  | { readonly type: "loaded"; readonly shape: ModelShape }
  | { readonly type: "compiled" }
  | {
      readonly type: "done";
      readonly id: number;
      /** f32 [R, T, V] (all) or [R, V] (last) */
      logits?: Float32Array;
      /** f32 [L, R, T, C] */
      hidden?: Float32Array;
      /** i32 [L + 1, R, T] */
      lens?: Int32Array;
      computeMs: number;
    }
  | { readonly type: "error"; readonly id: number; readonly message: string };
