// The teacher's compute on an accelerator pool: the same pass as forward.ts, but each row goes
// to the pool as its own sequence (the scheduler packs rows into the workers' buckets) and the
// answers are put back together in the layout forwardMany produces, so the reply — and the
// loss, the lens and the stored hidden states — are the same as a local teacher's.
// Legend: B rows of a request, T time, V vocab, C channels, L captured layers.
import type { Pool } from "../../hosts/pools/mod.js";
import { type ForwardRequest, type ForwardResult, type ForwardWant, splitResults } from "./forward.js";

export async function forwardViaPool(pool: Pool, reqs: readonly ForwardRequest[], T: number, layers: readonly number[], want: ForwardWant): Promise<ForwardResult[]> {
  const L = layers.length;
  const needLogits = want.logits || reqs.some((r) => r.targets !== null);
  const needLayers = want.hidden || want.store || want.lens;
  const outputs = {
    // the pool refuses a request for nothing; the last position's logits are the cheapest something
    logits: needLogits ? ("all" as const) : needLayers ? ("none" as const) : ("last" as const),
    hiddenLayers: needLayers ? layers : [],
    lens: want.lens,
  };
  const rowTokens: Int32Array[] = [];
  for (const r of reqs) for (let b = 0; b < r.B; b++) rowTokens.push(r.idx.subarray(b * T, (b + 1) * T));
  const answers = await Promise.all(rowTokens.map((tokens) => pool.forward(tokens, outputs)));
  const rows = answers.length;
  const V = needLogits ? answers[0]!.logits!.length / T : 0;
  const C = needLayers && L > 0 ? answers[0]!.hidden!.length / (L * T) : 0;
  const all = new Float32Array(needLogits ? rows * T * V : 0);
  const hidden = Array.from({ length: L }, () => new Float32Array(needLayers ? rows * T * C : 0));
  const lens = want.lens ? new Int32Array((L + 1) * rows * T) : null;
  answers.forEach((a, row) => {
    if (needLogits) all.set(a.logits!, row * T * V);
    if (needLayers) for (let i = 0; i < L; i++) hidden[i]!.set(a.hidden!.subarray(i * T * C, (i + 1) * T * C), row * T * C);
    if (lens) for (let i = 0; i <= L; i++) lens.set(a.lens!.subarray(i * T, (i + 1) * T), (i * rows + row) * T);
  });
  return splitResults(reqs, { T, V, C, layers, want }, all, (i) => hidden[i]!, lens);
}
