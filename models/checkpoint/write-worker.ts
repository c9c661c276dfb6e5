// The local store's writer thread: writes a checkpoint's files into a temp directory and
// renames it into place with plain synchronous calls, off the training thread. The training
// loop keeps stepping while this runs; it only gets one message back per checkpoint.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parentPort } from "node:worker_threads";

export interface WriteJob {
  readonly id: number;
  readonly parent: string;
  readonly tmp: string;
  readonly final: string;
  /** Remove temp directories of writers that no longer run (first job per directory). */
  readonly sweep: boolean;
  readonly files: [string, Uint8Array][];
}

export type WriteReply = { readonly id: number; readonly ok: true } | { readonly id: number; readonly ok: false; readonly error: string; readonly code?: string };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function runJob(job: WriteJob): void {
  mkdirSync(job.parent, { recursive: true });
  if (job.sweep) {
    for (const name of readdirSync(job.parent)) {
      const m = /^\.tmp-.*-(\d+)-\d+$/.exec(name);
      if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) rmSync(join(job.parent, name), { recursive: true, force: true });
    }
  }
  mkdirSync(job.tmp);
  try {
    for (const [name, bytes] of job.files) writeFileSync(join(job.tmp, name), bytes); // the manifest is last
    if (existsSync(job.final)) rmSync(job.final, { recursive: true, force: true });
    renameSync(job.tmp, job.final);
  } catch (err) {
    rmSync(job.tmp, { recursive: true, force: true });
    throw err;
  }
}

parentPort?.on("message", (job: WriteJob) => {
  let reply: WriteReply;
  try {
    runJob(job);
    reply = { id: job.id, ok: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    reply = { id: job.id, ok: false, error: e.message, ...(e.code ? { code: e.code } : {}) };
  }
  parentPort!.postMessage(reply);
});
