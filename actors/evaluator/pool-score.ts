// Scoring on an accelerator pool: what score.ts computes with a local model — exact match of
// greedy answers (the models layer's rules: chat template, stop at the end marker, the data
// layer's normalisation) and the masked cross-entropy of the expected responses, overall and
// per domain — with every forward pass a pool row. Greedy decoding sends each prompt's
// growing sequence as its own row, so rows of every length meet in the scheduler, which packs
// those of similar length into the same bucket; the loss rows are cut after their last target.
// Legend: V vocab, n a row's length.
import { END_BYTE, type LaneItem, byteTokenizer, chatTemplate, createScoreboard, sftEvalBatches } from "../../data/mod.js";
import type { Pool } from "../../hosts/pools/mod.js";
import { IGNORE_INDEX } from "../../kernels/mod.js";
import type { Score } from "../cast/mod.js";
import { perItem } from "./score.js";

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Greedy continuation of one prompt, the model's context window sliding as in models' generate. */
async function greedy(pool: Pool, prompt: Int32Array, maxTokens: number, block: number): Promise<Int32Array> {
  const seq = Array.from(prompt);
  const out: number[] = [];
  while (out.length < maxTokens) {
    const window = seq.length > block ? seq.slice(seq.length - block) : seq;
    const r = await pool.forward(Int32Array.from(window), { logits: "last" });
    const next = argmax(r.logits!);
    seq.push(next);
    out.push(next);
    if (next === END_BYTE) break;
  }
  return Int32Array.from(out);
}

/** Σ CE and the number of targets of each item (rows cut after their last target). */
async function lossSums(pool: Pool, items: readonly LaneItem[], block: number): Promise<{ sum: number; n: number }[]> {
  const batches = sftEvalBatches(items, { batch: 64, block, pad: END_BYTE });
  const jobs: Promise<{ sum: number; n: number }>[] = [];
  batches.forEach((b, k) => {
    for (let r = 0; r < b.B && k * 64 + r < items.length; r++) {
      const targets = b.targets.subarray(r * b.T, (r + 1) * b.T);
      let last = -1;
      targets.forEach((y, p) => (y !== IGNORE_INDEX ? (last = p) : undefined));
      if (last < 0) {
        jobs.push(Promise.resolve({ sum: 0, n: 0 }));
        continue;
      }
      const n = last + 1;
      jobs.push(
        pool.forward(b.idx.slice(r * b.T, r * b.T + n), { logits: "all" }).then((res) => {
          const x = res.logits!;
          const V = x.length / n;
          let sum = 0;
          let count = 0;
          for (let p = 0; p < n; p++) {
            const y = targets[p]!;
            if (y === IGNORE_INDEX) continue;
            let max = -Infinity;
            for (let v = 0; v < V; v++) max = Math.max(max, x[p * V + v]!);
            let s = 0;
            for (let v = 0; v < V; v++) s += Math.exp(x[p * V + v]! - max);
            sum += Math.log(s) + max - x[p * V + y]!;
            count++;
          }
          return { sum, n: count };
        }),
      );
    }
  });
  return Promise.all(jobs);
}

export async function scoreViaPool(pool: Pool, items: readonly LaneItem[], block: number): Promise<Score> {
  const tok = byteTokenizer();
  const template = chatTemplate({ tokenizer: tok });
  const maxTokens = items.reduce((m, it) => Math.max(m, tok.encode(it.response).length), 0) + 8;
  const [outs, losses] = await Promise.all([
    Promise.all(items.map((it) => greedy(pool, template.encodePrompt(it.prompt), maxTokens, block))),
    lossSums(pool, items, block),
  ]);
  const board = createScoreboard();
  const examples: Score["examples"] = [];
  const hits = new Uint8Array(items.length);
  items.forEach((it, i) => {
    const ok = board.add({ domain: it.domain ?? "unspecified", difficulty: it.difficulty ?? null }, tok.decode(outs[i]!), it.response);
    hits[i] = ok ? 1 : 0;
    if (!ok && examples.length < 5) examples.push({ prompt: it.prompt, expected: it.response, got: template.decodeResponse(outs[i]!) });
  });
  const s = board.summary();
  const lossOf = (idx: number[]) => {
    const t = idx.reduce((a, i) => ({ sum: a.sum + losses[i]!.sum, n: a.n + losses[i]!.n }), { sum: 0, n: 0 });
    return t.n === 0 ? NaN : t.sum / t.n;
  };
  const byDomain: Score["byDomain"] = {};
  for (const d of [...new Set(items.map((i) => i.domain))].sort()) {
    const mine = items.flatMap((it, i) => (it.domain === d ? [i] : []));
    byDomain[d] = { n: mine.length, exactMatch: s.byDomain[d]?.accuracy ?? 0, loss: lossOf(mine) };
  }
  return { n: items.length, exactMatch: s.overall.accuracy, loss: lossOf(items.map((_, i) => i)), byDomain, examples, ...perItem(items, hits) };
}
