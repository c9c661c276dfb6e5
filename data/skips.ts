// Bad input is never dropped silently: every skip is counted by reason, and the first few are
// kept with their line (or record number) so a report can point at them.

export interface SkipEntry {
  /** 1-based line in a JSONL file, or 1-based record number for generated records. */
  readonly line: number;
  /** A short stable phrase, the key of `byReason` (e.g. "empty response"). */
  readonly reason: string;
  /** Specifics for a human (e.g. the JSON parser's message). */
  readonly detail?: string;
  readonly file?: string;
  readonly split?: string;
}

/** The JSON-serializable report of a SkipLog. */
export interface SkipSummary {
  readonly count: number;
  readonly byReason: Record<string, number>;
  /** The first few skips, in order. */
  readonly first: SkipEntry[];
}

export interface SkipLog {
  readonly count: number;
  skip(entry: SkipEntry): void;
  summary(): SkipSummary;
}

export const DEFAULT_REPORTED = 5;

class Skips implements SkipLog {
  private total = 0;
  private readonly reasons = new Map<string, number>();
  private readonly kept: SkipEntry[] = [];

  constructor(private readonly maxReported: number) {}

  get count(): number {
    return this.total;
  }

  skip(entry: SkipEntry): void {
    this.total++;
    this.reasons.set(entry.reason, (this.reasons.get(entry.reason) ?? 0) + 1);
    if (this.kept.length < this.maxReported) this.kept.push({ ...entry });
  }

  summary(): SkipSummary {
    return { count: this.total, byReason: Object.fromEntries(this.reasons), first: [...this.kept] };
  }
}

export function createSkipLog(maxReported = DEFAULT_REPORTED): SkipLog {
  return new Skips(maxReported);
}

/** Combines summaries (counts add up; `first` keeps the earliest up to `maxReported`). */
export function mergeSkips(parts: SkipSummary[], maxReported = DEFAULT_REPORTED): SkipSummary {
  const byReason: Record<string, number> = {};
  let count = 0;
  const first: SkipEntry[] = [];
  for (const p of parts) {
    count += p.count;
    for (const [r, n] of Object.entries(p.byReason)) byReason[r] = (byReason[r] ?? 0) + n;
    for (const e of p.first) if (first.length < maxReported) first.push(e);
  }
  return { count, byReason, first };
}

/** One line for logs: "12 skipped (empty response: 9, invalid JSON: 3); first: line 4 …". */
export function formatSkips(s: SkipSummary): string {
  if (s.count === 0) return "0 skipped";
  const reasons = Object.entries(s.byReason).map(([r, n]) => `${r}: ${n}`).join(", ");
  const first = s.first
    .map((e) => `${e.file ? e.file + ":" : "line "}${e.line} ${e.reason}${e.detail ? ` (${e.detail})` : ""}`)
    .join("; ");
  return `${s.count} skipped (${reasons}); first: ${first}`;
}
