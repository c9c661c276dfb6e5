// Training progress for people and for logs: on a TTY a bar redrawn in place
//   [██████████░░░░░░░░░░]  1200/2000  loss 1.712  val 1.801  41.2k tok/s  ETA 1m32s
// and otherwise one JSON line (pino's shape) at most every `logEveryMs` plus the last step.
// The stream and the clock are injected; nothing here prints on its own.
import type { TrainProgress } from "./options.js";

export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  readonly stream: ProgressStream;
  /** Redraw in place (default: the stream is a TTY). */
  readonly tty?: boolean;
  /** Not a TTY: at most one line per this many ms (default 5000). */
  readonly logEveryMs?: number;
  readonly label?: string;
  readonly now?: () => number;
  /**
   * Said with the first progress update (e.g. the memory estimate): a line above the bar on a
   * TTY, extra fields of the first JSON line otherwise.
   */
  readonly first?: { readonly text: string; readonly fields: Readonly<Record<string, unknown>> };
}

export interface ProgressReporter {
  update(p: TrainProgress): void;
  /** Ends the bar (a newline on a TTY). */
  close(): void;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

function rate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

/** One bar line for a progress sample (exported for tests). */
export function progressLine(p: TrainProgress, width = 20, label = ""): string {
  const frac = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
  const full = Math.round(frac * width);
  const bar = "█".repeat(full) + "░".repeat(width - full);
  const eta = p.step > 0 ? (p.elapsedMs / p.step) * (p.totalSteps - p.step) : NaN;
  const parts = [
    `${label ? label + " " : ""}[${bar}]`,
    `${String(p.step).padStart(String(p.totalSteps).length)}/${p.totalSteps}`,
    `loss ${p.trainLoss.toFixed(3)}`,
    p.valLoss !== null ? `val ${p.valLoss.toFixed(3)}` : "",
    `${rate(p.tokensPerS)} tok/s`,
    Number.isFinite(eta) ? `ETA ${duration(eta)}` : "",
  ];
  return parts.filter(Boolean).join("  ");
}

export function createProgress(options: ProgressOptions): ProgressReporter {
  const tty = options.tty ?? options.stream.isTTY === true;
  const now = options.now ?? Date.now;
  const every = options.logEveryMs ?? 5000;
  let lastAt = -Infinity;
  let drawn = false;
  let closed = false;
  let first = options.first ?? null;
  return {
    update(p) {
      if (closed) return;
      const t = now();
      const last = p.step >= p.totalSteps;
      if (first && tty) {
        options.stream.write(`${first.text}\n`);
        first = null;
      }
      if (tty) {
        if (!last && t - lastAt < 100) return;
        lastAt = t;
        const width = Math.max(40, (options.stream.columns ?? 100) - 1);
        options.stream.write(`\r${progressLine(p, 20, options.label ?? "").slice(0, width)}\x1b[K`);
        drawn = true;
        return;
      }
      if (!last && t - lastAt < every && !first) return;
      lastAt = t;
      const extra = first?.fields ?? {};
      first = null;
      options.stream.write(JSON.stringify({
        level: 30, time: t, msg: "train progress", ...(options.label ? { label: options.label } : {}), ...extra,
        step: p.step, total_steps: p.totalSteps, loss: p.loss, train_loss: p.trainLoss, val_loss: p.valLoss,
        lr: p.lr, tokens_per_s: Math.round(p.tokensPerS), elapsed_ms: Math.round(p.elapsedMs),
      }) + "\n");
    },
    close() {
      if (closed) return;
      closed = true;
      if (tty && drawn) options.stream.write("\n");
    },
  };
}
