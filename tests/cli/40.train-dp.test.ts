// `troupe train --dp-world N`: Thunder-Train from the command line on loopback (the namespace
// runs are tests/hosts/40.*): a lost rank stops the survivors with a report, or they continue
// on fewer hosts from the last checkpoint; bad flags are usage errors. guards #13
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { finished } from "../../hosts/mod.js";
import { check, natsForFile, uniqueName } from "../harness/mod.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const env = natsForFile();
const dir = mkdtempSync(join(tmpdir(), "troupe-train-dp-"));
const data = join(dir, "corpus.txt");
writeFileSync(data, Array.from({ length: 4000 }, (_, i) => `line ${i} of the thunder ring, ${(i * 7919) % 1000}.`).join("\n"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const small = ["--block", "32", "--embd", "32", "--heads", "2", "--layers", "2", "--batch", "8", "--lr", "3e-4", "--eval-every", "1000", "--seed", "1", "--json"];

function rank(r: number, run: string, extra: string[]) {
  const child = spawn(process.execPath, [main, "train", "--data", data, ...small, "--run", run, "--out", join(dir, run), "--nats", env.nats.url,
    "--dp-world", "2", "--dp-rank", String(r), "--dp-group", run, "--dead-after-ms", "1000", ...extra], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TROUPE_LOG_LEVEL: "warn" } });
  return { child, done: finished(child) };
}

test("train --dp - a rank killed mid-run: with --on-peer-loss continue the survivor finishes alone from the last checkpoint", async () => {
  const run = uniqueName("c");
  const steps = ["--steps", "400", "--checkpoint-every", "20"];
  const r0 = rank(0, run, [...steps, "--on-peer-loss", "continue", "--trace", join(dir, `${run}.trace`)]);
  const r1 = rank(1, run, steps);
  const { readFileSync, existsSync } = await import("node:fs");
  // kill rank 1 once rank 0 has passed a checkpoint (step 20) and is training on
  await check(() => existsSync(join(dir, `${run}.trace`)) && readFileSync(join(dir, `${run}.trace`), "utf8").split("\n").length > 30, { what: "30 steps", timeoutMs: 120_000 });
  r1.child.kill("SIGKILL");
  const res = await r0.done;
  assert.equal(res.code, 0, res.stderr.slice(-2000));
  const dp = res.json!.data_parallel as { outcome: string; lost: number[]; world: number; generations: { world: number; lost: number[]; error: string | null }[] };
  assert.equal(dp.outcome, "continued");
  assert.deepEqual(dp.lost, [1]);
  assert.equal(dp.world, 1, "the last generation had one rank");
  assert.equal(dp.generations.length, 2);
  assert.match(dp.generations[0]!.error ?? "", /lost its link to rank 1|rank 1/);
  assert.equal(res.json!.steps, 400, "trained to the end");
  assert.ok((res.json!.resumed_from as number) >= 20, `resumed from a checkpoint (step ${String(res.json!.resumed_from)})`);
});

test("train --dp - a rank killed mid-run: by default the survivor stops with a report and exit 1", async () => {
  const run = uniqueName("s");
  const trace = join(dir, `${run}.trace`);
  const r0 = rank(0, run, ["--steps", "100000", "--checkpoint-every", "1000", "--trace", trace]);
  const r1 = rank(1, run, ["--steps", "100000", "--checkpoint-every", "1000"]);
  const { readFileSync, existsSync } = await import("node:fs");
  await check(() => existsSync(trace) && readFileSync(trace, "utf8").split("\n").length > 5, { what: "5 steps together", timeoutMs: 120_000 });
  const t0 = performance.now();
  r1.child.kill("SIGKILL");
  const res = await r0.done;
  const ms = performance.now() - t0;
  assert.equal(res.code, 1, "stopped");
  const dp = res.json!.data_parallel as { outcome: string; lost: number[] };
  assert.equal(dp.outcome, "stopped-with-report");
  assert.deepEqual(dp.lost, [1]);
  assert.ok(ms < 5000, `stopped ${ms.toFixed(0)} ms after the kill (bound: dead-after 1000 ms + a step)`);
});

test("train --dp - inconsistent data-parallel flags are usage errors (exit 2)", () => {
  const cases: [string[], RegExp][] = [
    [["--dp-world", "2"], /--dp-world N and --dp-rank R/],
    [["--dp-world", "2", "--dp-rank", "2", "--nats", "nats://127.0.0.1:1"], /below --dp-world 2/],
    [["--dp-world", "2", "--dp-rank", "0"], /needs --nats/],
    [["--dp-world", "1", "--dp-rank", "0", "--compression", "fp8"], /none, f16 or bf16/],
    [["--dp-world", "1", "--dp-rank", "0", "--on-peer-loss", "retry"], /stop or continue/],
  ];
  for (const [flags, msg] of cases) {
    const r = spawnSync(process.execPath, [main, "train", "--data", data, "--steps", "1", "--out", join(dir, "u"), ...flags], { encoding: "utf8" });
    assert.equal(r.status, 2, `${flags.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});
