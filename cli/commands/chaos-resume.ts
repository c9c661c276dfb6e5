// `troupe chaos resume`: kill -9 a training at a random step after a checkpoint, resume it
// with --resume, and check that the resumed run repeats the straight run bit for bit.
//   1. `troupe train … --run straight` for all steps, every step's loss traced;
//   2. `troupe train … --run victim`, SIGKILL once it passed the kill step and a checkpoint exists;
//   3. `troupe train … --run victim --resume` to the end;
//   4. compare every traced loss of 2 and 3 with 1 (bitwise), the final val loss, the final weights.
// The default run is a small SFT model on the prompt pack with dropout and gradient
// accumulation on, so the dropout RNG, the data position and the optimizer state all matter.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ResumeChaosOptions {
  readonly steps: number;
  readonly data: string;
  readonly checkpointEvery: number;
  /** Kill once this step is traced (default: random after the first checkpoint). */
  readonly killAt?: number;
  /** Extra `troupe train` flags (model size, batch, …); replaces the small defaults. */
  readonly trainArgs?: string[];
  readonly keep?: boolean;
  readonly log?: (msg: string) => void;
}

export interface ResumeChaosResult {
  steps: number;
  killed_at: number;
  resumed_from: number | null;
  max_loss_diff: number;
  identical: boolean;
  compared_steps: number;
  val_loss_straight: number;
  val_loss_resumed: number;
  final_weights_identical: boolean;
  wall_s: number;
  dir?: string;
}

const MAIN = fileURLToPath(new URL("../main.js", import.meta.url));
export const DEFAULT_CHAOS_TRAIN_ARGS = ["--embd", "64", "--layers", "2", "--heads", "4", "--batch", "16", "--accumulate", "2", "--dropout", "0.1"];

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TROUPE_LOG_LEVEL: process.env.TROUPE_LOG_LEVEL ?? "warn" } });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

function readTrace(file: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as { step: number; loss: number };
      out.set(r.step, r.loss);
    } catch {
      // a line cut by the kill
    }
  }
  return out;
}

function hasCheckpoint(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((n) => /^step-\d+$/.test(n) && existsSync(join(dir, n, "manifest.json")));
}

function fail(what: string, r: { code: number | null; signal: NodeJS.Signals | null; stderr: string }): never {
  throw new Error(`${what} exited with ${r.signal ?? r.code}:\n${r.stderr.split("\n").slice(-15).join("\n")}`);
}

export async function runResumeChaos(o: ResumeChaosOptions): Promise<ResumeChaosResult> {
  const t0 = performance.now();
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), "troupe-chaos-resume-"));
  const base = ["train", "--data", o.data, "--steps", String(o.steps), "--out", dir, "--checkpoint-every", String(o.checkpointEvery), ...(o.trainArgs ?? DEFAULT_CHAOS_TRAIN_ARGS), "--json"];
  try {
    log(`straight run of ${o.steps} steps`);
    const straight = await start([...base, "--run", "straight", "--trace", join(dir, "straight.jsonl")]).done;
    if (straight.code !== 0) fail("the straight run", straight);
    const straightOut = JSON.parse(straight.stdout) as { val_loss: number; checkpoint: string };

    const lo = o.checkpointEvery + 1;
    const killAt = o.killAt ?? lo + Math.floor(Math.random() * Math.max(1, o.steps - 1 - lo));
    log(`victim run, kill -9 at step ${killAt}`);
    const victimTrace = join(dir, "victim.jsonl");
    const victim = start([...base, "--run", "victim", "--trace", victimTrace]);
    const ckDir = join(dir, "victim", "checkpoints", "train");
    const poll = setInterval(() => {
      const t = readTrace(victimTrace);
      if (t.size && Math.max(...t.keys()) >= killAt && hasCheckpoint(ckDir)) victim.child.kill("SIGKILL");
    }, 10);
    const v = await victim.done;
    clearInterval(poll);
    if (v.signal !== "SIGKILL") fail(`the victim run should have been killed at step ${killAt} but`, v);
    const before = readTrace(victimTrace);
    const killedAt = Math.max(...before.keys());

    log(`resuming after the kill at step ${killedAt}`);
    const resumed = await start([...base, "--run", "victim", "--resume", "--trace", join(dir, "resumed.jsonl")]).done;
    if (resumed.code !== 0) fail("the resumed run", resumed);
    const resumedOut = JSON.parse(resumed.stdout) as { val_loss: number; resumed_from: number | null; checkpoint: string };
    const after = readTrace(join(dir, "resumed.jsonl"));

    const ref = readTrace(join(dir, "straight.jsonl"));
    let maxDiff = 0;
    let identical = ref.size === o.steps;
    let compared = 0;
    for (const trace of [before, after]) {
      for (const [step, loss] of trace) {
        const want = ref.get(step);
        compared++;
        if (want === undefined || !Object.is(want, loss)) identical = false;
        const d = want === undefined ? Infinity : Math.abs(want - loss);
        if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
      }
    }
    const from = resumedOut.resumed_from ?? 0;
    for (let s = from + 1; s <= o.steps; s++) if (!after.has(s)) identical = false;
    const digest = (p: string) => createHash("sha256").update(readFileSync(join(p, "model.safetensors"))).digest("hex");
    const sameWeights = digest(straightOut.checkpoint) === digest(resumedOut.checkpoint);
    const sameVal = Object.is(straightOut.val_loss, resumedOut.val_loss);
    return {
      steps: o.steps, killed_at: killedAt, resumed_from: resumedOut.resumed_from, max_loss_diff: maxDiff,
      identical: identical && sameWeights && sameVal && resumedOut.resumed_from !== null,
      compared_steps: compared, val_loss_straight: straightOut.val_loss, val_loss_resumed: resumedOut.val_loss,
      final_weights_identical: sameWeights, wall_s: Number(((performance.now() - t0) / 1000).toFixed(1)),
      ...(o.keep ? { dir } : {}),
    };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
