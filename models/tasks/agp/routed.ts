// What the curriculum bought: greedy decoding where the trained router picks each token's exit
// layer, against full depth on the same prompts, the same batches and the same code path.
// At every step each active row runs block by block; at a head layer the route head reads the
// row's last position (the state, layer-normalised, and its logit-lens statistics) and the
// row exits when P(accept_local) ≥ the layer's threshold: its token is decoded there, with the
// depth residual when one is trained there, else the logit lens. The other rows go on (fewer
// rows per block from then on); rows no head lets go run all L blocks. Exits save the
// remaining blocks of that step. There is no KV cache yet: each step re-runs the context, for
// routed and full decoding alike.
// Legend: B rows, T time, C channels, V vocab, L blocks.
import { END_BYTE, byteTokenizer, score } from "../../../data/mod.js";
import { type Tensor, fromArray, noGrad, softmax, workspace } from "../../../kernels/mod.js";
import { ModelConfigError } from "../../errors.js";
import type { ClassifierHead } from "../../heads/classifier.js";
import type { DepthResidual } from "../../heads/depth.js";
import { type HeadSet, headAt, headsOf } from "../../heads/registry.js";
import { type LayeredModel, dimsOf } from "../../layered.js";
import { Route } from "../../oracle/labels.js";
import { argmaxRows } from "../../oracle/stats.js";
import type { AgpItem } from "./common.js";
import { inputOf } from "./context.js";

export interface RouterConfig {
  /** exit at a head layer when P(accept_local) ≥ its threshold (layers without one never exit) */
  readonly thresholds: Readonly<Record<string, number>>;
  /** decode exits with the depth residual where one is trained (default true) */
  readonly residual?: boolean;
}

export interface DecodeRun {
  readonly outputs: Int32Array[];
  /** generated tokens */
  readonly tokens: number;
  /** blocks run, summed over generated tokens */
  readonly layers: number;
  /** tokens that left at each head layer, and at full depth ("full") */
  readonly exits: Record<string, number>;
  readonly wallMs: number;
  /** per prompt: tokens generated and blocks run for them */
  readonly perPrompt: { readonly tokens: Int32Array; readonly layers: Int32Array };
}

export interface DecodeOptions {
  readonly maxTokens: number;
  readonly stopToken?: number;
  /** rows decoded together (default 64) */
  readonly batch?: number;
}

const ws = workspace();

function lastRows(x: Tensor, lens: readonly number[], C: number): Float32Array {
  const T = x.shape[1]!;
  const d = x.f32();
  const out = new Float32Array(lens.length * C);
  lens.forEach((n, b) => out.set(d.subarray((b * T + n - 1) * C, (b * T + n) * C), b * C));
  return out;
}

function keepRows(x: Tensor, rows: readonly number[]): Tensor {
  const [T, C] = [x.shape[1]!, x.shape[2]!];
  const d = x.f32();
  const out = new Float32Array(rows.length * T * C);
  rows.forEach((r, i) => out.set(d.subarray(r * T * C, (r + 1) * T * C), i * T * C));
  return fromArray(out, [rows.length, T, C]);
}

/** One decoding step for rows `seqs`: each row's next token and the blocks it ran. */
function step(model: LayeredModel, seqs: readonly number[][], heads: HeadSet | null, router: RouterConfig | null): { next: number[]; layers: number[]; exitAt: (number | "full")[] } {
  const L = dimsOf(model).layers;
  const C = dimsOf(model).channels;
  const V = dimsOf(model).vocab;
  const T = Math.max(...seqs.map((s) => s.length));
  const idx = new Int32Array(seqs.length * T).fill(END_BYTE);
  seqs.forEach((s, b) => idx.set(s, b * T));
  const lens = seqs.map((s) => s.length);
  const next = new Array<number>(seqs.length).fill(0);
  const layers = new Array<number>(seqs.length).fill(L);
  const exitAt = new Array<number | "full">(seqs.length).fill("full");
  const routeLayers = heads && router ? headsOf<ClassifierHead>(heads, "route").map((h) => h.spec.layer).filter((l) => router.thresholds[String(l)] !== undefined && l < L) : [];
  const useResidual = router?.residual ?? true;
  ws.run(() => noGrad(() => {
    let x = model.embed(fromArray(idx, [seqs.length, T]));
    let rows = seqs.map((_, b) => b); // original row of each row of x
    let at = 0;
    const states: Float32Array[] = []; // last-position states per index, for the residual
    const needStates = routeLayers.some((l) => useResidual && heads && headAt(heads, "depth", l));
    if (needStates) states.push(lastRows(x, rows.map((r) => lens[r]!), C));
    for (const h of routeLayers) {
      for (; at < h; at++) {
        x = model.runBlocks(x, at, at + 1);
        if (needStates) states.push(lastRows(x, rows.map((r) => lens[r]!), C));
      }
      const head = headAt<ClassifierHead>(heads!, "route", h)!;
      const last = needStates ? states[h]! : lastRows(x, rows.map((r) => lens[r]!), C);
      const hLast = fromArray(last, [rows.length, C]);
      const lensLogits = model.logitLens(hLast);
      const p = softmax(head.forward(inputOf(model, hLast, head.spec.normRef, lensLogits))).f32();
      const tau = router!.thresholds[String(h)]!;
      const go: number[] = [];
      const stay: number[] = [];
      rows.forEach((_, i) => (p[i * 4 + Route.accept]! >= tau ? go : stay).push(i));
      if (go.length > 0) {
        const residual = useResidual ? headAt<DepthResidual>(heads!, "depth", h) : null;
        let logits = lensLogits.f32();
        if (residual) {
          const mixed = residual.forward(states.slice(0, h + 1).map((s) => fromArray(s, [rows.length, C])));
          logits = model.logitLens(mixed).f32();
        }
        const top = argmaxRows(logits, rows.length, V);
        for (const i of go) {
          next[rows[i]!] = top[i]!;
          layers[rows[i]!] = h;
          exitAt[rows[i]!] = h;
        }
        if (stay.length === 0) return;
        x = keepRows(x, stay);
        for (let j = 0; j < states.length; j++) {
          const s = states[j]!;
          const kept = new Float32Array(stay.length * C);
          stay.forEach((i, k) => kept.set(s.subarray(i * C, (i + 1) * C), k * C));
          states[j] = kept;
        }
        rows = stay.map((i) => rows[i]!);
      }
    }
    x = model.runBlocks(x, at, L);
    const logits = model.logitLens(fromArray(lastRows(x, rows.map((r) => lens[r]!), C), [rows.length, C])).f32();
    const top = argmaxRows(logits, rows.length, V);
    rows.forEach((r, i) => (next[r] = top[i]!));
  }));
  return { next, layers, exitAt };
}

/** Greedy decoding of `prompts`; with `heads` and `router` the router picks each token's exit. */
export function decode(model: LayeredModel, prompts: readonly Int32Array[], o: DecodeOptions & { heads?: HeadSet | null; router?: RouterConfig | null }): DecodeRun {
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 1) throw new ModelConfigError("decode.maxTokens", `expected a positive integer, got ${o.maxTokens}`);
  const stop = o.stopToken ?? END_BYTE;
  const B = o.batch ?? 64;
  const longest = prompts.reduce((m, p) => Math.max(m, p.length), 0);
  if (longest + o.maxTokens - 1 > dimsOf(model).positions) throw new ModelConfigError("decode.maxTokens", `a prompt of ${longest} tokens plus ${o.maxTokens} new ones does not fit the block of ${dimsOf(model).positions}`);
  const outputs: number[][] = prompts.map(() => []);
  const perTokens = new Int32Array(prompts.length);
  const perLayers = new Int32Array(prompts.length);
  const exits: Record<string, number> = { full: 0 };
  let tokens = 0;
  let layers = 0;
  const was = model.training;
  model.eval();
  const t0 = performance.now();
  try {
    for (let s = 0; s < prompts.length; s += B) {
      let active = prompts.slice(s, s + B).map((p, k) => ({ i: s + k, seq: Array.from(p) }));
      for (let t = 0; t < o.maxTokens && active.length > 0; t++) {
        const r = step(model, active.map((a) => a.seq), o.heads ?? null, o.router ?? null);
        active.forEach((a, b) => {
          a.seq.push(r.next[b]!);
          outputs[a.i]!.push(r.next[b]!);
          tokens++;
          layers += r.layers[b]!;
          perTokens[a.i]!++;
          perLayers[a.i]! += r.layers[b]!;
          const key = String(r.exitAt[b]);
          exits[key] = (exits[key] ?? 0) + 1;
        });
        active = active.filter((a) => a.seq[a.seq.length - 1] !== stop);
      }
    }
  } finally {
    model.train(was);
  }
  return { outputs: outputs.map((x) => Int32Array.from(x)), tokens, layers, exits, wallMs: performance.now() - t0, perPrompt: { tokens: perTokens, layers: perLayers } };
}

export interface ArchitectureReport {
  readonly mean_layers_per_token: number;
  readonly full_layers: number;
  readonly tokens_per_s_routed: number;
  readonly tokens_per_s_full: number;
  readonly em_routed: number;
  readonly em_full: number;
  readonly prompts: number;
  readonly tokens_routed: number;
  readonly tokens_full: number;
  readonly exits: Record<string, number>;
  readonly thresholds: Readonly<Record<string, number>>;
  /** rounds of (full, routed), tokens/s is each side's median */
  readonly rounds: number;
  readonly peer: string;
  /** per held-out prompt (in order): exact match at full depth and routed, and the routed run's tokens and blocks */
  readonly per_prompt: { readonly em_full: number[]; readonly em_routed: number[]; readonly tokens: number[]; readonly layers: number[] };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Routed vs full-depth greedy decoding of held-out prompts: layers, speed and exact match, same run. */
/** The prompts of `items` and the decoding options measureRouted uses for them (answers up to the longest response + 4 tokens, within the block). */
export function decodeSetup(model: LayeredModel, items: readonly AgpItem[], o: { maxTokens?: number; batch?: number } = {}): { prompts: Int32Array[]; opts: DecodeOptions } {
  if (items.length === 0) throw new ModelConfigError("routed.items", "no prompts to decode");
  const prompts = items.map((it) => it.ids.subarray(0, it.promptLen));
  const maxTokens = o.maxTokens ?? items.reduce((m, it) => Math.max(m, it.ids.length - it.promptLen), 0) + 4;
  return { prompts, opts: { maxTokens: Math.min(maxTokens, dimsOf(model).positions - prompts.reduce((m, p) => Math.max(m, p.length), 0) + 1), ...(o.batch ? { batch: o.batch } : {}) } };
}

/** Per item: 1 when the decoded output is its response exactly (the data layer's scorer), else 0. */
export function exactHits(run: Pick<DecodeRun, "outputs">, items: readonly AgpItem[]): number[] {
  const tok = byteTokenizer();
  return items.map((it, i) => (score(tok.decode(run.outputs[i]!), it.response) ? 1 : 0));
}

export function measureRouted(model: LayeredModel, heads: HeadSet, items: readonly AgpItem[], o: { router: RouterConfig; maxTokens?: number; batch?: number; rounds?: number }): ArchitectureReport {
  const { prompts, opts } = decodeSetup(model, items, o);
  const rounds = o.rounds ?? 3;
  const fullRate: number[] = [];
  const routedRate: number[] = [];
  let full: DecodeRun | null = null;
  let routed: DecodeRun | null = null;
  for (let r = 0; r < rounds; r++) {
    full = decode(model, prompts, opts);
    routed = decode(model, prompts, { ...opts, heads, router: o.router });
    fullRate.push((full.tokens / full.wallMs) * 1000);
    routedRate.push((routed.tokens / routed.wallMs) * 1000);
  }
  const emFull = exactHits(full!, items);
  const emRouted = exactHits(routed!, items);
  const em = (h: number[]) => h.reduce((a, b) => a + b, 0) / items.length;
  return {
    mean_layers_per_token: routed!.layers / routed!.tokens,
    full_layers: dimsOf(model).layers,
    tokens_per_s_routed: median(routedRate),
    tokens_per_s_full: median(fullRate),
    em_routed: em(emRouted),
    em_full: em(emFull),
    prompts: items.length,
    tokens_routed: routed!.tokens,
    tokens_full: full!.tokens,
    exits: routed!.exits,
    thresholds: o.router.thresholds,
    rounds,
    peer: "full-depth greedy decoding of the same model, same prompts and batches, same code path without the router",
    per_prompt: { em_full: emFull, em_routed: emRouted, tokens: Array.from(routed!.perPrompt.tokens), layers: Array.from(routed!.perPrompt.layers) },
  };
}
