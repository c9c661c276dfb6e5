// guards #10: troupe generate as users expect it — --top-p 0.9 --num-samples 3, seeded (the same
// command gives the same samples), stop strings, and the streamed text equal to the result.
import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, troupe } from "./cli.js";

const dir = mkdtempSync(join(tmpdir(), "troupe-generate-"));
const out = join(dir, "runs");

before(async () => {
  writeFileSync(join(dir, "t.txt"), readFileSync(join(root, "README.md"), "utf8"));
  const t = await troupe(["train", "--data", join(dir, "t.txt"), "--steps", "80", "--embd", "32", "--heads", "2", "--layers", "1", "--block", "32", "--out", out, "--run", "g"]);
  assert.equal(t.code, 0, t.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const gen = (...args: string[]) => troupe(["generate", "--run", "g", "--runs", out, "--prompt", "The ", "--tokens", "30", ...args]);

test("generate - --top-p 0.9 --num-samples 3: three seeded samples, the same again for the same seed", async () => {
  const a = await gen("--top-p", "0.9", "--num-samples", "3", "--seed", "7", "--json");
  assert.equal(a.code, 0, a.stderr);
  const doc = JSON.parse(a.stdout);
  assert.equal(doc.samples.length, 3);
  assert.ok(doc.samples.every((s: { tokens: number }) => s.tokens === 30));
  assert.equal(new Set(doc.samples.map((s: { text: string }) => s.text)).size, 3, "three different samples");
  const b = JSON.parse((await gen("--top-p", "0.9", "--num-samples", "3", "--seed", "7", "--json")).stdout);
  assert.deepEqual(b.samples.map((s: { text: string }) => s.text), doc.samples.map((s: { text: string }) => s.text), "seeded");
  // sample i is seeded with --seed + i
  const third = JSON.parse((await gen("--top-p", "0.9", "--seed", "9", "--json")).stdout);
  assert.equal(third.text, doc.samples[2].text);
});

test("generate - the streamed text is the result; a stop string ends it before the string", async () => {
  const json = JSON.parse((await gen("--seed", "3", "--repetition-penalty", "1.3", "--json")).stdout);
  const streamed = await gen("--seed", "3", "--repetition-penalty", "1.3");
  assert.equal(streamed.stdout, `The ${json.text}\n`);
  const stop = json.text.slice(5, 7);
  const cut = JSON.parse((await gen("--seed", "3", "--repetition-penalty", "1.3", "--stop", stop, "--json")).stdout);
  assert.equal(cut.samples[0].stopped_by, stop);
  assert.ok(!cut.text.includes(stop) && json.text.startsWith(cut.text), `${JSON.stringify(cut.text)} is ${JSON.stringify(json.text)} cut before ${JSON.stringify(stop)}`);
  const cutStreamed = await gen("--seed", "3", "--repetition-penalty", "1.3", "--stop", stop);
  assert.equal(cutStreamed.stdout, `The ${cut.text}\n`);
  const bad = await gen("--top-p", "1.5");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--top-p must be a number in \(0, 1\]/);
});
