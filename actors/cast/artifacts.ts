// What a run keeps: its models copied out of the run's JetStream Object Store into
// runs/<run>/ so they outlive an embedded server. The base (from the shared base cache) and the
// last checkpoint of every adapter attempt are written as local checkpoints
// (runs/<run>/checkpoints/<stage>/step-N/, manifest with SHA-256 per file), the last stage's
// adapter also as runs/<run>/adapter.safetensors, and runs/<run>/artifacts.json indexes them:
// which is the base, which the adapters, and which model `--run <id>` means (`final`).
import { writeFile, rename, mkdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { type NatsConnection, objectCheckpointStore } from "../../hosts/mod.js";
import { type Checkpoint, localCheckpointStore, modelFromCheckpoint, saveAdapter } from "../../models/mod.js";
import { OBJECT_BUCKETS, RUN_KEYS, openRunRecord } from "./records.js";
import type { RunSpec } from "./spec.js";
import { adapterJobId } from "./work/adapter.js";
import type { BaseRecord } from "./work/base.js";

export const ARTIFACTS_FILE = "artifacts.json";
export const ARTIFACTS_SCHEMA = "troupe.artifacts/1";
/** Attempts per stage looked for (the director's budget is far smaller). */
const MAX_ATTEMPTS = 32;

export interface RunArtifact {
  readonly role: "base" | "adapter";
  /** the checkpoint's stage name in the run directory (base-<digest>, s<stage>-a<attempt>) */
  readonly stage: string;
  readonly step: number;
  /** relative to the run directory */
  readonly path: string;
  /** SHA-256 of the checkpoint's model.safetensors (from its manifest) */
  readonly digest: string;
}

export interface RunArtifacts {
  readonly schema: typeof ARTIFACTS_SCHEMA;
  readonly run_id: string;
  /** the model `--run <id>` means: the newest attempt of the last stage that trained, else the base */
  readonly final: string | null;
  readonly adapter_file: string | null;
  readonly artifacts: readonly RunArtifact[];
}

function digestOf(ck: Checkpoint): string {
  return ck.manifest.files["model.safetensors"]?.sha256 ?? "";
}

/** Copies the run's models from the server `nc` talks to into `<outDir>/<runId>/`. */
export async function exportRunArtifacts(nc: NatsConnection, runId: string, outDir: string): Promise<RunArtifacts> {
  const record = await openRunRecord(nc, runId);
  const spec = await record.spec();
  const dir = join(outDir, runId);
  const local = localCheckpointStore(outDir);
  const artifacts: RunArtifact[] = [];
  const copy = async (role: RunArtifact["role"], ck: Checkpoint, stage: string): Promise<RunArtifact> => {
    const m = ck.manifest;
    const ref = await local.save(
      { run: runId, stage, step: m.step, kind: m.kind, config: m.config, state: m.state, metrics: m.metrics },
      { model: ck.model, optim: null, files: ck.files },
    );
    const a = { role, stage, step: m.step, path: relative(dir, local.dirOf(ref)), digest: digestOf(ck) };
    artifacts.push(a);
    return a;
  };
  const base = await record.get<BaseRecord>(RUN_KEYS.base);
  if (base) {
    const store = objectCheckpointStore(nc, { bucket: base.ref.bucket });
    const ck = await store.load({ run: base.ref.run, stage: base.ref.stage, step: base.ref.step, kind: base.ref.kind });
    await copy("base", ck, base.ref.stage);
  }
  let lastAdapter: { artifact: RunArtifact; ck: Checkpoint } | null = null;
  const store = objectCheckpointStore(nc, { bucket: OBJECT_BUCKETS.checkpoints });
  for (const s of [...(spec as RunSpec).curriculum.stages].sort((a, b) => a.stage - b.stage)) {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const refs = await store.list(runId, adapterJobId(s.stage, attempt));
      const ref = refs[refs.length - 1];
      if (!ref) continue;
      const ck = await store.load(ref);
      lastAdapter = { artifact: await copy("adapter", ck, ref.stage), ck };
    }
  }
  let adapterFile: string | null = null;
  if (lastAdapter) {
    const { model } = modelFromCheckpoint(lastAdapter.ck);
    adapterFile = "adapter.safetensors";
    await saveAdapter(model, join(dir, adapterFile));
  }
  const finalArtifact = lastAdapter?.artifact ?? artifacts.find((a) => a.role === "base") ?? null;
  const doc: RunArtifacts = { schema: ARTIFACTS_SCHEMA, run_id: runId, final: finalArtifact?.path ?? null, adapter_file: adapterFile, artifacts };
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${ARTIFACTS_FILE}.tmp-${process.pid}`);
  await writeFile(tmp, JSON.stringify(doc, null, 2) + "\n");
  await rename(tmp, join(dir, ARTIFACTS_FILE));
  return doc;
}
