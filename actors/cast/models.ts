// The models layer as the cast's actors use it: the run's base model (a fresh GPT of the
// scenario's sizes, or a Hugging Face directory) and adapter settings, checkpoint stores by
// bucket, models loaded from a stored checkpoint (verified by the store, cached per process),
// and the kernel thread count of an actor process.
import { configureKernels, type GPTConfig } from "../../kernels/mod.js";
import { type CausalLM, type CheckpointStore, type LoraConfig, architecture, buildModel, freshSpec, loadHfModel, modelFromCheckpoint } from "../../models/mod.js";
import { type NatsConnection, objectCheckpointStore } from "../../hosts/mod.js";
import type { StoredCheckpoint } from "./messages.js";
import type { LoraSpec, RunSpec } from "./spec.js";

export function gptConfig(spec: RunSpec): Required<Omit<GPTConfig, "lnEps" | "tiedLmHead" | "mlpHidden">> {
  const m = spec.model;
  return { vocabSize: m.vocab, blockSize: m.block, nEmbd: m.nEmbd, nHead: m.nHead, nLayer: m.nLayer, dropout: m.dropout };
}

/** The base model before any pretraining: the Hugging Face directory's, or a fresh one from `seed`. */
export function initialModel(spec: RunSpec, seed: number): CausalLM {
  if (spec.model.hf) return loadHfModel(spec.model.hf).model;
  return buildModel(freshSpec(spec.model.arch ?? "gpt2", gptConfig(spec)), seed);
}

/** A scenario's lora: section as the models layer's adapter config (blocks → the architecture's layer patterns). */
export function loraConfig(l: LoraSpec, arch = "gpt2"): Partial<LoraConfig> & { rank: number; targets: string[] } {
  const a = architecture(arch);
  const targets = l.blocks === null ? [...l.targets] : l.blocks.flatMap((b) => l.targets.map((t) => a.blockTarget(b, t)));
  return { rank: l.r, alpha: l.alpha, dropout: l.dropout, targets, dora: l.dora };
}

/** One checkpoint store per bucket (troupe_<run>_<bucket>), shared by the process. */
export function checkpointStores(nc: NatsConnection): (bucket: string) => CheckpointStore {
  const stores = new Map<string, CheckpointStore>();
  return (bucket) => {
    let s = stores.get(bucket);
    if (!s) stores.set(bucket, (s = objectCheckpointStore(nc, { bucket })));
    return s;
  };
}

export function refKey(ref: StoredCheckpoint): string {
  return `${ref.bucket}.${ref.run}.${ref.stage}.${ref.kind}-${ref.step}`;
}

/** Frozen models by checkpoint, loaded once (the last few kept). */
export function modelCache(stores: (bucket: string) => CheckpointStore, keep = 3) {
  const cache = new Map<string, Promise<CausalLM>>();
  return async (ref: StoredCheckpoint): Promise<CausalLM> => {
    const key = refKey(ref);
    let p = cache.get(key);
    if (!p) {
      p = stores(ref.bucket)
        .load({ run: ref.run, stage: ref.stage, step: ref.step, kind: ref.kind })
        .then((ck) => {
          const { model } = modelFromCheckpoint(ck);
          model.eval();
          model.freeze();
          return model;
        });
      p.catch(() => cache.delete(key));
      cache.set(key, p);
      while (cache.size > keep) cache.delete(cache.keys().next().value!);
    }
    return p;
  };
}

/** Sets this process's kernel threads (0 or absent: leave the default, all cores). */
export function useThreads(threads: number | undefined): void {
  if (threads && threads > 0) configureKernels({ threads });
}
