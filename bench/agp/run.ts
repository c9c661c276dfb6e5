// `troupe bench agp`: stages 2-6 on the quickstart-size GPT (4 blocks of 64 channels, block 48)
// pretrained on four prompt-pack domains, and what they bought: the transfer fidelity table of
// every codec at the split layers, and routed decoding against full depth measured in the same
// run (interleaved rounds, each side's median tokens/s). The peer of routed decoding is
// full-depth greedy decoding of the same model, prompts, batches and code path.
// The base is cached in the temporary directory by its config (--fresh trains it again).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelInfo, parseSafetensors, serializeSafetensors } from "../../kernels/mod.js";
import * as M from "../../models/mod.js";

export interface AgpBenchOptions {
  /** train the base again instead of using the cached one */
  readonly fresh?: boolean;
  /** fewer steps everywhere (a smoke run; the targets are not expected to hold) */
  readonly quick?: boolean;
  readonly rounds?: number;
  readonly onProgress?: (line: string) => void;
}

const BASE = {
  domains: ["arithmetic", "sorting", "copying", "brackets"],
  config: { nEmbd: 64, nLayer: 4, nHead: 4, blockSize: 48 },
  pack: { trainPerCell: 800, heldOutPerCell: 50, difficulties: ["easy" as const] },
  steps: 800, batch: 32, lr: 3e-3, warmupSteps: 50, minLr: 3e-4, seed: 1,
};

async function base(o: AgpBenchOptions, say: (s: string) => void): Promise<{ model: M.CausalLM; data: M.AgpData; cached: string | null; em: number; wallS: number }> {
  const steps = o.quick ? 200 : BASE.steps;
  const digest = createHash("sha256").update(JSON.stringify({ ...BASE, steps, v: 1 })).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "troupe-bench-agp");
  const file = join(dir, `base-${digest}.safetensors`);
  const data = await M.packData(BASE.domains, { block: BASE.config.blockSize, ...BASE.pack });
  const t0 = performance.now();
  if (!o.fresh && existsSync(file)) {
    const model = M.createGpt(BASE.config, 0);
    model.loadStateDict(parseSafetensors(readFileSync(file), file).tensors);
    say(`[bench] agp: base from the cache ${file}`);
    const em = M.evaluateExactMatch(model, data.heldOut).accuracy;
    return { model, data, cached: file, em, wallS: (performance.now() - t0) / 1000 };
  }
  say(`[bench] agp: pretraining the base (${steps} steps) ...`);
  const b = await M.pretrainBase({ ...BASE, steps });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.tmp`, serializeSafetensors(b.model.namedParameters()));
  renameSync(`${file}.tmp`, file);
  return { model: b.model, data, cached: null, em: b.exactMatch.accuracy, wallS: (performance.now() - t0) / 1000 };
}

const slim = (g: M.GateReport) => ({ stage: g.stage, metric: g.metric, value: g.value, threshold: g.threshold, passed: g.passed, score: g.score, named: g.named, trivial: g.trivial, reason: g.reason });

export async function runAgpBench(o: AgpBenchOptions = {}) {
  const say = o.onProgress ?? (() => undefined);
  const t0 = performance.now();
  const q = o.quick ? 0.25 : 1;
  const n = (s: number) => Math.max(10, Math.round(s * q));
  const { model, data, cached, em, wallS } = await base(o, say);
  const heads: M.HeadSet = new Map();
  const candidates = [1, 2, 3];
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    say(`[bench] agp: ${name} ...`);
    const s = performance.now();
    const r = await fn();
    timings[name] = Math.round(performance.now() - s) / 1000;
    return r;
  };
  const s2 = await timed("stage 2", async () => {
    const r = await M.trainRouteVitality({ model, data, candidates, layers: [1, 2], steps: n(400), lr: 3e-3, heads, seed: 1 });
    return M.evaluateRouteVitality({ model, data, heads, candidates, trainTokens: r.labelled });
  });
  const s3 = await timed("stage 3", async () => {
    await M.trainDepthResiduals({ model, data, layers: [1, 2], steps: n(300), lr: 3e-3, heads, seed: 2 });
    const path = M.calibrateRouter(model, heads, data.train, { maxError: 0.01 }).router;
    return M.evaluateDepthResiduals({ model, data, heads, router: path, threshold: 0.1 });
  });
  const s4 = await timed("stage 4", async () => {
    const r = await M.trainSemantic({ model, data, layer: 1, steps: n(300), lr: 3e-3, heads, seed: 3 });
    return M.evaluateSemantic({ model, data, heads, steps: n(300), lr: 3e-3, repeats: 3, converged: Number.isFinite(r.fit.last.sem!) && r.fit.last.sem! < r.fit.first.sem! });
  });
  const s5 = await timed("stage 5", async () => {
    await M.trainTransfer({ model, data, layers: [1, 2], steps: n(1000), lr: 3e-3, hidden: 256, heads, seed: 4 });
    return M.evaluateTransfer({ model, data, heads, threshold: 0.01 });
  });
  const cal = await timed("calibration", () => M.calibrateRouter(model, heads, data.train, { maxError: 0.01 }));
  const architecture = await timed("routed vs full", () => M.measureRouted(model, heads, data.heldOut, { router: cal.router, rounds: o.rounds ?? 3 }));
  const s6 = await timed("stage 6", async () => {
    M.applyLora(model, { rank: 4, alpha: 8, targets: ["qkv", "proj", "fc", "fc_proj"] }, { seed: 1 });
    return M.runJointStage({ model, data, heads, candidates, steps: n(100), lr: 3e-4, router: cal.router, seed: 5 });
  });
  const rows = s5.details.fidelity as M.FidelityRow[];
  const row = (c: string, l: number) => rows.find((r) => r.codec === c && r.layer === l)!;
  const splits = [1, 2];
  const targets = {
    int8_kl_le_1e3: splits.every((l) => row("int8", l).kl_mean <= 1e-3),
    int8_top1_ge_0995: splits.every((l) => row("int8", l).top1 >= 0.995),
    raw_f32_bit_exact: splits.every((l) => row("raw-f32", l).kl_mean === 0 && row("raw-f32", l).top1 === 1),
    learned_le_eighth_of_raw: splits.every((l) => row("learned", l).payload_bytes_per_token <= row("raw-f32", l).payload_bytes_per_token / 8),
    learned_beats_int4: splits.every((l) => row("learned", l).kl_mean < row("int4", l).kl_mean && row("int4", l).payload_bytes_per_token >= row("learned", l).payload_bytes_per_token),
    routed_fewer_layers: architecture.mean_layers_per_token < architecture.full_layers,
    routed_em_within_002: Math.abs(architecture.em_routed - architecture.em_full) <= 0.02,
    routed_faster: architecture.tokens_per_s_routed > architecture.tokens_per_s_full,
  };
  const info = kernelInfo();
  return {
    model: { ...BASE.config, vocab: 256, base_em: em, base_cached: cached, base_s: Math.round(wallS * 10) / 10 },
    gates: [slim(s2), slim(s3), slim(s4), slim(s5), { ...slim(s6.report), rolled_back: s6.rolledBack }],
    transfer: rows.map((r) => ({ codec: r.codec, layer: r.layer, bytes_per_token: r.bytes_per_token, payload_bytes_per_token: r.payload_bytes_per_token, kl_mean: r.kl_mean, top1: r.top1 })),
    architecture,
    calibration: cal.points,
    targets,
    timings_s: timings,
    machine: { kernels: info.kernels, threads: info.threads, gemm: info.blas ?? `troupe-${info.kernels}` },
    quick: !!o.quick,
    wall_s: Math.round((performance.now() - t0) / 100) / 10,
  };
}

export type AgpBenchReport = Awaited<ReturnType<typeof runAgpBench>>;
