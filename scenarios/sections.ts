// The schema of a scenario file, section by section. Keys are snake_case as users write
// them; plan.ts turns the parsed file into the camelCase RunPlan the runtime uses.
import { DIRECTIONS, LOSS_TERMS, METRICS, MODULES, RAMP_KINDS } from "../actors/director/mod.js";
import { DIFFICULTIES as DATA_DIFFICULTIES, DOMAIN_NAMES } from "../data/mod.js";
import { isSeq } from "yaml";
import {
  anything,
  bool,
  int,
  list,
  num,
  obj,
  oneOf,
  oneOrMany,
  opt,
  record,
  str,
  tagged,
  type Infer,
  type Schema,
} from "./schema.js";

/** NATS subject tokens and host names: lower-case letters, digits, `-` and `_`. */
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const NAME_HINT = "use lower-case letters, digits, - and _ (it becomes part of NATS subjects)";
const name = () => str({ pattern: NAME, hint: NAME_HINT });

export const BACKENDS = ["cpu", "mlx", "neuron"] as const;
export const ROLES = ["director", "trainer", "teacher", "oracle", "evaluator", "transfer_encoder", "transfer_decoder"] as const;
export type Role = (typeof ROLES)[number];
/** The layer names LoRA may wrap, by architecture (the model's own are checked in resources.ts). */
export const LORA_TARGETS = ["qkv", "proj", "fc", "fc_proj", "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
/** The prompt pack's difficulties and domains are the data layer's (data/pack). */
export const DIFFICULTIES = DATA_DIFFICULTIES;
export const PACK_DOMAINS: readonly string[] = DOMAIN_NAMES;
export const SPLITS = ["train", "heldout", "all"] as const;

export const runSection = obj(
  {
    name: name(),
    seed: opt(int({ min: 0 }), 0),
    out_dir: opt(str(), "runs"),
    description: opt(str()),
  },
  { what: "a run mapping (name, seed, out_dir)" },
);

export const hostSection = obj({
  name: name(),
  /** Where other hosts reach this one (IP or DNS name) for links. */
  address: opt(str()),
  backends: opt(list(oneOf(BACKENDS), { min: 1, unique: true }), ["cpu"] as (typeof BACKENDS)[number][]),
  cores: opt(int({ min: 1 })),
  memory_gb: opt(num({ gt: 0 })),
});

export const POOL_POLICIES = ["bucketed", "naive"] as const;
/** A pool worker's address: HOST:PORT (an IPv6 host in brackets). */
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
/** A compiled static shape: BATCHxSEQ_LEN. */
const BUCKET = /^[1-9]\d*x[1-9]\d*$/;

/** `workers: 2` (start two local workers) or `workers: [host:port, ...]` (use these). */
function poolWorkers(): Schema<number | string[]> {
  const count = int({ min: 1, max: 64 });
  const listed = list(str({ pattern: ADDRESS, hint: "give HOST:PORT, e.g. 10.0.0.5:50051" }), { min: 1, unique: true });
  return {
    expected: "a number of local workers, or a list of HOST:PORT",
    optional: false,
    parse: (node, path, ctx) => (isSeq(node) ? listed.parse(node, path, ctx) : count.parse(node, path, ctx)),
  };
}

/** The role runs its forward passes on an accelerator pool (docs/pools.md). */
const poolSection = obj(
  {
    workers: poolWorkers(),
    buckets: list(str({ pattern: BUCKET, hint: "give BATCHxSEQ_LEN, e.g. 4x48" }), { min: 1, unique: true }),
    /** Cores of each local worker. */
    cores: opt(int({ min: 1, max: 64 }), 2),
    /** Emulated compile time of each local worker at every model load. */
    compile_s: opt(num({ min: 0 }), 0),
    /** Deadline of one row, retries included. */
    deadline_s: opt(num({ gt: 0 }), 300),
    policy: opt(oneOf(POOL_POLICIES), "bucketed"),
  },
  { what: "a pool mapping (workers, buckets, cores, compile_s, deadline_s, policy)" },
);
export type PoolSection = Infer<typeof poolSection>;

export const HOST_LOSS_POLICIES = ["replace", "stop"] as const;
export const PLACEMENT_STRATEGIES = ["spread", "pack"] as const;

const roleSection = obj({
  count: opt(int({ min: 1, max: 64 }), 1),
  /** Placement hint: host name(s) the role may run on; absent = anywhere. */
  on: opt(oneOrMany(name())),
  /** Placement hint: tags a host must carry (troupe host --tags), all of them. */
  tags: opt(oneOrMany(name())),
  /** Cores each actor of the role asks for (placement's load accounting; also its kernel threads). */
  cores: opt(int({ min: 1, max: 4096 })),
  /** When its host is lost: move the actor to another host, or stop the stage with a report. */
  on_host_loss: opt(oneOf(HOST_LOSS_POLICIES)),
  backend: opt(oneOf(BACKENDS)),
  /** Teacher and evaluator only: run on an accelerator pool. */
  pool: opt(poolSection),
});
export type RoleSection = Infer<typeof roleSection>;

/** How the director places the cast on the declared hosts and what it does when one is lost. */
export const placementSection = obj(
  {
    strategy: opt(oneOf(PLACEMENT_STRATEGIES), "spread"),
    /** How long the director waits for every declared host to heartbeat. */
    wait_s: opt(num({ gt: 0, max: 86_400 }), 60),
    /** A host whose heartbeats stop this long is declared dead. */
    dead_after_s: opt(num({ min: 0.5, max: 300 }), 3),
    on_host_loss: opt(oneOf(HOST_LOSS_POLICIES), "replace"),
  },
  { what: "a placement mapping (strategy, wait_s, dead_after_s, on_host_loss)" },
);
export type PlacementSection = Infer<typeof placementSection>;

export const castSection = obj(Object.fromEntries(ROLES.map((r) => [r, opt(roleSection)])) as Record<Role, ReturnType<typeof opt<RoleSection>>>);

const loraSection = obj({
  r: int({ min: 1 }),
  alpha: num({ gt: 0 }),
  dropout: opt(num({ min: 0, lt: 1 }), 0),
  targets: list(oneOf(LORA_TARGETS), { min: 1, unique: true }),
  dora: opt(bool(), false),
  /** Blocks that get adapters; absent = all. */
  blocks: opt(list(int({ min: 0 }), { min: 1, unique: true })),
});

/** How the trainer makes the frozen base before stage 0: pretrained on a data lane. */
const pretrainSection = obj({
  lane: name(),
  steps: int({ min: 1 }),
  lr: opt(num({ gt: 0 }), 3e-3),
  batch: opt(int({ min: 1 })),
  warmup: opt(int({ min: 0 })),
  seed: opt(int({ min: 0 })),
});
export type PretrainSection = Infer<typeof pretrainSection>;

const baseSection = obj({ pretrain: pretrainSection }, { what: "a base mapping (pretrain)" });

export const modelSection = obj(
  {
    /** A Hugging Face model directory (config.json + safetensors) as the base, instead of a fresh GPT. */
    hf: opt(str()),
    vocab: opt(int({ min: 2 })),
    block: opt(int({ min: 1 })),
    n_embd: opt(int({ min: 1 })),
    n_head: opt(int({ min: 1 })),
    n_layer: opt(int({ min: 1 })),
    dropout: opt(num({ min: 0, lt: 1 }), 0),
    base: opt(baseSection),
    lora: opt(loraSection),
  },
  { what: "a model mapping (hf: DIR, or vocab, block, n_embd, n_head, n_layer; base, lora)" },
);
export type ModelSection = Infer<typeof modelSection>;

const laneSection = tagged("kind", {
  /** The built-in generated prompt/response pack (data/). */
  prompt_pack: obj({
    kind: str(),
    seed: opt(int({ min: 0 }), 0),
    domains: opt(list(oneOf(DOMAIN_NAMES), { min: 1, unique: true })),
    difficulty: opt(list(oneOf(DIFFICULTIES), { min: 1, unique: true })),
    count: opt(int({ min: 1 })),
    split: opt(oneOf(SPLITS), "all"),
    /** Only prompts whose expected answer has min..max characters (a held-out cut of longer strings). */
    response_length: opt(obj({ min: opt(int({ min: 0 })), max: opt(int({ min: 0 })) }, { what: "a length range (min, max)" })),
    options: opt(anything()),
  }),
  /** Prompt/response pairs, one JSON object a line. */
  jsonl: obj({ kind: str(), path: str(), split: opt(oneOf(SPLITS), "all"), options: opt(anything()) }),
  /** Plain text corpus. */
  text: obj({ kind: str(), path: str(), options: opt(anything()) }),
  /** Several prompt/response lanes interleaved (e.g. a new domain with replay of the old ones). */
  mix: obj({ kind: str(), lanes: list(name(), { min: 2, unique: true }), options: opt(anything()) }),
});
export type LaneSection = Infer<typeof laneSection>;

export const dataSection = obj({
  lanes: record(laneSection, { keyPattern: NAME, keyHint: NAME_HINT }),
  options: opt(anything()),
});

const rampSection = obj({ kind: oneOf(RAMP_KINDS), steps: opt(int({ min: 0 }), 0) });
export type RampSection = Infer<typeof rampSection>;

const lossSection = obj({ weight: opt(num({ min: 0 }), 1), ramp: opt(rampSection) });
const lossesSection = obj(Object.fromEntries(LOSS_TERMS.map((t) => [t, opt(lossSection)])) as Record<(typeof LOSS_TERMS)[number], ReturnType<typeof opt<Infer<typeof lossSection>>>>);

const gateSection = obj(
  {
    metric: oneOf(Object.keys(METRICS)),
    /** Pass when the metric is at least this (higher-is-better metrics). */
    min: opt(num()),
    /** Pass when the metric is at most this (lower-is-better metrics). */
    max: opt(num()),
    /** Restates the direction when neither min nor max is set (the evaluator measures the threshold). */
    better: opt(oneOf(DIRECTIONS)),
    /** Judge the far end of the metric's 95 % interval instead of its point value. */
    interval: opt(bool()),
  },
  { what: "a gate mapping (metric, and min or max)" },
);
export type GateSection = Infer<typeof gateSection>;

const changeSection = obj({
  lr_mult: opt(num({ gt: 0 }), 1),
  steps_mult: opt(num({ gt: 0 }), 1),
  reseed: opt(bool(), false),
});

const retrySection = obj({
  max: opt(int({ min: 0, max: 20 }), 0),
  backoff_s: opt(num({ min: 0 }), 0),
  change: opt(changeSection),
});
export type RetrySection = Infer<typeof retrySection>;

export const stageSection = obj({
  stage: int(),
  trains: opt(list(oneOf(MODULES), { unique: true })),
  layers: opt(list(int({ min: 0 }), { min: 1, unique: true })),
  steps: int({ min: 1 }),
  lr: opt(num({ gt: 0 })),
  batch: opt(int({ min: 1 })),
  lane: opt(name()),
  eval_lane: opt(name()),
  losses: opt(lossesSection),
  gate: gateSection,
  retry: opt(retrySection),
  timeout_s: opt(num({ gt: 0 })),
  codecs: opt(list(str(), { min: 1, unique: true })),
  bitrate_penalty: opt(num({ min: 0 })),
  /** Stage 0: logit-lens agreement with the final layer that makes a layer a split candidate. */
  split_agreement: opt(num({ gt: 0, max: 1 })),
});
export type StageSection = Infer<typeof stageSection>;

export const curriculumSection = obj(
  {
    defaults: opt(
      obj({
        retry: opt(retrySection),
        ramp: opt(rampSection),
        batch: opt(int({ min: 1 })),
      }),
    ),
    stages: list(stageSection, { min: 1 }),
  },
  { what: "a curriculum mapping (defaults, stages)" },
);
export type CurriculumSection = Infer<typeof curriculumSection>;

/** How the oracle labels (stages 2 and 6): agreement with the final layer, the acceptance rule, the decoder. */
export const oracleSection = obj({
  kl_max: opt(num({ gt: 0 })),
  top1: opt(bool()),
  rule: opt(oneOf(["stable", "first"] as const)),
  decode: opt(oneOf(["auto", "lens", "tuned"] as const)),
});

export const limitsSection = obj({
  run_timeout_s: opt(num({ gt: 0 })),
  attempt_timeout_s: opt(num({ gt: 0 })),
  memory_mb: opt(int({ min: 1 })),
  checkpoint_every: opt(int({ min: 1 })),
});

/**
 * Thunder-Train: the trainer's jobs that run data-parallel on `ranks` trainers, each computing
 * gradients on its share of every batch, summed by a ring all-reduce over links.
 */
export const THUNDER_JOBS = ["base", "adapter"] as const;
export const thunderSection = obj(
  {
    ranks: int({ min: 2, max: 64 }),
    /** Host of each rank, in rank order (absent: every rank on this machine). */
    on: opt(list(name(), { min: 2, unique: true })),
    /** Which trainer jobs run data-parallel: base pretraining and/or stage 1's adapter. */
    jobs: opt(list(oneOf(THUNDER_JOBS), { min: 1, unique: true })),
    compression: opt(oneOf(["none", "f16", "bf16"] as const), "none"),
    /** A lost rank: stop the job with a report, or continue on the survivors from the last checkpoint. */
    on_peer_loss: opt(oneOf(["stop", "continue"] as const), "stop"),
    dead_after_ms: opt(int({ min: 100, max: 600_000 }), 3000),
    bucket_mb: opt(num({ gt: 0, max: 1024 }), 4),
  },
  { what: "a thunder mapping (ranks, on, jobs, compression, on_peer_loss, dead_after_ms, bucket_mb)" },
);

export const scenarioSchema = obj(
  {
    run: runSection,
    hosts: opt(list(hostSection, { min: 1 })),
    placement: opt(placementSection),
    cast: opt(castSection),
    model: modelSection,
    data: opt(dataSection),
    curriculum: curriculumSection,
    oracle: opt(oracleSection),
    limits: opt(limitsSection),
    thunder: opt(thunderSection),
  },
  { what: "a scenario" },
);
export type ScenarioFile = Infer<typeof scenarioSchema>;
