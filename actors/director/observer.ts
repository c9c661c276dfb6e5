// Turns director snapshots into report events. Subscribe it to the director actor and pass
// every snapshot; it diffs against what it saw last and returns what happened since:
//
//   const observer = createDirectorObserver();
//   handle.actor.subscribe((s) => observer.observe(s).forEach((e) => { recorder.handle(e); view.handle(e); }));
//
// It needs only `value` (the state) and `context`, so snapshots read back from the store work
// too. The first snapshot of a resumed run replays the stages already done (run.started has
// `resumed: true`), so a fresh progress view shows them.
import type { DirectorContext } from "./context.js";
import { stagePlan } from "./plan.js";
import type { StageId } from "./stages.js";
import { stateName } from "./status.js";
import { summarizeStage } from "./summary.js";
import { PHASES, type Phase, type ReportEvent } from "./events.js";

export interface DirectorObserverOptions {
  /** Tokens one training step processes in a stage (batch × sequence length), for tokens/s. */
  readonly tokensPerStep?: (stage: StageId) => number | null;
}

export interface ObservedSnapshot {
  readonly value: unknown;
  readonly context: DirectorContext;
}

export interface DirectorObserver {
  /** Events since the previous snapshot, in the order they happened. Never throws. */
  observe(snapshot: ObservedSnapshot): ReportEvent[];
}

/** Chart state name (last part of the state path) → phase; states not listed are instants. */
const PHASE_OF: Readonly<Record<string, Phase>> = {
  checkpointing: "checkpointing",
  preparing: "preparing",
  training: "training",
  evaluating: "evaluating",
  backoff: "backoff",
  rollingBack: "rolling_back",
};

export function phaseOf(stateValue: unknown): { stage: StageId; phase: Phase } | null {
  const m = /^stage([0-6])\.(\w+)$/.exec(stateName(stateValue));
  const phase = m ? PHASE_OF[m[2]!] : undefined;
  return m && phase && PHASES.includes(phase) ? { stage: Number(m[1]) as StageId, phase } : null;
}

export function createDirectorObserver(options: DirectorObserverOptions = {}): DirectorObserver {
  let started = false;
  let ended = false;
  /** Per record index: status seen, attempts started, attempts ended. */
  const seen: { status: string | null; started: number; ended: number }[] = [];
  let lastPhase = "";
  let lastProgress = "";

  function diff(snap: ObservedSnapshot): ReportEvent[] {
    const ctx = snap.context;
    const out: ReportEvent[] = [];
    if (!started) {
      started = true;
      out.push({ type: "run.started", run_id: ctx.runId, stages: ctx.plan.stages.map((s) => s.stage), resumed: ctx.resumes.length > 0 });
    }
    const now = ctx.endedAt ?? ctx.clockAt;
    ctx.records.forEach((r, i) => {
      let mine = seen[i];
      if (!mine) {
        mine = seen[i] = { status: null, started: 0, ended: 0 };
        const gate = stagePlan(ctx.plan, r.stage)?.gate.metric ?? null;
        // A stage the scenario leaves out never starts; its stage.ended says it was omitted.
        if (r.status !== "omitted") out.push({ type: "stage.started", stage: r.stage, name: r.name, trains: [...r.trains], gate_metric: gate });
      }
      r.attempts.forEach((a, j) => {
        if (j >= mine.started) {
          mine.started = j + 1;
          const s = a.settings;
          out.push({ type: "attempt.started", stage: r.stage, attempt: s.attempt, max_attempts: s.maxAttempts, steps: s.steps, lr: s.lr, changes: { ...s.changes } });
        }
      });
      // Progress belongs between an attempt's start and its end.
      if (i === ctx.records.length - 1) progressOf(ctx, out);
      r.attempts.forEach((a, j) => {
        if (j >= mine.ended && a.outcome !== "running") {
          mine.ended = j + 1;
          out.push({
            type: "attempt.ended",
            stage: r.stage,
            attempt: a.settings.attempt,
            outcome: a.outcome,
            metric: a.metric,
            threshold: a.threshold,
            verdict: a.verdict ?? a.error?.message ?? null,
          });
        }
      });
      if (r.status !== "running" && mine.status !== r.status) {
        mine.status = r.status;
        const s = summarizeStage(r, now);
        out.push({ type: "stage.ended", stage: r.stage, name: r.name, status: r.status, attempts: s.attempts, verdict: s.verdict ?? s.note, wall_s: s.wall_s });
      }
    });
    const ph = ctx.outcome === "running" ? phaseOf(snap.value) : null;
    const phaseKey = ph ? `${ph.stage}/${ctx.attempt}/${ph.phase}` : "";
    // The current attempt's phase: every end event above belongs to an earlier attempt (an
    // attempt cannot end while preparing, training or evaluating), or, in backoff and
    // rolling back, to this one, which the phase follows.
    if (ph && phaseKey !== lastPhase) out.push({ type: "phase", stage: ph.stage, attempt: ctx.attempt, phase: ph.phase });
    lastPhase = phaseKey;
    if (ctx.outcome !== "running" && !ended) {
      ended = true;
      const st = ctx.stopped;
      out.push({
        type: "run.ended",
        outcome: ctx.outcome,
        wall_s: Math.round(now - ctx.startedAt) / 1000,
        stopped: st ? { stage: st.stage, kind: st.kind, reason: st.reason } : null,
      });
    }
    return out;
  }

  function progressOf(ctx: DirectorContext, out: ReportEvent[]): void {
    const p = ctx.progress;
    if (!p) return;
    const key = `${p.stage}/${p.attempt}/${p.step}/${JSON.stringify(p.losses)}`;
    if (key === lastProgress) return;
    lastProgress = key;
    const perStep = options.tokensPerStep?.(p.stage) ?? null;
    out.push({
      type: "progress",
      stage: p.stage,
      attempt: p.attempt,
      step: p.step,
      steps: p.steps,
      losses: { ...p.losses },
      ...(perStep !== null && Number.isFinite(perStep) ? { tokens: p.step * perStep } : {}),
    });
  }

  return {
    observe(snapshot) {
      try {
        if (!snapshot?.context || !Array.isArray(snapshot.context.records)) return [];
        return diff(snapshot);
      } catch {
        return [];
      }
    },
  };
}
