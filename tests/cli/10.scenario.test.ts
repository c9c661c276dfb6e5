// troupe scenario check / run / status, as a user runs them (a child process per call).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SimulatedClock } from "xstate";
import { createMemorySnapshotStore, startDirector } from "../../actors/director/mod.js";
import { loadScenario } from "../../scenarios/mod.js";
import { createFakeWork } from "../actors/director/fake-work.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));

function troupe(...args: string[]) {
  return spawnSync(process.execPath, [main, ...args], { encoding: "utf8", cwd: root });
}

test("cli scenario - check accepts the quickstart (exit 0)", () => {
  const r = troupe("scenario", "check", "scenarios/quickstart.yaml");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /scenarios\/quickstart.yaml: ok — run quickstart, stages 0, 1, 2, 3, 4, 5, 6, hosts: this machine/);
});

test("cli scenario - a malformed file names file, line and key, and exits 2", () => {
  const r = troupe("scenario", "check", "tests/fixtures/scenarios/bad/gate-not-a-number.yaml");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /tests\/fixtures\/scenarios\/bad\/gate-not-a-number.yaml:22 curriculum.stages.1.gate.min: expected a number, got "high"/);
  assert.equal(r.stdout, "");
});

test("cli scenario - --json prints the plan or the problems as one document", () => {
  const ok = troupe("scenario", "check", "tests/fixtures/scenarios/two-stages.yaml", "--json");
  assert.equal(ok.status, 0);
  const doc = JSON.parse(ok.stdout);
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.plan.curriculum.stages.map((s: { stage: number }) => s.stage), [0, 1]);
  const bad = troupe("scenario", "check", "tests/fixtures/scenarios/bad/unknown-section.yaml", "--json");
  assert.equal(bad.status, 2);
  const issues = JSON.parse(bad.stdout).issues as { line: number; path: string }[];
  assert.deepEqual(issues.map((i) => [i.line, i.path]), [[5, "curiculum"], [9, "limts"]]);
});

test("cli scenario - a missing file is a usage error", () => {
  const r = troupe("scenario", "check", "nope.yaml");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /nope.yaml: no such file/);
});

test("cli run - a malformed scenario exits 2 before anything starts, even with --export-chart", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-run-"));
  try {
    const out = join(dir, "chart.mmd");
    const r = troupe("run", "tests/fixtures/scenarios/bad/unknown-key.yaml", "--export-chart", out);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown-key.yaml:7 model.n_embed: unknown key \(did you mean "n_embd"\?\)/);
    assert.equal(existsSync(out), false, "nothing written");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cli run - --export-chart writes Mermaid or JSON by extension and exits 0", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-chart-"));
  try {
    const mmd = join(dir, "sub", "chart.mmd");
    const r1 = troupe("run", "scenarios/quickstart.yaml", "--export-chart", mmd);
    assert.equal(r1.status, 0, r1.stderr);
    assert.match(readFileSync(mmd, "utf8"), /^flowchart TD\n[\s\S]*subgraph stage6\["stage 6 · joint finetune"\]/);
    const json = join(dir, "chart.json");
    const r2 = troupe("run", "scenarios/quickstart.yaml", "--export-chart", json, "--json");
    assert.equal(r2.status, 0, r2.stderr);
    assert.deepEqual(JSON.parse(r2.stdout), { schema: "troupe.run/1", chart: json, format: "json", run: "quickstart" });
    const doc = JSON.parse(readFileSync(json, "utf8"));
    assert.equal(doc.format, "troupe.director-chart");
    const bad = troupe("run", "scenarios/quickstart.yaml", "--export-chart", join(dir, "chart.svg"));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /name it \*.json or \*.mmd/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cli run - --resume without a server to resume from is a usage error (exit 2)", () => {
  const r = troupe("run", "scenarios/tiny.yaml", "--resume");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--resume continues a run kept on a NATS server: give --nats URL and --run-id ID/);
});

test("cli status - prints stage, losses and gates from a saved snapshot; --json gives the view", async () => {
  const plan = loadScenario(join(root, "tests/fixtures/scenarios/two-stages.yaml"));
  const store = createMemorySnapshotStore();
  const h = await startDirector({ runId: "cli-status", store, work: createFakeWork(), clock: new SimulatedClock(), plan: plan.curriculum, available: [0, 1] });
  await h.done;
  const dir = mkdtempSync(join(tmpdir(), "troupe-status-"));
  try {
    const file = join(dir, "snap.json");
    writeFileSync(file, JSON.stringify(await store.load("cli-status")));
    const text = troupe("status", "--snapshot", file);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^run cli-status · done/);
    assert.match(text.stdout, /1 domain adapter\s+passed\s+heldout_gain 0.02 >= min 0.02/);
    const json = troupe("status", "--snapshot", file, "--json");
    const view = JSON.parse(json.stdout);
    assert.deepEqual(
      view.stages.map((s: { stage: number; passed: boolean; status: string }) => [s.stage, s.passed, s.status]),
      [[0, true, "passed"], [1, true, "passed"], ...[2, 3, 4, 5, 6].map((n) => [n, false, "omitted"])],
    );
    const wrong = troupe("status", "--snapshot", file, "--run", "other");
    assert.equal(wrong.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cli status - without --nats: a finished run's report on disk, else how to point it at a run (exit 2)", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-status-runs-"));
  try {
    const none = troupe("status", "--runs", dir);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no finished run in .*; a live run is read from its NATS server: troupe status --nats URL/);
    const report = { run_id: "r1", outcome: "done", wall_s: 3, resumes: 0, stages: [{ stage: 0, name: "baseline", status: "passed", verdict: "base_em_gain 1 >= min 1", note: null, attempts: 1 }] };
    mkdirSync(join(dir, "r1"));
    writeFileSync(join(dir, "r1", "report.json"), JSON.stringify(report));
    const r = troupe("status", "--runs", dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^run r1 · done · 3 s/);
    assert.match(r.stdout, /0 baseline\s+passed\s+base_em_gain 1 >= min 1/);
    assert.equal(JSON.parse(troupe("status", "--runs", dir, "--run", "r1", "--json").stdout).outcome, "done");
    assert.equal(troupe("status", "--runs", dir, "--run", "r2").status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
