// The run and its resources (run:, hosts:, cast:, model:, data:, limits:, thunder:) → their RunPlan
// parts, with the checks that span keys (unique host names, placement on declared hosts,
// n_embd divisible by n_head, data files that exist).
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import {
  LOCAL_HOST,
  type BasePlan,
  type CastPlan,
  type DataPlan,
  type HostPlan,
  type LanePlan,
  type LimitsPlan,
  type ModelPlan,
  type PlacementPlan,
  type PoolPlan,
  type RolePlan,
  type RunInfo,
  type ThunderPlan,
} from "./plan.js";
import type { Ctx } from "./schema.js";
import { DEFAULT_HELD_OUT_PER_CELL } from "../data/mod.js";
import { DIFFICULTIES, PACK_DOMAINS, ROLES, type LaneSection, type PoolSection, type ScenarioFile } from "./sections.js";
import { didYouMean } from "./suggest.js";
import { architecture, readHfConfig } from "../models/mod.js";

export function runInfo(file: ScenarioFile, baseDir: string): RunInfo {
  return {
    name: file.run.name,
    seed: file.run.seed,
    outDir: resolve(baseDir, file.run.out_dir),
    description: file.run.description ?? null,
  };
}

export function hostsPlan(file: ScenarioFile, ctx: Ctx): HostPlan[] {
  if (!file.hosts) return [{ name: LOCAL_HOST, address: null, backends: ["cpu"], cores: null, memoryGb: null }];
  file.hosts.forEach((h, i) => {
    if (file.hosts!.slice(0, i).some((o) => o.name === h.name)) ctx.issueAt(["hosts", i, "name"], `host "${h.name}" is listed twice`);
  });
  return file.hosts.map((h) => ({
    name: h.name,
    address: h.address ?? null,
    backends: h.backends,
    cores: h.cores ?? null,
    memoryGb: h.memory_gb ?? null,
  }));
}

/** `block`: the model's context (model.block, or the Hugging Face directory's), which a pool's buckets must hold. */
export function castPlan(file: ScenarioFile, hosts: readonly HostPlan[], ctx: Ctx, block: number): CastPlan {
  const names = hosts.map((h) => h.name);
  const out = {} as Record<(typeof ROLES)[number], RolePlan>;
  for (const role of ROLES) {
    const r = file.cast?.[role];
    const on = r?.on ?? [];
    on.forEach((h, k) => {
      if (!names.includes(h)) {
        const path = r?.on && r.on.length > 1 ? ["cast", role, "on", k] : ["cast", role, "on"];
        const declared = file.hosts ? `hosts: ${names.join(", ")}` : `without a hosts: section the only host is "${LOCAL_HOST}"`;
        ctx.issueAt(path, `unknown host "${h}"${didYouMean(h, names)}; ${declared}`);
      }
    });
    if (r?.backend) {
      const allowed = hosts.filter((h) => on.length === 0 || on.includes(h.name));
      if (!allowed.some((h) => h.backends.includes(r.backend!))) {
        ctx.issueAt(["cast", role, "backend"], `no ${on.length ? "host it may run on" : "host"} offers backend ${r.backend}`);
      }
    }
    if (role === "director" && (r?.count ?? 1) !== 1) ctx.issueAt(["cast", role, "count"], "a run has exactly one director");
    if (file.hosts && role === "director") {
      for (const k of ["on", "tags", "on_host_loss"] as const) {
        if (r?.[k] !== undefined) ctx.issueAt(["cast", role, k], "the director runs where `troupe run` runs and places the others; it is not placed on a host");
      }
    }
    if (!file.hosts) {
      for (const k of ["tags", "on_host_loss"] as const) {
        if (r?.[k] !== undefined) ctx.issueAt(["cast", role, k], "placement hints apply to the hosts declared in hosts:; without hosts: every actor runs on this machine");
      }
    }
    if (file.hosts && r?.pool && typeof r.pool.workers === "number") {
      ctx.issueAt(["cast", role, "pool", "workers"], "with hosts: declared, list the pool's running workers as HOST:PORT (local workers would start where `troupe run` runs, on 127.0.0.1)");
    }
    out[role] = {
      count: r?.count ?? 1,
      on,
      tags: r?.tags ?? [],
      cores: r?.cores ?? null,
      onHostLoss: r?.on_host_loss ?? null,
      backend: r?.backend ?? null,
      ...(r?.pool ? { pool: poolPlan(role, r.pool, block, ctx) } : {}),
    };
  }
  return out;
}

export function placementPlan(file: ScenarioFile, ctx: Ctx): PlacementPlan {
  const p = file.placement;
  if (p && !file.hosts) ctx.issueAt(["placement"], "placement applies to the hosts declared in hosts:; without hosts: every actor runs on this machine");
  return {
    strategy: p?.strategy ?? "spread",
    waitMs: Math.round((p?.wait_s ?? 60) * 1000),
    deadAfterMs: Math.round((p?.dead_after_s ?? 3) * 1000),
    onHostLoss: p?.on_host_loss ?? "replace",
  };
}

/** Roles whose forward passes can run on a pool. */
const POOLED_ROLES: readonly string[] = ["teacher", "evaluator"];

function poolPlan(role: string, p: PoolSection, block: number, ctx: Ctx): PoolPlan {
  const at = ["cast", role, "pool"];
  if (!POOLED_ROLES.includes(role)) ctx.issueAt(at, `only the teacher and the evaluator run on a pool, not the ${role}`);
  const buckets = p.buckets
    .map((b) => b.split("x").map(Number) as [number, number])
    .map(([batch, seqLen]) => ({ batch, seqLen }))
    .sort((a, b) => a.batch * a.seqLen - b.batch * b.seqLen || a.seqLen - b.seqLen);
  buckets.forEach((b) => {
    if (b.seqLen > block) ctx.issueAt([...at, "buckets", p.buckets.indexOf(`${b.batch}x${b.seqLen}`)], `seq_len ${b.seqLen} is longer than the model's context (model.block ${block})`);
  });
  const longest = Math.max(...buckets.map((b) => b.seqLen));
  if (longest < block) {
    ctx.issueAt([...at, "buckets"], `the ${role} sends rows of up to model.block (${block}) tokens, but the longest bucket holds ${longest}; add a bucket with seq_len ${block}`);
  }
  return {
    workers: typeof p.workers === "number" ? null : p.workers,
    spawn: typeof p.workers === "number" ? p.workers : null,
    buckets,
    cores: p.cores,
    compileMs: Math.round(p.compile_s * 1000),
    deadlineMs: Math.round(p.deadline_s * 1000),
    policy: p.policy,
  };
}

function basePlan(file: ScenarioFile, ctx: Ctx, lanes: readonly string[]): BasePlan | null {
  const p = file.model.base?.pretrain;
  if (!p) return null;
  if (!lanes.includes(p.lane)) {
    ctx.issueAt(["model", "base", "pretrain", "lane"], `no data lane named "${p.lane}"${didYouMean(p.lane, lanes)}; lanes: ${lanes.join(", ") || "(none; add data.lanes)"}`);
  }
  if (p.warmup !== undefined && p.warmup >= p.steps) {
    ctx.issueAt(["model", "base", "pretrain", "warmup"], `warms up for ${p.warmup} steps but pretrains only ${p.steps}`);
  }
  return {
    pretrain: {
      lane: p.lane,
      steps: p.steps,
      lr: p.lr,
      batch: p.batch ?? file.curriculum.defaults?.batch ?? 16,
      warmup: p.warmup ?? Math.min(100, Math.floor(p.steps / 10)),
      seed: p.seed ?? file.run.seed,
    },
  };
}

const GPT_KEYS = ["vocab", "block", "n_embd", "n_head", "n_layer"] as const;

/** The model's sizes: from the scenario's GPT keys, or from a Hugging Face directory's config.json. */
function modelDims(file: ScenarioFile, ctx: Ctx, baseDir: string): { arch: string; hf: string | null; vocab: number; block: number; nEmbd: number; nHead: number; nLayer: number; linears: readonly string[] } | null {
  const m = file.model;
  if (m.hf !== undefined) {
    for (const k of GPT_KEYS) if (m[k] !== undefined) ctx.issueAt(["model", k], `model.hf takes its sizes from the directory's config.json; remove ${k}`);
    const dir = resolve(baseDir, m.hf);
    try {
      const { arch, config } = readHfConfig(dir);
      const d = arch.dims(config);
      if (d.vocabSize < 256) ctx.issueAt(["model", "hf"], `${dir} has a vocabulary of ${d.vocabSize}; the data lanes use troupe's byte tokenizer, which needs 256`);
      // the lanes are tokenized with bytes: a directory's own tokenizer would disagree with its checkpoints
      if (existsSync(join(dir, "tokenizer.json"))) ctx.issueAt(["model", "hf"], `${dir} ships tokenizer.json, but a scenario's data lanes use troupe's byte tokenizer (no tokenizer setting yet); use \`troupe train --model DIR\` for this model, or a directory without tokenizer.json`);
      return { arch: arch.name, hf: dir, vocab: d.vocabSize, block: d.maxPositions, nEmbd: d.hidden, nHead: d.heads, nLayer: d.layers, linears: arch.linearNames };
    } catch (err) {
      ctx.issueAt(["model", "hf"], `not a model directory troupe reads: ${(err as Error).message}`);
      return null;
    }
  }
  const missing = GPT_KEYS.filter((k) => m[k] === undefined);
  for (const k of missing) ctx.issueAt(["model", k], "missing; expected an integer (or give model.hf: a Hugging Face model directory)");
  if (missing.length) return null;
  if (m.n_embd! % m.n_head! !== 0) ctx.issueAt(["model", "n_head"], `n_embd ${m.n_embd} is not divisible by n_head ${m.n_head}`);
  return { arch: "gpt2", hf: null, vocab: m.vocab!, block: m.block!, nEmbd: m.n_embd!, nHead: m.n_head!, nLayer: m.n_layer!, linears: architecture("gpt2").linearNames };
}

export function modelPlan(file: ScenarioFile, ctx: Ctx, lanes: readonly string[], baseDir = "."): ModelPlan {
  const m = file.model;
  const d = modelDims(file, ctx, baseDir) ?? { arch: "gpt2", hf: null, vocab: 256, block: 1, nEmbd: 1, nHead: 1, nLayer: 1, linears: [] };
  (m.lora?.blocks ?? []).forEach((b, k) => {
    if (b >= d.nLayer) ctx.issueAt(["model", "lora", "blocks", k], `block ${b} does not exist: the model has ${d.nLayer} layers`);
  });
  (m.lora?.targets ?? []).forEach((t, k) => {
    if (d.linears.length && !d.linears.includes(t)) ctx.issueAt(["model", "lora", "targets", k], `${d.arch} has no layer "${t}"${didYouMean(t, d.linears)}; its layers: ${d.linears.join(", ")}`);
  });
  return {
    arch: d.arch,
    hf: d.hf,
    vocab: d.vocab,
    block: d.block,
    nEmbd: d.nEmbd,
    nHead: d.nHead,
    nLayer: d.nLayer,
    dropout: m.dropout,
    base: basePlan(file, ctx, lanes),
    lora: m.lora
      ? {
          r: m.lora.r,
          alpha: m.lora.alpha,
          dropout: m.lora.dropout,
          targets: m.lora.targets,
          dora: m.lora.dora,
          blocks: m.lora.blocks ?? null,
        }
      : null,
  };
}

/** The pack holds DEFAULT_HELD_OUT_PER_CELL held-out prompts per domain × difficulty. */
function heldOutAvailable(l: Extract<LaneSection, { kind: "prompt_pack" }>): number {
  const opts = (l.options ?? {}) as { heldOutPerCell?: unknown };
  const perCell = typeof opts.heldOutPerCell === "number" ? opts.heldOutPerCell : DEFAULT_HELD_OUT_PER_CELL;
  return perCell * (l.domains ?? PACK_DOMAINS).length * (l.difficulty ?? DIFFICULTIES).length;
}

function lanePlan(name: string, l: LaneSection, baseDir: string, ctx: Ctx, checkFiles: boolean): LanePlan {
  const options = l.options ?? null;
  if (l.kind === "prompt_pack") {
    if (l.split === "heldout" && l.count !== undefined && l.count > heldOutAvailable(l)) {
      ctx.issueAt(
        ["data", "lanes", name, "count"],
        `the prompt pack holds ${heldOutAvailable(l)} held-out prompts for these domains and difficulties ` +
          `(${DEFAULT_HELD_OUT_PER_CELL} per domain and difficulty), not ${l.count}`,
      );
    }
    const len = l.response_length;
    if (len?.min !== undefined && len.max !== undefined && len.max < len.min) {
      ctx.issueAt(["data", "lanes", name, "response_length", "max"], `max (${len.max}) is below min (${len.min})`);
    }
    return {
      kind: "prompt_pack",
      seed: l.seed,
      domains: l.domains ?? null,
      difficulty: l.difficulty ?? null,
      count: l.count ?? null,
      split: l.split,
      responseLength: len ? { min: len.min ?? 0, max: len.max ?? null } : null,
      options,
    };
  }
  if (l.kind === "mix") return { kind: "mix", lanes: [...l.lanes], options };
  const path = isAbsolute(l.path) ? l.path : resolve(baseDir, l.path);
  if (checkFiles && !existsSync(path)) ctx.issueAt(["data", "lanes", name, "path"], `file not found: ${path}`);
  return l.kind === "jsonl" ? { kind: "jsonl", path, split: l.split, options } : { kind: "text", path, options };
}

export function dataPlan(file: ScenarioFile, baseDir: string, ctx: Ctx, checkFiles: boolean): DataPlan {
  const lanes: Record<string, LanePlan> = {};
  for (const [name, lane] of Object.entries(file.data?.lanes ?? {})) lanes[name] = lanePlan(name, lane, baseDir, ctx, checkFiles);
  // a mix names prompt/response lanes of this file, and no other mix
  for (const [name, lane] of Object.entries(lanes)) {
    if (lane.kind !== "mix") continue;
    lane.lanes.forEach((part, k) => {
      const at = ["data", "lanes", name, "lanes", k];
      const target = lanes[part];
      if (!target) ctx.issueAt(at, `no data lane named "${part}"${didYouMean(part, Object.keys(lanes))}; lanes: ${Object.keys(lanes).join(", ")}`);
      else if (target.kind === "mix") ctx.issueAt(at, `"${part}" is a mix itself; a mix interleaves prompt_pack and jsonl lanes`);
      else if (target.kind === "text") ctx.issueAt(at, `"${part}" is a text corpus; a mix interleaves prompt/response lanes`);
    });
  }
  return { lanes, options: file.data?.options ?? null };
}

export function limitsPlan(file: ScenarioFile): LimitsPlan {
  const l = file.limits;
  const ms = (s: number | undefined) => (s === undefined ? null : Math.round(s * 1000));
  return {
    runTimeoutMs: ms(l?.run_timeout_s),
    attemptTimeoutMs: ms(l?.attempt_timeout_s),
    memoryMb: l?.memory_mb ?? null,
    checkpointEvery: l?.checkpoint_every ?? null,
  };
}

export function thunderPlan(file: ScenarioFile, hosts: readonly HostPlan[], ctx: Ctx): ThunderPlan | null {
  const t = file.thunder;
  if (!t) return null;
  const on = t.on ?? [];
  if (on.length > 0 && on.length !== t.ranks) ctx.issueAt(["thunder", "on"], `names ${on.length} hosts for ${t.ranks} ranks: give one host per rank`);
  const names = hosts.map((h) => h.name);
  on.forEach((h, i) => {
    if (!names.includes(h)) ctx.issueAt(["thunder", "on", i], `host "${h}" is not declared${didYouMean(h, names)}; hosts: ${names.join(", ")}`);
  });
  return {
    ranks: t.ranks,
    on,
    jobs: t.jobs ?? ["base", "adapter"],
    compression: t.compression,
    onPeerLoss: t.on_peer_loss,
    deadAfterMs: t.dead_after_ms,
    bucketBytes: Math.round(t.bucket_mb * 1024 * 1024),
  };
}
