// The weights of a head stage as the cast's actors load them: the stage model (the stage-1
// adapter checkpoint, or the base), its adapter parameters as a joint finetune left them (an
// object of the run's `heads` bucket, when there is one), and the head set so far (another
// object there). Frozen copies are cached per process by the weights they were made from; the
// trainer takes a fresh copy for stage 6, whose adapter trains.
import { type NatsConnection, type Objects, openObjects } from "../../hosts/mod.js";
import { parseSafetensors, serializeSafetensors } from "../../kernels/mod.js";
import { type CausalLM, type CheckpointStore, type HeadSet, isAdapterParam, modelFromCheckpoint, parseHeads, serializeHeads } from "../../models/mod.js";
import type { Weights } from "./agp-messages.js";
import { StageRecordError } from "./errors.js";
import { refKey } from "./models.js";

/** The run's bucket of head sets and adapter overrides: troupe_<run>_heads. */
export const HEADS_BUCKET = "heads";

export interface LoadedWeights {
  readonly model: CausalLM;
  readonly heads: HeadSet;
}

export function weightsKey(w: Weights): string {
  return `${refKey(w.model)}|${w.adapter ?? ""}|${w.heads ?? ""}`;
}

export function openHeads(nc: NatsConnection, runId: string): Promise<Objects> {
  return openObjects(nc, { run: runId, bucket: HEADS_BUCKET });
}

async function read(objects: Objects, name: string, what: string): Promise<Uint8Array> {
  const info = await objects.info(name);
  if (!info) throw new StageRecordError(`${what} ${name} is not in the run's ${HEADS_BUCKET} bucket (was its stage's training lost?)`);
  return objects.get(name, { digest: info.digest, size: info.size });
}

/** Loads the weights: a fresh model (its adapter trainable when `trainable`), and the heads. */
export async function loadWeights(stores: (bucket: string) => CheckpointStore, objects: Objects, w: Weights, o: { trainable?: boolean } = {}): Promise<LoadedWeights> {
  const ck = await stores(w.model.bucket).load({ run: w.model.run, stage: w.model.stage, step: w.model.step, kind: w.model.kind });
  const { model } = modelFromCheckpoint(ck);
  if (w.adapter) {
    const f = parseSafetensors(await read(objects, w.adapter, "the adapter of"), w.adapter);
    const params = new Map(model.namedParameters());
    for (const [name, t] of f.tensors) {
      const p = params.get(name);
      if (!p || !isAdapterParam(name)) throw new StageRecordError(`${w.adapter}: ${name} is not an adapter parameter of the stage model`);
      if (p.size !== t.size) throw new StageRecordError(`${w.adapter}: ${name} has ${t.size} values, the model's ${p.size}`);
      p.f32().set(t.f32());
    }
  }
  const heads: HeadSet = w.heads ? parseHeads(await read(objects, w.heads, "the head set"), w.heads) : new Map();
  model.eval();
  for (const [name, t] of model.namedParameters()) t.requiresGrad = o.trainable === true && isAdapterParam(name);
  return { model, heads };
}

/** Frozen weights by what they were made from, loaded once per process (the last few kept). */
export function weightsCache(stores: (bucket: string) => CheckpointStore, objects: () => Promise<Objects>, keep = 3) {
  const cache = new Map<string, Promise<LoadedWeights>>();
  return (w: Weights): Promise<LoadedWeights> => {
    const key = weightsKey(w);
    let p = cache.get(key);
    if (!p) {
      p = objects().then((o) => loadWeights(stores, o, w));
      p.catch(() => cache.delete(key));
      cache.set(key, p);
      while (cache.size > keep) cache.delete(cache.keys().next().value!);
    }
    return p;
  };
}

export async function saveHeads(objects: Objects, name: string, heads: HeadSet): Promise<void> {
  await objects.put(name, serializeHeads(heads));
}

/** Saves the model's adapter parameters (the part a joint finetune changes). */
export async function saveAdapter(objects: Objects, name: string, model: CausalLM): Promise<void> {
  const params = model.namedParameters().filter(([n]) => isAdapterParam(n));
  if (params.length === 0) throw new StageRecordError("the stage model has no adapter parameters to save");
  await objects.put(name, serializeSafetensors(params, { format: "troupe-adapter-params" }));
}
