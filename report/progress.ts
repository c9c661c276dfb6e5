// The live progress view of a run. Feed it report events (from the director observer, or
// `progress` events straight from a trainer) and it writes to a stream:
// - on a terminal, a small block redrawn in place (stage, phase, attempt, a bar with
//   step/total, tokens/s, ETA, elapsed, latest losses), with each finished stage's verdict
//   and each failed attempt printed once above it;
// - elsewhere (CI logs, files), logfmt lines: every transition, and progress at most once per
//   `logEveryMs` per stage (plus an attempt's first and last step), so logs stay short.
// The clock and the stream are injected. handle() never throws, whatever it is given.
import type { ReportEvent } from "../actors/director/mod.js";
import {
  attemptLine,
  COLOR,
  liveLines,
  logfmt,
  PLAIN,
  retryText,
  runLine,
  stageLine,
  type LiveState,
  type Paint,
} from "./terminal.js";

export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  hasColors?(): boolean;
}

export interface ProgressOptions {
  readonly stream: ProgressStream;
  /** Milliseconds; default Date.now. */
  readonly clock?: { now(): number };
  /** Redraw in place; default: the stream is a TTY. */
  readonly tty?: boolean;
  /** ANSI colours; default: a TTY whose hasColors() does not say no (it honours NO_COLOR). */
  readonly color?: boolean;
  /** Not a TTY: at most one progress line per stage per this many ms. Default 10 000. */
  readonly logEveryMs?: number;
  /** A TTY: at most one redraw on progress per this many ms. Default 100. */
  readonly redrawEveryMs?: number;
  /** Line width; default the stream's columns, else 100. */
  readonly width?: number;
}

export interface ProgressView {
  /** Shows one event. Never throws. */
  handle(event: ReportEvent): void;
  /** Time passed without events: redraws elapsed/ETA (TTY) or prints a held-back progress line that is due. */
  tick(): void;
  /** Stops drawing; what is on screen stays (the cursor is already below it). Later events are ignored. */
  close(): void;
}

interface Sample {
  readonly t: number;
  readonly step: number;
  readonly tokens: number | null;
}

/** Progress samples older than this (ms) do not count towards the rate. */
const RATE_WINDOW_MS = 30_000;

export function createProgressView(options: ProgressOptions): ProgressView {
  const out = options.stream;
  const now = () => {
    try {
      const t = (options.clock ?? Date).now();
      return Number.isFinite(t) ? t : 0;
    } catch {
      return 0;
    }
  };
  const tty = options.tty ?? out.isTTY === true;
  let color = options.color;
  if (color === undefined) {
    try {
      color = tty && (typeof out.hasColors === "function" ? out.hasColors() : true);
    } catch {
      color = false;
    }
  }
  const paint: Paint = color ? COLOR : PLAIN;
  const width = () => Math.max(40, Math.floor(options.width ?? (Number.isFinite(out.columns) ? out.columns! : 100)));
  const logEvery = Math.max(0, options.logEveryMs ?? 10_000);
  const redrawEvery = Math.max(0, options.redrawEveryMs ?? 100);

  let closed = false;
  let t0: number | null = null;
  let runId = "";
  const names = new Map<number, string>();
  const maxAttempts = new Map<number, number>();
  let live: { stage: number; attempt: number | null; phase: LiveState["phase"]; step: number | null; steps: number | null; losses: LiveState["losses"]; samples: Sample[] } | null = null;
  let liveCount = 0;
  let lastDraw = -Infinity;
  const lastLog = new Map<number, number>();
  let held: string | null = null;

  const write = (s: string) => {
    try {
      out.write(s);
    } catch {
      // A closed or broken stream must not take the run down.
    }
  };
  const elapsed = () => (t0 === null ? 0 : (now() - t0) / 1000);

  function rates(): Pick<LiveState, "stepsPerS" | "tokensPerS" | "etaS"> {
    const s = live?.samples ?? [];
    const a = s[0];
    const b = s[s.length - 1];
    if (!a || !b || b.t <= a.t || b.step < a.step) return { stepsPerS: null, tokensPerS: null, etaS: null };
    const dt = (b.t - a.t) / 1000;
    const stepsPerS = (b.step - a.step) / dt;
    const tokensPerS = a.tokens !== null && b.tokens !== null && b.tokens >= a.tokens ? (b.tokens - a.tokens) / dt : null;
    const left = live?.steps !== null && live?.steps !== undefined ? live.steps - b.step : null;
    const etaS = left !== null && stepsPerS > 0 ? Math.max(0, left / stepsPerS) : null;
    return { stepsPerS, tokensPerS, etaS };
  }

  function liveState(): LiveState | null {
    if (!live) return null;
    return {
      stage: live.stage,
      name: names.get(live.stage) ?? "",
      attempt: live.attempt,
      maxAttempts: maxAttempts.get(live.stage) ?? null,
      phase: live.phase,
      step: live.step,
      steps: live.steps,
      losses: live.losses,
      ...rates(),
    };
  }

  /** TTY: clears the live block, prints `above` for good, draws the live block again. */
  function draw(above: string[] = []): void {
    const clear = liveCount > 0 ? `\r\x1b[${liveCount}A\x1b[J` : "";
    const block = closed ? [] : liveLines(liveState(), elapsed(), width(), paint);
    liveCount = block.length;
    lastDraw = now();
    write(clear + [...above, ...block].map((l) => `${l}\n`).join(""));
  }

  /** Not a TTY: one logfmt line. */
  function log(pairs: (readonly [string, unknown])[]): void {
    write(`${logfmt([["t", `${elapsed().toFixed(1)}s`], ...pairs])}\n`);
  }

  const attemptOf = (stage: number, attempt: number | null): string | null =>
    attempt === null ? null : maxAttempts.has(stage) ? `${attempt}/${maxAttempts.get(stage)}` : String(attempt);

  function progressPairs(): (readonly [string, unknown])[] {
    if (!live) return [];
    const r = rates();
    const losses = live.losses ? Object.entries(live.losses).map(([k, v]) => [k, v ?? "NaN"] as const) : [];
    return [
      ["ev", "progress"],
      ["stage", live.stage],
      ["attempt", attemptOf(live.stage, live.attempt)],
      ["step", `${live.step}/${live.steps}`],
      ...losses,
      ["tok_s", r.tokensPerS === null ? null : Math.round(r.tokensPerS)],
      ["steps_s", r.tokensPerS === null && r.stepsPerS !== null ? r.stepsPerS : null],
      ["eta", r.etaS === null ? null : `${Math.round(r.etaS)}s`],
    ];
  }

  function onEvent(e: ReportEvent): void {
    const t = now();
    t0 ??= t;
    switch (e.type) {
      case "run.started":
        runId = String(e.run_id);
        if (tty) draw([paint.bold(`troupe run ${runId}${e.resumed ? " (resumed)" : ""}`)]);
        else log([["ev", "run.started"], ["run", runId], ["stages", (e.stages ?? []).join(",")], ["resumed", e.resumed ? "yes" : null]]);
        return;
      case "stage.started":
        names.set(e.stage, String(e.name ?? ""));
        live = { stage: e.stage, attempt: null, phase: null, step: null, steps: null, losses: null, samples: [] };
        if (tty) draw();
        else log([["ev", "stage.started"], ["stage", e.stage], ["name", e.name], ["trains", (e.trains ?? []).join(",")], ["gate", e.gate_metric]]);
        return;
      case "attempt.started":
        maxAttempts.set(e.stage, e.max_attempts);
        live = { stage: e.stage, attempt: e.attempt, phase: null, step: 0, steps: e.steps, losses: null, samples: [] };
        if (tty) draw();
        else log([["ev", "attempt.started"], ["stage", e.stage], ["attempt", attemptOf(e.stage, e.attempt)], ["steps", e.steps], ["lr", e.lr], ["retry", retryText(e)]]);
        return;
      case "phase":
        if (!live || live.stage !== e.stage) live = { stage: e.stage, attempt: e.attempt, phase: null, step: null, steps: null, losses: null, samples: [] };
        live.phase = e.phase;
        live.attempt = e.attempt;
        if (tty) draw();
        else log([["ev", "phase"], ["stage", e.stage], ["attempt", attemptOf(e.stage, e.attempt)], ["phase", e.phase]]);
        return;
      case "progress": {
        if (!live || live.stage !== e.stage || live.attempt !== e.attempt) {
          live = { stage: e.stage, attempt: e.attempt, phase: "training", step: null, steps: null, losses: null, samples: [] };
        }
        const first = live.samples.length === 0;
        live.phase ??= "training";
        live.step = e.step;
        live.steps = e.steps;
        live.losses = e.losses && typeof e.losses === "object" ? { ...e.losses } : null;
        const tokens = typeof e.tokens === "number" && Number.isFinite(e.tokens) ? e.tokens : null;
        live.samples.push({ t, step: e.step, tokens });
        while (live.samples.length > 2 && t - live.samples[0]!.t > RATE_WINDOW_MS) live.samples.shift();
        if (live.samples.length > 256) live.samples.splice(1, live.samples.length - 256);
        const last = e.step >= e.steps;
        if (tty) {
          if (first || last || t - lastDraw >= redrawEvery) draw();
          return;
        }
        const due = first || last || t - (lastLog.get(e.stage) ?? -Infinity) >= logEvery;
        if (due) {
          lastLog.set(e.stage, t);
          held = null;
          log(progressPairs());
        } else {
          held = logfmt([["t", `${elapsed().toFixed(1)}s`], ...progressPairs()]);
        }
        return;
      }
      case "attempt.ended": {
        const failed = e.outcome !== "passed";
        if (tty) {
          draw(failed ? [attemptLine(e.stage, e.attempt, maxAttempts.get(e.stage) ?? null, e.outcome, e.verdict, width(), paint)] : []);
        } else {
          flushHeld();
          log([["ev", "attempt.ended"], ["stage", e.stage], ["attempt", attemptOf(e.stage, e.attempt)], ["outcome", e.outcome], ["metric", e.metric], ["threshold", e.threshold], ["verdict", e.verdict]]);
        }
        return;
      }
      case "stage.ended":
        names.set(e.stage, String(e.name ?? names.get(e.stage) ?? ""));
        if (live?.stage === e.stage) live = null;
        if (tty) draw([stageLine(e, width(), paint)]);
        else {
          flushHeld();
          log([["ev", "stage.ended"], ["stage", e.stage], ["name", e.name], ["status", e.status], ["attempts", e.attempts], ["wall", e.wall_s === null ? null : `${e.wall_s}s`], ["verdict", e.verdict]]);
        }
        return;
      case "run.ended":
        live = null;
        if (tty) {
          closed = true;
          draw([runLine(e, width(), paint)]);
        } else {
          flushHeld();
          log([["ev", "run.ended"], ["run", runId || null], ["outcome", e.outcome], ["wall", `${e.wall_s}s`], ["reason", e.stopped?.reason ?? null]]);
          closed = true;
        }
        return;
      default:
        return;
    }
  }

  function flushHeld(): void {
    if (held !== null) write(`${held}\n`);
    held = null;
  }

  return {
    handle(event) {
      if (closed || !event || typeof event !== "object") return;
      try {
        onEvent(event);
      } catch {
        // Odd input (a missing field, a getter that throws) is dropped, never rethrown.
      }
    },
    tick() {
      if (closed) return;
      try {
        if (tty) {
          if (t0 !== null) draw();
        } else if (held !== null && live && now() - (lastLog.get(live.stage) ?? -Infinity) >= logEvery) {
          lastLog.set(live.stage, now());
          flushHeld();
        }
      } catch {
        // see handle()
      }
    },
    close() {
      closed = true;
    },
  };
}
