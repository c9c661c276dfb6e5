// Pure line formatting for the progress view (progress.ts holds the state and the timing):
// the permanent lines (a stage's verdict, a failed attempt, the run's end), the live block
// redrawn in place on a terminal, and logfmt lines for logs. ANSI colour is applied last, on
// text already cut to the terminal width, so escape codes never count against it.
import type { AttemptStartedEvent, Phase, ReportedLosses, RunEndedEvent, StageEndedEvent, StageStatus } from "../actors/director/mod.js";
import { compareTerms } from "../actors/director/mod.js";
import { changesText } from "./curves.js";
import { clip, clock, compact, duration, num } from "./format.js";

export interface Paint {
  readonly ok: (s: string) => string;
  readonly bad: (s: string) => string;
  readonly warn: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly accent: (s: string) => string;
}

const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const COLOR: Paint = { ok: sgr("32"), bad: sgr("31"), warn: sgr("33"), dim: sgr("2"), bold: sgr("1"), accent: sgr("36") };
const same = (s: string) => s;
export const PLAIN: Paint = { ok: same, bad: same, warn: same, dim: same, bold: same, accent: same };

/** The live state of the stage being run, as the live block shows it. */
export interface LiveState {
  readonly stage: number;
  readonly name: string;
  readonly attempt: number | null;
  readonly maxAttempts: number | null;
  readonly phase: Phase | null;
  readonly step: number | null;
  readonly steps: number | null;
  readonly losses: ReportedLosses | null;
  readonly stepsPerS: number | null;
  readonly tokensPerS: number | null;
  readonly etaS: number | null;
}

const STATUS_MARK: Readonly<Record<StageStatus, [string, keyof Paint]>> = {
  passed: ["✓", "ok"],
  passed_off_path: ["~", "warn"],
  failed: ["✗", "bad"],
  not_available: ["!", "warn"],
  omitted: ["-", "dim"],
  rolled_back: ["↶", "warn"],
  running: ["▸", "accent"],
};

/** "total 2.31  sft 2.31  route 0.9" — total first, then the terms of L. */
export function lossText(losses: ReportedLosses | null | undefined, max = 6): string {
  if (!losses || typeof losses !== "object") return "";
  const entries = Object.entries(losses).filter(([, v]) => v === null || typeof v === "number");
  entries.sort(([a], [b]) => compareTerms(a, b));
  return entries
    .slice(0, max)
    .map(([k, v]) => `${k} ${v === null || v === undefined ? "NaN" : num(v)}`)
    .join("  ");
}

export function bar(done: number, total: number, width: number): string {
  const w = Math.max(4, Math.floor(width));
  const f = total > 0 && Number.isFinite(done) ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.round(f * w);
  return `${"█".repeat(full)}${"░".repeat(w - full)}`;
}

const attemptText = (a: number | null, max: number | null): string =>
  a === null ? "" : max !== null && max > 1 ? `attempt ${a}/${max}` : a > 1 ? `attempt ${a}` : "";

/** The block redrawn in place: what runs now, its progress bar, its latest losses. */
export function liveLines(s: LiveState | null, elapsedS: number, width: number, paint: Paint): string[] {
  const cut = (t: string) => clip(t, Math.max(20, width - 1));
  if (!s) return [paint.dim(cut(`  elapsed ${clock(elapsedS)}`))];
  const head = [`stage ${s.stage} · ${s.name}`, s.phase?.replace("_", " ") ?? "", attemptText(s.attempt, s.maxAttempts)].filter(Boolean).join(" · ");
  const lines = [`${paint.accent("▸")} ${paint.bold(clip(head, Math.max(18, width - 3)))}`];
  const facts: string[] = [];
  if (s.step !== null && s.steps !== null && s.steps > 0) {
    const pct = Math.floor((100 * Math.min(s.step, s.steps)) / s.steps);
    facts.push(`${compact(s.step)}/${compact(s.steps)} ${String(pct).padStart(3)}%`);
  }
  if (s.tokensPerS !== null) facts.push(`${compact(s.tokensPerS)} tok/s`);
  else if (s.stepsPerS !== null) facts.push(`${num(s.stepsPerS, 3)} steps/s`);
  if (s.etaS !== null && s.phase === "training") facts.push(`ETA ${clock(s.etaS)}`);
  facts.push(`elapsed ${clock(elapsedS)}`);
  const tail = facts.join(" · ");
  if (s.step !== null && s.steps !== null && s.steps > 0) {
    const room = Math.min(30, width - tail.length - 6);
    lines.push(room >= 8 ? `  [${bar(s.step, s.steps, room)}] ${cut(tail).slice(0, width - room - 6)}` : `  ${cut(tail)}`);
  } else {
    lines.push(`  ${cut(tail)}`);
  }
  const losses = lossText(s.losses);
  if (losses) lines.push(paint.dim(`  ${cut(losses)}`));
  return lines;
}

/** "✓ stage 1 domain adapter  pass  heldout_gain 0.031 >= min 0.02 · 2 attempts · 2m 05s". */
export function stageLine(e: StageEndedEvent, width: number, paint: Paint): string {
  const [mark, color] = STATUS_MARK[e.status] ?? ["?", "dim"];
  const status = e.status === "passed" ? "pass" : e.status === "failed" ? "fail" : e.status.replace("_", " ");
  const parts = [e.verdict ?? "", e.attempts > 1 ? `${e.attempts} attempts` : "", e.wall_s === null ? "" : duration(e.wall_s)].filter(Boolean);
  const text = clip(`${`stage ${e.stage} ${e.name}`.padEnd(32)} ${status.padEnd(13)} ${parts.join(" · ")}`, Math.max(20, width - 3));
  return `${paint[color](mark)} ${text}`;
}

/** A failed attempt, kept above the live block: "  ✗ attempt 1/3 gate failed: …". */
export function attemptLine(stage: number, attempt: number, max: number | null, outcome: string, verdict: string | null, width: number, paint: Paint): string {
  const what = `stage ${stage} ${attemptText(attempt, max) || `attempt ${attempt}`} ${outcome.replace("_", " ")}${verdict ? `: ${verdict}` : ""}`;
  return `  ${paint.bad("✗")} ${clip(what, Math.max(20, width - 5))}`;
}

export function runLine(e: RunEndedEvent, width: number, paint: Paint): string {
  const head = `run ${e.outcome.replace("_", " ")} after ${duration(e.wall_s)}`;
  const text = clip(e.stopped ? `${head}: ${e.stopped.reason}` : head, Math.max(20, width - 1));
  return e.outcome === "done" ? paint.ok(text) : e.outcome === "stopped" ? paint.bad(text) : paint.warn(text);
}

export function retryText(e: AttemptStartedEvent): string {
  return changesText({ changes: e.changes });
}

/** One logfmt value: bare when safe, else quoted with \" and \n escaped. */
export function logValue(v: unknown): string {
  const s = typeof v === "number" ? num(v) : v === null || v === undefined ? "" : String(v);
  return /^[^\s"=\\]+$/.test(s) ? s : `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
}

/** `key=value key2="two words"` from pairs; null/undefined/"" values are left out. */
export function logfmt(pairs: readonly (readonly [string, unknown])[]): string {
  return pairs
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${logValue(v)}`)
    .join(" ");
}
