// guards #10: every bad input a user met exits 2 (1 for a correct request that failed) with a
// message naming the flag or file as typed, with no `Error:`, errno code or class name in it;
// with --json the same failure is a {"error":{"code","message"}} document on stdout.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { troupe } from "./cli.js";

const dir = mkdtempSync(join(tmpdir(), "troupe-bad-input-"));
const p = (name: string) => join(dir, name);
let deadNats = "";

interface Case {
  readonly name: string;
  readonly args: () => string[];
  readonly exit: 1 | 2;
  /** what the message must contain: the flag or file as typed, and the hint */
  readonly says: () => (string | RegExp)[];
}

const TINY = ["--steps", "2", "--embd", "16", "--layers", "1", "--heads", "2", "--pack-train", "20", "--out", p("runs")];

before(async () => {
  mkdirSync(p("a-directory"));
  writeFileSync(p("empty.txt"), "");
  writeFileSync(p("binary.txt"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x3e, 0, 1, 0, 0, 0]));
  writeFileSync(p("binary.yaml"), Buffer.concat([Buffer.from("run:\n  name: x\n"), Buffer.alloc(64, 0), Buffer.from(": :\n".repeat(500))]));
  writeFileSync(p("short.txt"), "hello world, far shorter than a block\n");
  writeFileSync(p("text.txt"), "the quick brown fox jumps over the lazy dog. ".repeat(200));
  // a base model and an adapter on it, tiny
  const base = await troupe(["train", "--data", "pack:copying", "--block", "32", "--run", "base", ...TINY]);
  assert.equal(base.code, 0, base.stderr);
  const ad = await troupe(["train", "--data", "pack:copying", "--lora", "2", "--base", p("runs/base"), "--run", "adapter", ...TINY.filter((_, i) => i < 2 || i >= 8)]);
  assert.equal(ad.code, 0, ad.stderr);
  // a checkpoint whose weights no longer match its manifest: the request is right, the stored data failed
  const stage = p("runs/base/checkpoints/train");
  const step = join(stage, readdirSync(stage).filter((n) => n.startsWith("step-")).sort().at(-1)!);
  mkdirSync(p("corrupt"));
  for (const f of readdirSync(step)) writeFileSync(join(p("corrupt"), f), f === "model.safetensors" ? Buffer.alloc(64, 1) : await import("node:fs").then((fs) => fs.readFileSync(join(step, f))));
  // a loopback port nothing listens on: bound by us, then closed
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  deadNats = `nats://127.0.0.1:${port}`;
});

after(() => rmSync(dir, { recursive: true, force: true }));

const cases: Case[] = [
  { name: "a directory where a file is expected", args: () => ["train", "--data", p("a-directory")], exit: 2, says: () => [`--data ${p("a-directory")}`, "is a directory"] },
  { name: "an empty file", args: () => ["train", "--data", p("empty.txt")], exit: 2, says: () => [`--data ${p("empty.txt")}`, "is empty"] },
  { name: "a binary file as a text corpus", args: () => ["train", "--data", p("binary.txt")], exit: 2, says: () => [`--data ${p("binary.txt")}`, "looks binary"] },
  { name: "a corpus shorter than block + 1", args: () => ["train", "--data", p("short.txt")], exit: 2, says: () => [`--data ${p("short.txt")}`, "--block"] },
  { name: "scenario check on a binary file", args: () => ["scenario", "check", p("binary.yaml")], exit: 2, says: () => [p("binary.yaml"), "looks binary"] },
  { name: "--heads that do not divide --embd", args: () => ["train", "--data", p("text.txt"), "--embd", "16", "--heads", "3", "--out", p("runs")], exit: 2, says: () => ["--embd 16", "--heads 3"] },
  { name: "pack: with an unknown domain", args: () => ["train", "--data", "pack:nosuch", "--out", p("runs")], exit: 2, says: () => ["--data pack:nosuch", /unknown domain "nosuch" \(known: .*copying/] },
  { name: "an adapter where a checkpoint is expected (generate)", args: () => ["generate", "--checkpoint", p("runs/adapter/adapter.safetensors"), "--prompt", "a"], exit: 2, says: () => [`--checkpoint ${p("runs/adapter/adapter.safetensors")}`, "is an adapter", "--adapter"] },
  { name: "an adapter where a checkpoint is expected (train --base)", args: () => ["train", "--data", "pack:copying", "--lora", "2", "--base", p("runs/adapter/adapter.safetensors"), "--out", p("runs"), "--run", "x"], exit: 2, says: () => [`--base ${p("runs/adapter/adapter.safetensors")}`, "is an adapter"] },
  { name: "a checkpoint where an adapter is expected", args: () => ["generate", "--checkpoint", p("runs/base"), "--adapter", p("runs/base"), "--prompt", "a"], exit: 2, says: () => [`--adapter ${p("runs/base")}`, "is a model checkpoint", "--checkpoint"] },
  { name: "--nats pointing at nothing (status)", args: () => ["status", "--nats", deadNats], exit: 2, says: () => [`--nats ${deadNats}`, "read the latest report"] },
  { name: "--nats pointing at nothing (run)", args: () => ["run", "scenarios/quickstart.yaml", "--nats", deadNats], exit: 2, says: () => [`--nats ${deadNats}`, "start an embedded server"] },
  { name: "--nats pointing at nothing (train)", args: () => ["train", "--data", p("text.txt"), "--nats", deadNats, "--out", p("runs"), "--run", "n"], exit: 2, says: () => [`--nats ${deadNats}`, "checkpoints on disk only"] },
  { name: "a run id that is not there", args: () => ["generate", "--run", "no-such-run", "--runs", p("runs"), "--prompt", "a"], exit: 2, says: () => ["--run no-such-run", "troupe artifacts pull"] },
  { name: "a corrupt checkpoint (a correct request that failed)", args: () => ["generate", "--checkpoint", p("corrupt"), "--prompt", "a"], exit: 1, says: () => [p("corrupt")] },
];

function clean(message: string): void {
  assert.doesNotMatch(message, /Error:/, "no `Error:`");
  assert.doesNotMatch(message, /\bE[A-Z]{3,}\b/, "no errno code");
  assert.doesNotMatch(message, /\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception)\b/, "no class name");
}

for (const c of cases) {
  test(`cli bad input - ${c.name}: exit ${c.exit}, in the CLI's words`, async () => {
    const r = await troupe(c.args());
    assert.equal(r.code, c.exit, r.stderr);
    assert.ok(r.stderr.length < 2000, `one clear message, not ${r.stderr.length} bytes`);
    for (const s of c.says()) typeof s === "string" ? assert.ok(r.stderr.includes(s), `says ${s}: ${r.stderr}`) : assert.match(r.stderr, s);
    clean(r.stderr);
    const j = await troupe([...c.args(), "--json"]);
    assert.equal(j.code, c.exit, j.stderr);
    const doc = JSON.parse(j.stdout.trim().split("\n").at(-1)!) as { error: { code: string; message: string } };
    assert.match(doc.error.code, /^[a-z][a-z0-9_]*$/);
    for (const s of c.says()) typeof s === "string" ? assert.ok(doc.error.message.includes(s), `says ${s}: ${doc.error.message}`) : assert.match(doc.error.message, s);
    clean(doc.error.message);
  });
}
