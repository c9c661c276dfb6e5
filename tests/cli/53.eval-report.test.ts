// guards #10: troupe eval scores a trained model without training it (the same loss and bits per
// byte that training reported for its validation split; exact match on prompt/response data),
// and troupe train writes a report (report.json + report.html with the loss curves) like run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, troupe } from "./cli.js";

const SMALL = ["--embd", "32", "--heads", "2", "--layers", "1", "--block", "32"];

test("eval - text: the loss and bits per byte training reported for its validation split; an untrained model scores worse", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-eval-"));
  try {
    const data = join(dir, "readme.txt");
    writeFileSync(data, readFileSync(join(root, "README.md"), "utf8"));
    const out = join(dir, "runs");
    const t = await troupe(["train", "--data", data, "--steps", "60", ...SMALL, "--out", out, "--run", "m", "--json"]);
    assert.equal(t.code, 0, t.stderr);
    const trained = JSON.parse(t.stdout);
    const e = await troupe(["eval", "--checkpoint", join(out, "m"), "--data", data, "--json"]);
    assert.equal(e.code, 0, e.stderr);
    const ev = JSON.parse(e.stdout);
    assert.equal(ev.schema, "troupe.eval/1");
    assert.equal(ev.loss, trained.val_loss);
    assert.equal(ev.bpb, trained.val_bpb);
    const byRun = JSON.parse((await troupe(["eval", "--run", "m", "--runs", out, "--data", data, "--json"])).stdout);
    assert.equal(byRun.loss, ev.loss, "--run names the same model");
    const u = await troupe(["train", "--data", data, "--steps", "1", ...SMALL, "--out", out, "--run", "untrained", "--json"]);
    assert.equal(u.code, 0, u.stderr);
    const worse = JSON.parse((await troupe(["eval", "--checkpoint", join(out, "untrained"), "--data", data, "--json"])).stdout);
    assert.ok(worse.loss > ev.loss + 0.3, `untrained ${worse.loss} vs trained ${ev.loss}`);

    // the train report: curves of every step and of each evaluation, drawn
    const report = JSON.parse(readFileSync(join(out, "m", "report.json"), "utf8"));
    assert.equal(report.schema, "troupe.train-report/1");
    assert.equal(report.outcome, "done");
    assert.equal(report.curves.train_loss.length, 60);
    assert.ok(report.curves.val_loss.length >= 5, `${report.curves.val_loss.length} evaluations`);
    assert.equal(report.result.val_loss, trained.val_loss);
    assert.equal(trained.report, join(out, "m", "report.html"));
    const html = readFileSync(trained.report, "utf8");
    assert.match(html, /<svg[\s\S]*validation[\s\S]*<\/svg>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("eval - prompt/response data: exact match and loss of the held-out items, as training measured them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-eval-"));
  try {
    const out = join(dir, "runs");
    const t = await troupe(["train", "--data", "pack:copying", "--steps", "40", ...SMALL, "--pack-train", "40", "--out", out, "--run", "p", "--json"]);
    assert.equal(t.code, 0, t.stderr);
    const trained = JSON.parse(t.stdout);
    const e = await troupe(["eval", "--checkpoint", join(out, "p"), "--data", "pack:copying", "--json"]);
    assert.equal(e.code, 0, e.stderr);
    const ev = JSON.parse(e.stdout);
    assert.equal(ev.kind, "prompt_response");
    assert.equal(ev.exact_match, trained.exact_match);
    assert.equal(ev.n, trained.n);
    assert.equal(ev.loss, trained.val_loss);
    assert.deepEqual(Object.keys(ev.by_domain), ["copying"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
