// Pretrained bases shared between the test files of one `scripts/test.mjs` run. The cast keeps
// every pretrained base in the server's object store troupe_shared_bases (actors/cast/work/
// base.ts), so a second run on the same server finds it; but each test file has its own
// nats-server, and several files run the tiny scenarios, each pretraining the same tiny base
// (700 steps, the larger part of such a run). A file that opts in (natsForFile({ shareBases:
// true })) copies the bases its runs pretrained to $TROUPE_TEST_BASES after each test, and
// copies the ones there into its fresh server before its first test: a base is pretrained by
// the first such file of the run and found in the cache by the others, as a second run on one
// server would. The copies are the store's objects byte for byte (manifest last, digests
// checked on read, as for any cached base). Without $TROUPE_TEST_BASES (a file run on its own)
// nothing is shared. scripts/test.mjs makes the folder for each run and removes it after, so
// nothing outlives the run that pretrained it; tests/cli/20.run.test.ts does not opt in and
// pretrains the tiny base on the cast in every run.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type NatsConnection, openObjects } from "../../hosts/mod.js";

const MANIFEST = "manifest.json";
const DONE = ".complete";

/** The folder of this run's shared bases, or null when the runner did not make one. */
export function sharedBasesDir(): string | null {
  const d = process.env.TROUPE_TEST_BASES;
  return d && existsSync(d) ? d : null;
}

const open = (nc: NatsConnection) => openObjects(nc, { run: "shared", bucket: "bases" });

/** Object names are <stage>/<kind>-<step>/<file>; on disk each checkpoint is a folder <stage>/<kind>-<step>. */
function folderOf(dir: string, stage: string, ref: string): string {
  return join(dir, stage, ref);
}

/**
 * Copies each stage's newest complete checkpoint (its manifest stored) from the server to `dir`,
 * unless another file already did. Written to a temporary folder and renamed into place, with a
 * marker last, so a reader never sees half a copy.
 */
export async function exportBases(nc: NatsConnection, dir: string): Promise<string[]> {
  const objects = await open(nc);
  const listed = await objects.list();
  const newest = new Map<string, string>();
  for (const o of listed) {
    const [stage, ref, file] = o.name.split("/");
    if (!stage || !ref || file !== MANIFEST) continue;
    const have = newest.get(stage);
    if (have === undefined || ref > have) newest.set(stage, ref); // <kind>-<step, 8 digits>: names sort by step
  }
  const copied: string[] = [];
  for (const [stage, ref] of newest) {
    const target = folderOf(dir, stage, ref);
    if (existsSync(join(target, DONE))) continue;
    const tmp = `${target}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const prefix = `${stage}/${ref}/`;
    for (const o of listed.filter((x) => x.name.startsWith(prefix))) {
      writeFileSync(join(tmp, o.name.slice(prefix.length)), await objects.get(o.name, { digest: o.digest, size: o.size }));
    }
    writeFileSync(join(tmp, DONE), "");
    try {
      renameSync(tmp, target);
      copied.push(`${stage}/${ref}`);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another file got there first
    }
  }
  return copied;
}

/** Puts every complete checkpoint in `dir` into the server's troupe_shared_bases, manifest last. */
export async function importBases(nc: NatsConnection, dir: string): Promise<string[]> {
  const objects = await open(nc);
  const put: string[] = [];
  for (const stage of readdirSync(dir)) {
    for (const ref of readdirSync(join(dir, stage))) {
      if (ref.includes(".tmp-")) continue; // being written
      const folder = folderOf(dir, stage, ref);
      if (!existsSync(join(folder, DONE))) continue;
      const files = readdirSync(folder).filter((f) => f !== DONE);
      files.sort((a, b) => Number(a === MANIFEST) - Number(b === MANIFEST));
      for (const f of files) await objects.put(`${stage}/${ref}/${f}`, readFileSync(join(folder, f)));
      put.push(`${stage}/${ref}`);
    }
  }
  return put;
}
