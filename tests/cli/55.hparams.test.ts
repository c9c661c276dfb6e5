// guards #10: the hyper-parameters that shape training are flags, stored with every checkpoint;
// a resume keeps the stored value of a flag not given and refuses a changed one unless
// --allow-change; defaults are absolute with caps, not fractions of --steps alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCheckpointEvery, defaultEvalEvery, defaultWarmup } from "../../cli/commands/train-hparams.js";
import { root, troupe } from "./cli.js";

test("hparams - defaults are capped: warm-up 100, evaluation every 250, a checkpoint every 500 steps at most", () => {
  assert.deepEqual([defaultWarmup(200), defaultWarmup(2000), defaultWarmup(100_000)], [20, 100, 100]);
  assert.deepEqual([defaultEvalEvery(5), defaultEvalEvery(2000), defaultEvalEvery(100_000)], [1, 200, 250]);
  assert.deepEqual([defaultCheckpointEvery(5), defaultCheckpointEvery(2000), defaultCheckpointEvery(100_000)], [1, 200, 500]);
});

test("hparams - stored with every checkpoint; a resume keeps them, refuses a changed flag, and --allow-change lets it through", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-hparams-"));
  try {
    writeFileSync(join(dir, "t.txt"), readFileSync(join(root, "README.md"), "utf8"));
    const out = join(dir, "runs");
    const base = ["train", "--data", join(dir, "t.txt"), "--embd", "16", "--heads", "2", "--layers", "1", "--block", "32", "--out", out, "--run", "h", "--checkpoint-every", "10"];
    const first = await troupe([...base, "--steps", "20", "--lr", "0.003", "--weight-decay", "0.05", "--betas", "0.9,0.95", "--grad-clip", "0.5", "--warmup", "4", "--json"]);
    assert.equal(first.code, 0, first.stderr);
    const stage = join(out, "h", "checkpoints", "train");
    const manifests = () => readdirSync(stage).filter((n) => n.startsWith("step-")).sort().map((n) => JSON.parse(readFileSync(join(stage, n, "manifest.json"), "utf8")));
    const want = { lr: 0.003, min_lr: 0.003 / 10, warmup_steps: 4, schedule: "cosine", weight_decay: 0.05, betas: [0.9, 0.95], grad_clip: 0.5, accumulate: 1 };
    for (const m of manifests()) assert.deepEqual(m.config.hparams, want, `step ${m.step}`);

    // a changed flag is refused, naming it and both values
    const changed = await troupe([...base, "--steps", "40", "--resume", "--lr", "0.001"]);
    assert.equal(changed.code, 2, changed.stderr);
    assert.match(changed.stderr, /--resume: this run was trained with other settings \(--lr 0\.003 → 0\.001;.*--allow-change/);
    const batch = await troupe([...base, "--steps", "40", "--resume", "--batch", "8"]);
    assert.equal(batch.code, 2);
    assert.match(batch.stderr, /--batch 16 → 8/);

    // no flags given: the stored values (even the warm-up, although --steps grew)
    const kept = await troupe([...base, "--steps", "40", "--resume", "--json"]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(JSON.parse(kept.stdout).resumed_from, 20);
    assert.deepEqual(manifests().at(-1).config.hparams, want);

    const allowed = await troupe([...base, "--steps", "60", "--resume", "--lr", "0.001", "--allow-change", "--json"]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(manifests().at(-1).config.hparams.lr, 0.001, "the new value is stored from then on");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
