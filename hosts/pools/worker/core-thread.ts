// One emulated accelerator core: a worker thread with its own copy of the model and a kernel
// pool of one thread. It only ever runs compiled shapes: "compile" builds one workspace per
// bucket (its buffers are reused by every later run of that shape, like a compiled graph's)
// and runs it once; "run" pads the rows it is given to the bucket — tokens on the right, empty
// rows below — runs the whole bucket, and cuts the real rows and positions back out.
// Legend: Bb bucket batch, S bucket seq_len, R real rows, T request time, V vocab, C channels,
// L hidden layers.
import { parentPort } from "node:worker_threads";
import { type Workspace, configureKernels, fromArray, noGrad, workspace } from "../../../kernels/mod.js";
import { type CausalLM, captureHidden, loadModelFile, logitLens } from "../../../models/mod.js";
import type { CoreReply, CoreRequest, CoreRun, ModelShape } from "./core-messages.js";

let model: CausalLM | null = null;
const spaces = new Map<string, Workspace>();

function shapeOf(m: CausalLM): ModelShape {
  const d = m.dims;
  return { arch: m.arch, vocabSize: d.vocabSize, nLayer: d.layers, nEmbd: d.hidden, maxSeqLen: d.maxPositions };
}

function argmaxInto(x: Float32Array, at: number, V: number): number {
  let best = 0;
  for (let v = 1; v < V; v++) if (x[at + v]! > x[at + best]!) best = v;
  return best;
}

function run(r: CoreRun): CoreReply {
  const m = model!;
  const { batch: Bb, seqLen: S } = r.bucket;
  const { vocabSize: V, hidden: C } = m.dims;
  const R = r.lengths.length;
  const T = r.T;
  const L = r.layers.length;
  // pad: each real row's first min(length, S) tokens, zeros elsewhere (masked: never attended to)
  const idx = new Int32Array(Bb * S);
  for (let b = 0; b < R; b++) idx.set(r.tokens.subarray(b * T, b * T + Math.min(r.lengths[b]!, S)), b * S);
  const key = `${Bb}x${S}`;
  let ws = spaces.get(key);
  if (!ws) spaces.set(key, (ws = workspace()));
  const t0 = performance.now();
  return ws.run(() => noGrad(() => {
    const { logits, hidden } = captureHidden(m, fromArray(idx, [Bb, S]), r.layers);
    const all = logits.f32();
    const out: CoreReply & { type: "done" } = { type: "done", id: r.id, computeMs: 0 };
    if (r.logits === "all") {
      const o = new Float32Array(R * T * V);
      for (let b = 0; b < R; b++) {
        const n = Math.min(r.lengths[b]!, S, T);
        o.set(all.subarray(b * S * V, (b * S + n) * V), b * T * V);
      }
      out.logits = o;
    } else if (r.logits === "last") {
      const o = new Float32Array(R * V);
      for (let b = 0; b < R; b++) {
        const p = r.lengths[b]! - 1;
        o.set(all.subarray((b * S + p) * V, (b * S + p + 1) * V), b * V);
      }
      out.logits = o;
    }
    if (r.hidden && L > 0) {
      const o = new Float32Array(L * R * T * C);
      r.layers.forEach((l, i) => {
        const h = hidden.get(l)!.f32();
        for (let b = 0; b < R; b++) {
          const n = Math.min(r.lengths[b]!, S, T);
          o.set(h.subarray(b * S * C, (b * S + n) * C), ((i * R + b) * T) * C);
        }
      });
      out.hidden = o;
    }
    if (r.lens) {
      const o = new Int32Array((L + 1) * R * T).fill(-1);
      const fill = (i: number, x: Float32Array) => {
        for (let b = 0; b < R; b++) {
          const n = Math.min(r.lengths[b]!, S, T);
          for (let p = 0; p < n; p++) o[(i * R + b) * T + p] = argmaxInto(x, (b * S + p) * V, V);
        }
      };
      r.layers.forEach((l, i) => fill(i, logitLens(m, hidden.get(l)!, l).f32()));
      fill(L, all);
      out.lens = o;
    }
    out.computeMs = performance.now() - t0;
    return out;
  }));
}

function handle(msg: Exclude<CoreRequest, { type: "load" }>): CoreReply {
  if (!model) throw new Error("no model loaded on this core");
  switch (msg.type) {
    case "compile": {
      for (const b of msg.buckets) {
        const lengths = Array.from({ length: b.batch }, () => b.seqLen);
        run({ type: "run", id: -1, bucket: b, tokens: new Int32Array(b.batch * b.seqLen), T: b.seqLen, lengths, layers: [], logits: "last", hidden: false, lens: false });
      }
      return { type: "compiled" };
    }
    case "run":
      return run(msg);
  }
}

parentPort!.on("message", (msg: CoreRequest) => {
  void (async () => {
    let reply: CoreReply;
    try {
      if (msg.type === "load") {
        configureKernels({ threads: 1 });
        spaces.clear();
        model = null;
        const loaded = await loadModelFile(msg.path);
        loaded.model.eval();
        loaded.model.freeze();
        model = loaded.model;
        reply = { type: "loaded", shape: shapeOf(loaded.model) };
      } else {
        reply = handle(msg);
      }
    } catch (err) {
      reply = { type: "error", id: msg.type === "run" ? msg.id : -1, message: (err as Error).message };
    }
    const transfer = reply.type === "done" ? [reply.logits?.buffer, reply.hidden?.buffer, reply.lens?.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer) : [];
    parentPort!.postMessage(reply, transfer);
  })();
});
