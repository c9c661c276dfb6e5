// guards #10: every --json document uses one key casing (snake_case) and carries
// "schema": "troupe.<command>/1". The commands with --json are read from the program itself, so a
// new one must be walked here or listed as not walked, with the reason.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { buildProgram } from "../../cli/mod.js";
import { snakeKeys } from "../../cli/output.js";
import { root, troupe } from "./cli.js";

const dir = mkdtempSync(join(tmpdir(), "troupe-json-"));
const p = (name: string) => join(dir, name);
const SMALL = ["--embd", "16", "--heads", "2", "--layers", "1", "--block", "32"];

/** Commands whose --json is not run here, and why (each goes through the same printJson). */
const NOT_WALKED: Record<string, string> = {
  "bench protocol": "a benchmark (minutes)", "bench kernels": "a benchmark", "bench train": "a benchmark", "bench agp": "a benchmark",
  "bench pool": "a benchmark", "chaos kill-actor": "a drill (minutes)", "chaos fuzz": "a drill", "chaos resume": "a drill",
  "chaos nats-blip": "a drill", "chaos director-duel": "a drill", "chaos kill-director": "a drill", "chaos kill-trainer": "a drill",
  "chaos pool-failover": "a drill", "pool conformance": "needs a pool worker", "demo": "starts four actor processes",
  "artifacts pull": "needs a run on a NATS server (tests/cli/20.run.test.ts checks its document)",
  "bench generate": "a benchmark", "bench qlora": "a benchmark", "bench bpe": "a benchmark", "bench allreduce": "a benchmark", "bench thunder": "a benchmark", "bench link": "a benchmark",
  "chaos host-loss": "a drill", "chaos nats-restart": "a drill", "chaos hosts-run": "a run on network namespaces (tests/cli/58.hosts-run.test.ts reads its document)", hosts: "needs host agents (merged at the end; not walked in this pass)",
  "bench quant": "a benchmark", "bench distill": "a benchmark", "chaos kill-oracle": "a drill", "chaos dp-equivalence": "a drill",
  compress: "trains a student (minutes); not walked in this pass", export: "not walked in this pass (merged at the end)", quantize: "not walked in this pass (merged at the end)",
  prune: "not walked in this pass (merged at the end)", distill: "trains a student; not walked in this pass", "model fuse": "needs an adapter (tests/models/80.hf-cli.test.ts runs it)",
};

const WALKED: Record<string, () => string[]> = {
  run: () => ["run", "scenarios/tiny.yaml", "--export-chart", p("chart.json")],
  status: () => ["status", "--runs", p("runs")],
  "scenario check": () => ["scenario", "check", "scenarios/quickstart.yaml"],
  "data pack": () => ["data", "pack", "--out", p("pack.jsonl"), "--train", "4", "--held-out", "2"],
  "data inspect": () => ["data", "inspect", p("pack.jsonl")],
  verify: () => ["verify", "tests/kernels/fixtures/gpt_odd.safetensors"],
  "tokenizer train": () => ["tokenizer", "train", "--data", p("text.txt"), "--vocab", "280", "--out", p("tok")],
  "tokenizer encode": () => ["tokenizer", "encode", "--tokenizer", p("tok"), "--text", "the quick fox"],
  train: () => ["train", "--data", p("text.txt"), "--steps", "3", ...SMALL, "--out", p("runs"), "--run", "m"],
  generate: () => ["generate", "--run", "m", "--runs", p("runs"), "--prompt", "the", "--tokens", "4"],
  eval: () => ["eval", "--run", "m", "--runs", p("runs"), "--data", p("text.txt")],
  "model init": () => ["model", "init", "--arch", "llama", "--config", '{"vocab_size":256,"hidden_size":16,"intermediate_size":32,"num_attention_heads":2,"num_key_value_heads":1,"num_hidden_layers":1,"max_position_embeddings":16}', "--out", p("llama")],
  "model info": () => ["model", "info", p("llama")],
};

function jsonCommands(): string[] {
  const out: string[] = [];
  const walk = (c: Command, path: string[]) => {
    for (const s of c.commands) {
      const here = [...path, s.name()];
      if (s.options.some((o) => o.long === "--json")) out.push(here.join(" "));
      walk(s, here);
    }
  };
  walk(buildProgram(), []);
  return out;
}

function badKeys(v: unknown, at = "$"): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => badKeys(x, `${at}[${i}]`));
  if (v && typeof v === "object") {
    return Object.entries(v).flatMap(([k, x]) => [...(/[a-z][A-Z]/.test(k) ? [`${at}.${k}`] : []), ...badKeys(x, `${at}.${k}`)]);
  }
  return [];
}

before(() => {
  writeFileSync(p("text.txt"), readFileSync(join(root, "README.md"), "utf8"));
  // a finished run's report on disk, for status
  mkdirSync(p("runs/r1"), { recursive: true });
  writeFileSync(p("runs/r1/report.json"), JSON.stringify({ run_id: "r1", outcome: "done", wall_s: 1, resumes: 0, stages: [] }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("json - every command with --json is walked here or listed with a reason", () => {
  const all = jsonCommands();
  assert.deepEqual(all.filter((c) => !(c in WALKED) && !(c in NOT_WALKED)), [], "commands neither walked nor listed");
  assert.deepEqual(Object.keys(WALKED).filter((c) => !all.includes(c)), [], "walked commands that have no --json");
});

test("json - snake_case keys and a troupe.<command>/1 schema on every walked command's document", async () => {
  for (const [name, args] of Object.entries(WALKED)) {
    const r = await troupe([...args(), "--json"]);
    assert.equal(r.code, 0, `${name}: ${r.stderr.slice(-1500)}`);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1, `${name}: one document`);
    const doc = JSON.parse(lines[0]!);
    assert.equal(doc.schema, `troupe.${name.replace(/ /g, ".")}/1`, name);
    assert.deepEqual(badKeys(doc), [], `${name}: camelCase keys`);
  }
});

test("json - the casing check fails on camelCase, and the conversion keeps data keys", () => {
  assert.deepEqual(badKeys({ ok: 1, nested: [{ blockSize: 2 }] }), ["$.nested[0].blockSize"]);
  assert.deepEqual(snakeKeys({ blockSize: 1, "h.0.attn": 2, "invalid JSON": 3, MALFORMED: 5, tokensPerS: [{ nEmbd: 4 }] }), { block_size: 1, "h.0.attn": 2, "invalid JSON": 3, MALFORMED: 5, tokens_per_s: [{ n_embd: 4 }] });
});
