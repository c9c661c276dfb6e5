// LossRecorder: collects the director's progress reports into per-stage, per-attempt,
// per-term loss curves with bounded memory (series.ts does the downsampling). Feed it every
// `progress` event (or call add() from a trainer's onProgress); at the end the report takes
// series(stage) for each stage. toJSON() is its whole state, so a runtime can persist it next
// to the director snapshot and hand it back with createLossRecorder({ restore }) on resume.
import { isStageId, type LossName, type StageId } from "./stages.js";
import type { ReportEvent, ReportedLosses } from "./events.js";
import { addPoint, emptySeries, MIN_POINTS, restoreSeries, termSeries, type SeriesState, type TermSeries } from "./series.js";

export const DEFAULT_MAX_POINTS = 512;
export const RECORDER_FORMAT = "troupe-losses/1";

/** The loss curves of one attempt: term → its series. */
export interface AttemptSeries {
  readonly attempt: number;
  readonly terms: Readonly<Partial<Record<LossName, TermSeries>>>;
}

export interface LossReport {
  readonly stage: StageId;
  readonly attempt: number;
  readonly step: number;
  readonly losses: ReportedLosses;
}

export interface LossRecorderState {
  readonly format: typeof RECORDER_FORMAT;
  readonly max_points: number;
  /** "stage/attempt/term" → series state. */
  readonly series: Readonly<Record<string, SeriesState>>;
}

export interface LossRecorder {
  /** Points kept per term and attempt before downsampling starts. */
  readonly maxPoints: number;
  /** Records one progress report. Malformed input is ignored; never throws. */
  add(report: LossReport): void;
  /** add() for `progress` events; every other event is ignored. */
  handle(event: ReportEvent): void;
  /** The curves of one stage, attempts in order; [] if it reported nothing. */
  series(stage: StageId): AttemptSeries[];
  /** Stages with at least one report, in order. */
  stages(): StageId[];
  toJSON(): LossRecorderState;
}

export interface LossRecorderOptions {
  /** Per term and attempt; at least 8. Default 512. */
  readonly maxPoints?: number;
  /** A state from toJSON(); entries that do not parse are dropped. */
  readonly restore?: LossRecorderState | null;
}

const keyOf = (stage: number, attempt: number, term: string): string => `${stage}/${attempt}/${term}`;

function parseKey(key: string): { stage: StageId; attempt: number; term: LossName } | null {
  const [s, a, term] = key.split("/");
  const stage = Number(s);
  const attempt = Number(a);
  if (!isStageId(stage) || !Number.isInteger(attempt) || attempt < 1 || !term) return null;
  return { stage, attempt, term: term as LossName };
}

/** `total` first, then the terms in the order of L; anything else after, by name. */
const TERM_ORDER = ["total", "sft", "route", "vit", "depth", "sem", "transfer"];
export function compareTerms(a: string, b: string): number {
  const ia = TERM_ORDER.indexOf(a);
  const ib = TERM_ORDER.indexOf(b);
  if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

const TERM_NAME = /^[A-Za-z0-9_.-]{1,40}$/;

export function createLossRecorder(options: LossRecorderOptions = {}): LossRecorder {
  const requested = options.maxPoints ?? options.restore?.max_points ?? DEFAULT_MAX_POINTS;
  const maxPoints = Number.isFinite(requested) ? Math.max(MIN_POINTS, Math.floor(requested)) : DEFAULT_MAX_POINTS;
  const all = new Map<string, SeriesState>();
  if (options.restore?.format === RECORDER_FORMAT && options.restore.series) {
    for (const [key, value] of Object.entries(options.restore.series)) {
      const s = restoreSeries(value);
      if (s && parseKey(key)) all.set(key, s);
    }
  }

  function add(r: LossReport): void {
    try {
      if (!r || !isStageId(r.stage) || !Number.isInteger(r.attempt) || r.attempt < 1) return;
      if (typeof r.step !== "number" || !Number.isFinite(r.step) || !r.losses || typeof r.losses !== "object") return;
      for (const [term, value] of Object.entries(r.losses)) {
        if (!TERM_NAME.test(term) || (typeof value !== "number" && value !== null)) continue;
        const key = keyOf(r.stage, r.attempt, term);
        let s = all.get(key);
        if (!s) all.set(key, (s = emptySeries()));
        addPoint(s, r.step, value ?? Number.NaN, maxPoints);
      }
    } catch {
      // A recorder must never take a run down; a report it cannot read is skipped.
    }
  }

  function series(stage: StageId): AttemptSeries[] {
    const byAttempt = new Map<number, Partial<Record<LossName, TermSeries>>>();
    const keys = [...all.keys()].map((k) => ({ k, p: parseKey(k) })).filter((x) => x.p?.stage === stage);
    keys.sort((x, y) => x.p!.attempt - y.p!.attempt || compareTerms(x.p!.term, y.p!.term));
    for (const { k, p } of keys) {
      const terms = byAttempt.get(p!.attempt) ?? {};
      terms[p!.term] = termSeries(all.get(k)!);
      byAttempt.set(p!.attempt, terms);
    }
    return [...byAttempt.entries()].map(([attempt, terms]) => ({ attempt, terms }));
  }

  return {
    maxPoints,
    add,
    handle(event) {
      if (event?.type === "progress") add(event);
    },
    series,
    stages() {
      const set = new Set<StageId>();
      for (const k of all.keys()) {
        const p = parseKey(k);
        if (p) set.add(p.stage);
      }
      return [...set].sort((a, b) => a - b);
    },
    toJSON() {
      return { format: RECORDER_FORMAT, max_points: maxPoints, series: structuredClone(Object.fromEntries(all)) };
    },
  };
}
