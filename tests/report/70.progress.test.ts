// The live progress view with a fake stream and a simulated clock: a TTY redraws a small block
// in place (checked on an emulated screen), anything else gets throttled logfmt lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReportEvent } from "../../actors/director/mod.js";
import { createProgressView } from "../../report/mod.js";
import { sampleRun } from "./sample.js";

function fakeStream(isTTY: boolean, columns = 80) {
  const chunks: string[] = [];
  return { chunks, isTTY, columns, write: (s: string) => void chunks.push(s), text: () => chunks.join("") };
}
const fakeClock = () => ({ t: 0, now() { return this.t; } });

/** Plays the output on an emulated terminal (\n, \r, ESC[nA, ESC[J) and returns the screen. */
function screen(out: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  const re = /\x1b\[(\d*)([AJ])|\r|\n|[^\x1b\r\n]+/g;
  for (const m of out.matchAll(re)) {
    if (m[2] === "A") row = Math.max(0, row - Number(m[1] || 1));
    else if (m[2] === "J") lines.splice(row, lines.length - row, "");
    else if (m[0] === "\n") {
      row++;
      if (lines.length <= row) lines.push("");
    } else if (m[0] === "\r") continue;
    else lines[row] = (lines[row] ?? "") + m[0];
  }
  return lines.filter((l, i) => i < lines.length - 1 || l !== "");
}

const start: ReportEvent[] = [
  { type: "run.started", run_id: "r1", stages: [0, 1], resumed: false },
  { type: "stage.started", stage: 1, name: "domain adapter", trains: ["lora"], gate_metric: "heldout_gain" },
  { type: "attempt.started", stage: 1, attempt: 1, max_attempts: 3, steps: 100, lr: 3e-4, changes: {} },
  { type: "phase", stage: 1, attempt: 1, phase: "training" },
];
const progress = (step: number, extra: Partial<ReportEvent> = {}): ReportEvent =>
  ({ type: "progress", stage: 1, attempt: 1, step, steps: 100, losses: { total: 3 - step / 100, sft: 2.9 - step / 100 }, tokens: step * 1024, ...extra }) as ReportEvent;

test("report - progress on a TTY redraws one block in place with bar, rate, ETA and losses", () => {
  const out = fakeStream(true, 80);
  const clock = fakeClock();
  const view = createProgressView({ stream: out, clock, color: false });
  for (const e of start) view.handle(e);
  for (let step = 1; step <= 50; step++) {
    clock.t += 500;
    view.handle(progress(step));
  }
  const mid = screen(out.text());
  assert.deepEqual(mid.slice(0, 1), ["troupe run r1"]);
  assert.equal(mid[1], "▸ stage 1 · domain adapter · training · attempt 1/3");
  const m = /^ {2}\[(█+)(░+)\] 50\/100 {2}50% · 2\.05k tok\/s · ETA 0:25 · elapsed 0:25$/.exec(mid[2]!);
  assert.ok(m, mid[2]);
  assert.ok(Math.abs(m[1]!.length - m[2]!.length) <= 1, "the bar is half full");
  assert.equal(mid[3], "  total 2.5  sft 2.4");
  assert.equal(mid.length, 4, "one live block, not one per redraw");
  assert.match(out.text(), /\r\x1b\[3A\x1b\[J/, "moves up over the old block and clears it");
  view.handle({ type: "attempt.ended", stage: 1, attempt: 1, outcome: "gate_failed", metric: 0.01, threshold: 0.02, verdict: "heldout_gain 0.01 < min 0.02" });
  view.handle({ type: "stage.ended", stage: 1, name: "domain adapter", status: "failed", attempts: 1, verdict: "heldout_gain 0.01 < min 0.02", wall_s: 25 });
  view.handle({ type: "run.ended", outcome: "stopped", wall_s: 26, stopped: { stage: 1, kind: "gate_exhausted", reason: "stage 1 did not pass" } });
  assert.deepEqual(screen(out.text()), [
    "troupe run r1",
    "  ✗ stage 1 attempt 1/3 gate failed: heldout_gain 0.01 < min 0.02",
    "✗ stage 1 domain adapter           fail          heldout_gain 0.01 < min 0.02 …",
    "run stopped after 26 s: stage 1 did not pass",
  ]);
  const before = out.chunks.length;
  view.handle(progress(60));
  view.tick();
  assert.equal(out.chunks.length, before, "nothing after the run ended");
});

test("report - progress on a TTY throttles redraws and keeps lines within the width", () => {
  const out = fakeStream(true, 60);
  const clock = fakeClock();
  const view = createProgressView({ stream: out, clock, color: false, redrawEveryMs: 100 });
  for (const e of start) view.handle({ ...e, ...(e.type === "stage.started" ? { name: "a stage with a very long name that will not fit in sixty columns" } : {}) } as ReportEvent);
  const draws0 = out.chunks.length;
  for (let step = 1; step <= 100; step++) {
    clock.t += 0.5; // 100 reports in 50 ms
    view.handle(progress(step));
  }
  assert.equal(out.chunks.length - draws0, 2, "the first report and the last step, nothing between");
  for (const line of screen(out.text())) assert.ok([...line].length <= 60, `${line.length}: ${line}`);
  clock.t += 61_000;
  view.tick();
  assert.match(screen(out.text()).join("\n"), /elapsed 1:01/, "tick() redraws the clock");
});

test("report - progress without a TTY prints throttled logfmt lines and every transition", () => {
  const out = fakeStream(false);
  const clock = fakeClock();
  const view = createProgressView({ stream: out, clock, logEveryMs: 10_000 });
  for (const e of start) view.handle({ ...e, ...(e.type === "attempt.started" ? { steps: 1000 } : {}) } as ReportEvent);
  for (let step = 1; step <= 1000; step++) {
    clock.t += 100; // 1000 reports over 100 s
    view.handle({ ...progress(step), steps: 1000 } as ReportEvent);
  }
  view.handle({ type: "phase", stage: 1, attempt: 1, phase: "evaluating" });
  view.handle({ type: "attempt.ended", stage: 1, attempt: 1, outcome: "passed", metric: 0.03, threshold: 0.02, verdict: `say "hi"\nthen <stop>` });
  view.handle({ type: "stage.ended", stage: 1, name: "domain adapter", status: "passed", attempts: 1, verdict: "ok", wall_s: 100 });
  view.handle({ type: "run.ended", outcome: "done", wall_s: 101, stopped: null });
  const lines = out.text().split("\n").filter(Boolean);
  assert.ok(out.text().endsWith("\n"));
  assert.doesNotMatch(out.text(), /\x1b/, "no escape codes in logs");
  const progressLines = lines.filter((l) => l.includes("ev=progress"));
  assert.equal(progressLines.length, 11, "t=0.1s, then one per 10 s, then the last step");
  assert.deepEqual(progressLines.map((l) => /step=(\d+)/.exec(l)![1]), ["1", "101", "201", "301", "401", "501", "601", "701", "801", "901", "1000"]);
  assert.match(progressLines[5]!, /^t=50\.1s ev=progress stage=1 attempt=1\/3 step=501\/1000 total=-2\.01 sft=-2\.11 tok_s=10240 eta=50s$/);
  assert.deepEqual(lines.filter((l) => !l.includes("ev=progress")).map((l) => /ev=(\S+)/.exec(l)![1]), ["run.started", "stage.started", "attempt.started", "phase", "phase", "attempt.ended", "stage.ended", "run.ended"]);
  assert.match(lines.find((l) => l.includes("ev=attempt.ended"))!, /verdict="say \\"hi\\"\\nthen <stop>"$/, "one line, quoted");
  for (const l of lines) assert.match(l, /^t=\d+\.\ds ev=\S+/);
});

test("report - progress without a TTY prints a held-back line before a transition or on tick", () => {
  const out = fakeStream(false);
  const clock = fakeClock();
  const view = createProgressView({ stream: out, clock, logEveryMs: 10_000 });
  for (const e of start) view.handle(e);
  for (let step = 1; step <= 40; step++) {
    clock.t += 100;
    view.handle(progress(step));
  }
  const count = () => out.text().split("\n").filter((l) => l.includes("ev=progress")).length;
  assert.equal(count(), 1);
  clock.t += 5_000;
  view.tick();
  assert.equal(count(), 1, "not due yet");
  clock.t += 5_000;
  view.tick();
  assert.equal(count(), 2, "due: the held line comes out");
  assert.match(out.text(), /t=4\.0s ev=progress stage=1 attempt=1\/3 step=40\/100/, "stamped when it happened");
  view.handle(progress(41));
  view.handle({ type: "attempt.ended", stage: 1, attempt: 1, outcome: "error", metric: null, threshold: null, verdict: "trainer crashed" });
  const lines = out.text().split("\n").filter(Boolean);
  assert.match(lines[lines.length - 2]!, /step=41\/100/, "the latest progress precedes the transition");
});

test("report - progress never throws on odd input or a broken stream or clock", () => {
  const junk = [null, undefined, 1, "x", {}, { type: "progress" }, { type: "stage.ended" }, { type: "attempt.started", stage: 1 }, { type: "run.started" }, { type: "progress", stage: 1, attempt: 1, step: Number.NaN, steps: 0, losses: { total: Number.NaN, sft: null } }, { type: "progress", stage: 1, attempt: 1, step: 5, steps: 10, losses: null }, { type: "nope" }];
  for (const tty of [true, false]) {
    const out = fakeStream(tty);
    const view = createProgressView({ stream: out, clock: fakeClock() });
    for (const e of junk) assert.doesNotThrow(() => view.handle(e as never));
    assert.doesNotThrow(() => view.tick());
    const broken = createProgressView({
      stream: { isTTY: tty, write: () => { throw new Error("EPIPE"); } },
      clock: { now: () => { throw new Error("no clock"); } },
    });
    for (const e of [...start, progress(3), ...junk]) assert.doesNotThrow(() => broken.handle(e as never));
    assert.doesNotThrow(() => broken.tick());
    assert.doesNotThrow(() => broken.close());
  }
});

test("report - progress on a colour TTY marks a passed stage green; a whole sample run renders", async () => {
  const out = fakeStream(true, 100);
  const view = createProgressView({ stream: out, clock: fakeClock(), color: true });
  await sampleRun({ view });
  const text = out.text();
  assert.match(text, /\x1b\[32m✓\x1b\[0m stage 0 baseline/);
  const final = screen(text.replace(/\x1b\[\d+m/g, ""));
  assert.equal(final[0]!.startsWith("troupe run sample-"), true);
  assert.deepEqual(final.slice(1).map((l) => l.slice(0, 40).trimEnd()), [
    "✓ stage 0 baseline                 pass",
    "  ✗ stage 1 attempt 1/3 gate failed: hel",
    "✓ stage 1 domain adapter           pass",
    "! stage 2 route + vitality heads   not a",
    "run stopped after 43 s: stage 2 (route +",
  ]);
});
