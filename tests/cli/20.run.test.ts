// troupe run, end to end on the real cast: every role its own process under the supervisor,
// a real nats-server (the harness's, one for the file so the base is pretrained once), the tiny
// scenario's honest gates, the report on disk, troupe status reading the run from KV, an
// impossible stage-1 threshold stopping the run, and gates failing what only looks like
// progress: an adapter that always answers "1" and a base that never learned its domains.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openJobStates } from "../../actors/cast/mod.js";
import { generatePack } from "../../data/mod.js";
import { check, natsForFile, uniqueName } from "../harness/mod.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));
const tiny = join(root, "scenarios", "tiny.yaml");
const env = natsForFile();

function troupe(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function doc(r: { stdout: string }): Record<string, any> {
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, `stdout is one JSON document: ${r.stdout}`);
  return JSON.parse(lines[0]!);
}

test("run - on real actors: tiny passes stages 0-1; status reads KV; the base is cached; an impossible gate and an attempt timeout stop runs", async () => {
  // guards #5 (acceptance: troupe run --json, impossible stage-1 threshold)
  const nats = env.nats;
  const out = mkdtempSync(join(tmpdir(), "troupe-e2e-"));
  try {
    const id = uniqueName("tiny");
    const r = await troupe(["run", tiny, "--json", "--nats", nats.url, "--run-id", id, "--out-dir", out]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const s = doc(r);
    assert.equal(s.run_id, id);
    assert.equal(s.outcome, "done");
    assert.ok(typeof s.wall_s === "number" && s.wall_s > 0);
    const listed = s.stages.filter((x: { stage: number }) => x.stage <= 1);
    assert.deepEqual(listed.map((x: { stage: number; passed: boolean }) => [x.stage, x.passed]), [[0, true], [1, true]]);
    for (const x of listed) assert.ok(x.metric >= x.threshold, `stage ${x.stage}: ${x.metric} >= ${x.threshold}`);
    // guards #14: --json shows what each gain was measured against, the named and the trivial baselines
    const [j0, j1] = listed;
    assert.deepEqual(j1.evidence.references.map((r: { name: string; kind: string }) => [r.name, r.kind]), [["base", "named"], ["constant", "trivial"], ["train_majority", "trivial"]]);
    assert.equal(j1.evidence.gain, j1.metric);
    assert.ok(j1.evidence.gain_ci[0] > 0 && j1.evidence.gain_ci[0] <= j1.metric && j1.metric <= j1.evidence.gain_ci[1], JSON.stringify(j1.evidence.gain_ci));
    assert.deepEqual(j0.evidence.references.map((r: { kind: string }) => r.kind), ["trivial", "trivial", "trivial"], "stage 0: the base against the trivial answers");
    assert.ok(j0.checks.length >= 7 && j0.checks.every((c: { ok: boolean }) => c.ok), JSON.stringify(j0.checks));
    assert.match(r.stderr, new RegExp(`troupe status --nats ${nats.url.replace(/[.]/g, "\\.")} --run ${id}`), "says how to watch it");

    // the report: the gate is computed from the evaluator's real numbers
    const report = JSON.parse(readFileSync(s.report.json, "utf8"));
    assert.equal(report.format, "troupe-report/1");
    const [st0, st1] = [report.stages.find((x: any) => x.stage === 0), report.stages.find((x: any) => x.stage === 1)];
    const d1 = st1.attempt_reports[0].details;
    assert.ok(d1.base.n > 0 && d1.adapted.n === d1.base.n, "base and adapted scored on the same held-out items");
    const best = Math.max(...st1.evidence.references.map((r: { value: number }) => r.value));
    assert.ok(Math.abs(d1.adapted.exactMatch - best - st1.gate.value) < 1e-12, "em_gain = adapted exact match - the best reference's");
    assert.equal(st1.evidence.references[0].value, d1.base.exactMatch, "the base is one of the references");
    assert.ok(d1.trajectory.length >= 1, "the evaluator scored announced checkpoints");
    assert.ok(st1.series[0].terms.sft.points.length > 10, "the loss curve was recorded");
    const d0 = st0.attempt_reports[0].details;
    assert.ok(d0.checks.length >= 7 && d0.checks.every((c: { ok: boolean }) => c.ok), JSON.stringify(d0.checks));
    assert.deepEqual(d0.split_layer_map.layers, [0]);
    assert.ok(d0.baseline.byDomain.reversal.n > 0, "the baseline covers the unseen domain");
    assert.deepEqual(Object.keys(d0.own_domains_measured).sort(), ["arithmetic", "brackets", "copying", "sorting"], "the gate measures the base on its own domains only");
    assert.ok(d0.captured.hidden.every((h: { bytes: number }) => h.bytes > 0), "captured hidden states were stored");
    assert.match(readFileSync(s.report.html, "utf8"), /<svg[\s\S]*<\/svg>/);

    // guards #10: the run keeps its models under runs/<id>/; generate --run uses the adapted
    // model (the same text as the base with the kept adapter.safetensors put on it); artifacts
    // pull copies them out of the server again, digest for digest
    const kept = JSON.parse(readFileSync(join(out, id, "artifacts.json"), "utf8"));
    assert.equal(kept.schema, "troupe.artifacts/1");
    assert.deepEqual([...new Set(kept.artifacts.map((a: { role: string }) => a.role))], ["base", "adapter"]);
    assert.equal(s.artifacts.final, kept.final);
    const base = kept.artifacts.find((a: { role: string }) => a.role === "base");
    const gen = (args: string[]) => troupe(["generate", ...args, "--prompt", "abcdef", "--tokens", "8", "--temperature", "0", "--json"]);
    const g = await gen(["--run", id, "--runs", out]);
    assert.equal(g.code, 0, g.stderr);
    assert.equal(doc(g).tokens, 8);
    const viaAdapter = await gen(["--checkpoint", join(out, id, base.path), "--adapter", join(out, id, kept.adapter_file)]);
    assert.equal(viaAdapter.code, 0, viaAdapter.stderr);
    assert.equal(doc(g).text, doc(viaAdapter).text, "--run means the base with the run's adapter");
    rmSync(join(out, id, "checkpoints"), { recursive: true });
    rmSync(join(out, id, "artifacts.json"));
    const pull = await troupe(["artifacts", "pull", "--run", id, "--nats", nats.url, "--out", out, "--json"]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(doc(pull).artifacts.map((a: { digest: string }) => a.digest), kept.artifacts.map((a: { digest: string }) => a.digest));
    assert.equal(doc(await gen(["--run", id, "--runs", out])).text, doc(g).text, "the pulled model generates the same");
    const none = await troupe(["artifacts", "pull", "--run", "no-such-run", "--nats", nats.url, "--out", out]);
    assert.equal(none.code, 2, none.stderr);
    assert.ok(report.cast.some((c: { role: string }) => c.role === "trainer") && report.notes.some((n: string) => /Not cast: oracle/.test(n)));

    // troupe status, from KV: by run id, and the latest run
    const st = await troupe(["status", "--nats", nats.url, "--run", id, "--json"]);
    assert.equal(st.code, 0, st.stderr);
    const view = doc(st);
    assert.equal(view.outcome, "done");
    assert.deepEqual(view.stages.slice(0, 2).map((x: { passed: boolean }) => x.passed), [true, true]);
    assert.equal(doc(await troupe(["status", "--nats", nats.url, "--json"])).run_id, id);
    const text = await troupe(["status", "--nats", nats.url, "--run", id]);
    assert.match(text.stdout, /1 domain adapter\s+passed\s+em_gain/);

    // an impossible threshold: exact match cannot gain more than 1
    const impossible = join(out, "impossible.yaml");
    writeFileSync(
      impossible,
      readFileSync(tiny, "utf8")
        .replace("out_dir: ../runs", `out_dir: ${out}`)
        .replace("steps: 300", "steps: 60")
        .replace("gate: { metric: em_gain, min: 0.2 }", "gate: { metric: em_gain, min: 1.01 }"),
    );
    const bad = await troupe(["run", impossible, "--json", "--nats", nats.url]);
    assert.equal(bad.code, 1, bad.stderr.slice(-3000));
    const b = doc(bad);
    assert.equal(b.outcome, "stopped");
    assert.equal(b.stopped.kind, "gate_exhausted");
    assert.match(b.stopped.reason, /stage 1 \(domain adapter\) did not pass its gate after 2 attempts \(1 retry, the budget\): em_gain -?[\d.]+ < min 1.01/);
    const stopped = JSON.parse(readFileSync(b.report.json, "utf8"));
    assert.equal(stopped.stopped.kind, "gate_exhausted");
    const s1 = stopped.stages.find((x: any) => x.stage === 1);
    assert.deepEqual([s1.status, s1.attempts, s1.attempt_reports.map((a: any) => a.outcome)], ["failed", 2, ["gate_failed", "gate_failed"]]);
    assert.ok(stopped.notes.some((n: string) => /found in the cache/.test(n)), "the second run on this server reused the base");
    assert.match(readFileSync(b.report.html, "utf8"), /did not pass its gate after 2 attempts/);

    // (a stage this build lacks stops a run "not available": every stage is built now, so the
    // director's own tests cover that path with a shorter `available` list; tests/cli/31 and
    // the quickstart run stages 2-6 on the cast)

    // an attempt that runs out of time: the director aborts it and the trainer's job is cancelled
    const slow = join(out, "slow.yaml");
    writeFileSync(
      slow,
      readFileSync(tiny, "utf8")
        .replace("out_dir: ../runs", `out_dir: ${out}`)
        .replace("steps: 300", "steps: 100000\n      timeout_s: 4")
        .replace("retry: { max: 1, change: { reseed: true } }", "retry: { max: 0 }"),
    );
    const slowId = uniqueName("slow");
    const timedOut = await troupe(["run", slow, "--json", "--nats", nats.url, "--run-id", slowId]);
    assert.equal(timedOut.code, 1, timedOut.stderr.slice(-3000));
    const t3 = doc(timedOut);
    assert.equal(t3.stopped.kind, "gate_exhausted");
    const r3 = JSON.parse(readFileSync(t3.report.json, "utf8"));
    assert.equal(r3.stages.find((x: any) => x.stage === 1).attempt_reports[0].outcome, "timeout");
    const nc = await nats.connect();
    const jobs = await openJobStates(nc, slowId);
    const job = await check(async () => {
      const s = (await jobs.get("s1-a1"))?.value;
      return s?.state === "cancelled" ? s : null;
    }, { what: "the trainer to cancel the job" });
    assert.match(job.cancel ?? "", /the director aborted s1-a1/);
    assert.ok(job.step < 100000, "training stopped early");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("run - gates fail what only looks like progress: an adapter that always answers \"1\", a base that never learned its domains", async () => {
  // guards #14 (acceptance: a test shows a constant-answer adapter failing the gate; stage 0 can fail)
  const out = mkdtempSync(join(tmpdir(), "troupe-e2e-gates-"));
  try {
    // the adapter is trained on counting prompts whose answer is always "1": it learns to say "1"
    const ones = generatePack({ seed: 5, domains: ["counting"], difficulties: ["easy"], trainPerCell: 300 }).train;
    writeFileSync(join(out, "ones.jsonl"), ones.map((r) => JSON.stringify({ prompt: r.prompt, response: "1", metadata: { domain: "counting" } })).join("\n") + "\n");
    const constant = join(out, "constant.yaml");
    writeFileSync(
      constant,
      readFileSync(tiny, "utf8")
        .replace("out_dir: ../runs", `out_dir: ${out}`)
        .replace("    reversal_heldout:", "    ones: { kind: jsonl, path: ones.jsonl }\n    counting_heldout: { kind: prompt_pack, seed: 5, domains: [counting], difficulty: [easy], split: heldout }\n    reversal_heldout:")
        .replace("steps: 300", "steps: 150")
        .replace("lane: reversal\n      eval_lane: reversal_heldout", "lane: ones\n      eval_lane: counting_heldout")
        .replace("gate: { metric: em_gain, min: 0.2 }", "gate: { metric: em_gain, min: 0.1 }")
        .replace("retry: { max: 1, change: { reseed: true } }", "retry: { max: 0 }"),
    );
    const r = await troupe(["run", constant, "--json", "--nats", env.nats.url]);
    assert.equal(r.code, 1, r.stderr.slice(-3000));
    const s = doc(r);
    const s1 = s.stages.find((x: { stage: number }) => x.stage === 1);
    assert.equal(s1.status, "failed");
    assert.equal(s.stopped.kind, "gate_exhausted");
    const e = s1.evidence;
    const [base, trivial] = [e.references.find((x: { name: string }) => x.name === "base"), e.references.find((x: { name: string }) => x.name === "constant")];
    assert.ok(e.score.value >= 0.4, `the adapter answers "1": ${e.score.value}`);
    assert.ok(e.score.value - base.value >= 0.1, "over the base alone it would have passed the old gate");
    assert.equal(trivial.detail, 'always "1"');
    assert.equal(trivial.value, 0.42);
    assert.ok(e.gain <= 0.02 && e.gain_ci[0] <= 0, `no gain over answering "1": ${JSON.stringify(e)}`);
    assert.match(s.stopped.reason, /em_gain -?[\d.]+ < min 0\.1 \(adapted 0\.4\d vs best reference (constant|train_majority) 0\.42/);

    // a base pretrained for 5 steps knows nothing: stage 0 stops the run before any adapter
    const untrained = join(out, "untrained.yaml");
    writeFileSync(untrained, readFileSync(tiny, "utf8").replace("out_dir: ../runs", `out_dir: ${out}`).replace("steps: 700, lr: 4.0e-3", "steps: 5, lr: 4.0e-3"));
    const u = await troupe(["run", untrained, "--json", "--nats", env.nats.url]);
    assert.equal(u.code, 1, u.stderr.slice(-3000));
    const t = doc(u);
    assert.equal(t.stopped.kind, "gate_exhausted");
    assert.equal(t.stopped.stage, 0);
    assert.match(t.stopped.reason, /^stage 0 \(baseline\) did not pass its gate after 1 attempt/);
    const t0 = t.stages.find((x: { stage: number }) => x.stage === 0);
    assert.ok(t0.metric < 0.1, `base_em_gain ${t0.metric}`);
    assert.equal(t0.evidence.score.name, "base");
    assert.ok(!t.stages.some((x: { stage: number; attempts: number }) => x.stage === 1 && x.attempts > 0), "stage 1 never ran");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("run - a malformed scenario names file, line and key, exits 2 and starts nothing", async () => {
  // guards #5 (acceptance: a malformed scenario starts nothing)
  const dir = mkdtempSync(join(tmpdir(), "troupe-bad-"));
  try {
    const marker = join(dir, "nats-server-was-started");
    const fake = join(dir, "fake-nats-server");
    writeFileSync(fake, `#!/bin/sh\ntouch "${marker}"\nexit 1\n`, { mode: 0o755 });
    const env = { TROUPE_NATS_SERVER: fake };
    const r = await troupe(["run", "tests/fixtures/scenarios/bad/unknown-key.yaml", "--json", "--out-dir", join(dir, "runs")], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tests\/fixtures\/scenarios\/bad\/unknown-key.yaml:7 model.n_embed: unknown key/);
    assert.equal(JSON.parse(r.stdout).error.code, "usage", "--json: the error as a document (#10)");
    assert.equal(existsSync(marker), false, "no nats-server was started");
    assert.equal(existsSync(join(dir, "runs")), false, "no report directory");
    // the control: with a valid scenario the same command does reach for nats-server
    const ok = await troupe(["run", tiny, "--json", "--out-dir", join(dir, "runs")], env);
    assert.equal(ok.code, 1);
    assert.equal(existsSync(marker), true, "the marker works");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
