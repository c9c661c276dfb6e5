// Loading the models and adapters the user names on the command line (--checkpoint, --base,
// --adapter, --run): a path to a checkpoint, stage or run directory or a model.safetensors, or a
// run id under runs/. A model given where an adapter is expected, or the reverse, is a usage
// error that says which flag takes it.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { CausalLM } from "../models/mod.js";
import { UsageCode, UsageError } from "./errors.js";

/** What runs/<id>/artifacts.json says (written by `troupe run` and `troupe artifacts pull`). */
export interface RunArtifacts {
  readonly schema: string;
  readonly run_id: string;
  /** the model a user means by `--run ID`: the last stage's trained model */
  readonly final: string | null;
  readonly artifacts: readonly { readonly role: string; readonly stage: string; readonly step: number; readonly path: string; readonly digest: string }[];
}

/**
 * The model directory a run id stands for: the run's artifacts.json `final` (a `troupe run`),
 * or the run's own directory (a `troupe train` run, whose checkpoints are under it).
 */
export function resolveRunId(label: string, id: string, runsDir = "runs"): string {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id)) throw new UsageError(`${label}: not a run id (letters, digits, _ . -)`, { code: UsageCode.badValue });
  const dir = join(runsDir, id);
  if (!existsSync(dir)) {
    throw new UsageError(`${label}: no run ${id} in ${runsDir}/; a run on a NATS server is fetched with troupe artifacts pull --run ${id} --nats URL`, { code: UsageCode.noSuchRun });
  }
  const index = join(dir, "artifacts.json");
  if (existsSync(index)) {
    const a = JSON.parse(readFileSync(index, "utf8")) as RunArtifacts;
    if (!a.final) throw new UsageError(`${label}: run ${id} kept no trained model (${index} lists none)`, { code: UsageCode.noSuchRun });
    return join(dir, a.final);
  }
  if (!existsSync(join(dir, "checkpoints"))) {
    throw new UsageError(`${label}: run ${id} has no models in ${dir} (no artifacts.json, no checkpoints/); troupe artifacts pull --run ${id} --nats URL fetches them from the run's server`, { code: UsageCode.noSuchRun });
  }
  return dir;
}

/**
 * A model path as given, or a run id standing for one: `--base runs/x/checkpoints/train` and
 * `--base x` (when ./x does not exist but runs/x does) both work.
 */
export function modelPathOrRun(label: string, value: string, runsDir = "runs"): string {
  if (existsSync(value)) return value;
  if (/^[A-Za-z0-9_.-]{1,128}$/.test(value) && existsSync(join(runsDir, value))) return resolveRunId(label, value, runsDir);
  return value;
}

/** Is this file a troupe adapter (by its safetensors metadata)? */
async function isAdapterFile(path: string): Promise<boolean> {
  if (!existsSync(path) || !statSync(path).isFile()) return false;
  const M = await import("../models/mod.js");
  try {
    M.parseAdapter(readFileSync(path), path);
    return true;
  } catch {
    return false;
  }
}

/** Loads the model `label` (e.g. `--checkpoint x`) names, with errors in the CLI's words. */
export async function loadModelArg(label: string, path: string): Promise<{ model: CausalLM; source: string }> {
  const M = await import("../models/mod.js");
  if (!existsSync(path)) throw new UsageError(`${label}: no such file or directory (give a checkpoint, stage or run directory, or a model.safetensors)`, { code: UsageCode.noSuchFile });
  if (await isAdapterFile(path)) {
    throw new UsageError(`${label}: is an adapter, not a model; give its base model here and this file with --adapter`, { code: UsageCode.badModel });
  }
  try {
    const { model, source } = await M.loadModelFile(path);
    return { model, source };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && ["MODEL_CONFIG", "CHECKPOINT_NOT_FOUND", "CHECKPOINT_FORMAT", "KERNEL_FORMAT"].includes(code)) {
      const detail = (err as Error).message.replace(/^checkpoint: /, "");
      throw new UsageError(`${label}: not a model troupe can load: ${detail}`, { cause: err, code: UsageCode.badModel });
    }
    throw err;
  }
}

/** Puts the adapter `label` (e.g. `--adapter x`) names on `model`, with errors in the CLI's words. */
export async function loadAdapterArg(label: string, model: CausalLM, path: string): Promise<void> {
  const M = await import("../models/mod.js");
  if (!existsSync(path)) throw new UsageError(`${label}: no such file (give an adapter.safetensors written by troupe train --lora)`, { code: UsageCode.noSuchFile });
  if (statSync(path).isDirectory() || !(await isAdapterFile(path))) {
    let isModel = false;
    try {
      await M.loadModelFile(path);
      isModel = true;
    } catch {
      // neither a model nor an adapter
    }
    throw new UsageError(
      isModel
        ? `${label}: is a model checkpoint, not an adapter; give it with --checkpoint (or --base), and an adapter.safetensors (troupe train --lora writes one) here`
        : `${label}: not an adapter file (troupe train --lora writes adapter.safetensors)`,
      { code: UsageCode.badModel },
    );
  }
  try {
    await M.loadAdapter(model, path);
  } catch (err) {
    if ((err as { code?: unknown }).code === "MODEL_ADAPTER") throw new UsageError(`${label}: ${(err as Error).message.replace(`${path}: `, "")}`, { cause: err, code: UsageCode.badModel });
    throw err;
  }
}
