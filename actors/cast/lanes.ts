// A scenario's data lanes as the items the models layer trains and evaluates on. A
// `prompt_pack` lane is the data layer's built-in pack cut to the lane's domains,
// difficulties, split and count; a `jsonl` lane is a prompt/response file. Both go through
// the data layer's SFT lane (chat template, prompt masking, examples longer than the model's
// context skipped and counted), so every actor that loads a lane by name gets the same items.
import { type LaneItem, isDataError, loadData } from "../../data/mod.js";
import { LaneError } from "./errors.js";
import type { LaneSpec, RunSpec } from "./spec.js";

export interface LoadedLane {
  readonly name: string;
  readonly items: readonly LaneItem[];
  /** How the lane was made (recorded with checkpoints and in reports). */
  readonly describe: Record<string, unknown>;
}

/** The pack holds this many held-out prompts per domain and difficulty unless a lane says otherwise. */
const HELD_OUT_PER_CELL = 50;
const TRAIN_PER_CELL = 300;

function packSource(lane: Extract<LaneSpec, { kind: "prompt_pack" }>) {
  const options = (lane.options ?? {}) as { heldOutPerCell?: number; trainPerCell?: number };
  const domains = lane.domains ?? undefined;
  const difficulties = lane.difficulty ?? undefined;
  const cells = (domains?.length ?? 6) * (difficulties?.length ?? 2);
  const wantTrain = lane.split !== "heldout" && lane.count !== null ? Math.ceil(lane.count / cells) : TRAIN_PER_CELL;
  return {
    kind: "pack",
    seed: lane.seed,
    ...(domains ? { domains: [...domains] } : {}),
    ...(difficulties ? { difficulties: [...difficulties] } : {}),
    trainPerCell: options.trainPerCell ?? wantTrain,
    heldOutPerCell: options.heldOutPerCell ?? HELD_OUT_PER_CELL,
  };
}

function splitOf(lane: LaneSpec): "train" | "heldout" | "all" {
  return lane.kind === "text" || lane.kind === "mix" ? "all" : lane.split;
}

/** Loads lane `name` of the run for a model of context `block`. Throws LaneError. */
export async function loadLane(spec: RunSpec, name: string): Promise<LoadedLane> {
  const lane = spec.lanes[name];
  if (!lane) throw new LaneError(name, `the scenario defines no such lane (lanes: ${Object.keys(spec.lanes).join(", ") || "none"})`);
  if (lane.kind === "text") throw new LaneError(name, "a text lane is a corpus; stages 0-1 need prompt/response pairs (prompt_pack or jsonl)");
  if (lane.kind === "mix") return mixLanes(spec, name, lane.lanes);
  const block = spec.model.block + 1; // an example of block+1 tokens fills every input position
  const source = lane.kind === "prompt_pack" ? packSource(lane) : { kind: "jsonl", train: lane.path };
  const limit = lane.kind === "prompt_pack" ? lane.count : null;
  let data;
  try {
    data = await loadData({
      seed: lane.kind === "prompt_pack" ? lane.seed : spec.seed,
      block,
      source,
      lanes: {
        sft: { limit, ...(lane.kind === "prompt_pack" && lane.responseLength ? { responseLength: lane.responseLength } : {}) },
        routing: false,
        semantic: false,
        transfer: false,
      },
    });
  } catch (err) {
    if (isDataError(err)) throw new LaneError(name, err.message, { cause: err });
    throw err;
  }
  const sft = data.lanes.sft;
  const split = splitOf(lane);
  let items: LaneItem[] = split === "train" ? sft.train : split === "heldout" ? sft.heldOut : [...sft.train, ...sft.heldOut];
  if (split === "all" && limit !== null) items = items.slice(0, limit);
  if (items.length === 0) {
    throw new LaneError(name, `has no usable examples (split ${split}; ${sft.report.skipped.count} skipped); examples longer than the model's context (${spec.model.block}) are skipped`);
  }
  return {
    name,
    items,
    describe: {
      lane: name,
      ...source,
      split,
      ...(lane.kind === "prompt_pack" && lane.responseLength ? { responseLength: lane.responseLength } : {}),
      count: items.length,
      skipped: sft.report.skipped.count,
      block: spec.model.block,
    },
  };
}

/** A mix: its lanes' items interleaved, one from each lane in turn while they last. */
async function mixLanes(spec: RunSpec, name: string, parts: readonly string[]): Promise<LoadedLane> {
  const loaded: LoadedLane[] = [];
  for (const p of parts) {
    if (spec.lanes[p]?.kind === "mix") throw new LaneError(name, `lane ${p} is a mix itself`);
    loaded.push(await loadLane(spec, p));
  }
  const items: LaneItem[] = [];
  for (let k = 0; items.length < loaded.reduce((n, l) => n + l.items.length, 0); k++) for (const l of loaded) if (k < l.items.length) items.push(l.items[k]!);
  return { name, items, describe: { lane: name, kind: "mix", lanes: loaded.map((l) => l.describe), count: items.length } };
}

/** Items of `train` whose prompt is not among `heldOut`'s: a gate never scores what was trained on. */
export function withoutPrompts(train: readonly LaneItem[], heldOut: readonly LaneItem[]): { items: LaneItem[]; removed: number } {
  const held = new Set(heldOut.map((i) => i.prompt));
  const items = train.filter((i) => !held.has(i.prompt));
  return { items, removed: train.length - items.length };
}

/** Domains present in some items, sorted. */
export function domainsOf(items: readonly { domain: string }[]): string[] {
  return [...new Set(items.map((i) => i.domain))].sort();
}

/** Items reordered round-robin over their domains (stable), so any prefix covers every domain. */
export function interleaveDomains<T extends { domain: string }>(items: readonly T[]): T[] {
  const by = new Map<string, T[]>();
  for (const i of items) by.set(i.domain, [...(by.get(i.domain) ?? []), i]);
  const lists = [...by.keys()].sort().map((d) => by.get(d)!);
  const out: T[] = [];
  for (let k = 0; out.length < items.length; k++) for (const l of lists) if (k < l.length) out.push(l[k]!);
  return out;
}
