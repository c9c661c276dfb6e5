// Exact-match scoring for the prompt pack (and any prompt/response data).
// Normalization, applied to both sides: cut at the first end marker (0x03), then trim
// leading/trailing whitespace (String.prototype.trim). Comparison is then exact and
// case-sensitive: "19\x03junk" and " 19 " match "19"; "019" and "No" do not match "19"/"no".
import { DEFAULT_DOMAIN } from "../records.js";
import { END_MARKER } from "../tokenizer.js";

export function normalizeAnswer(text: string): string {
  const end = text.indexOf(END_MARKER);
  return (end >= 0 ? text.slice(0, end) : text).trim();
}

/** True when the generated text matches the expected answer exactly after normalization. */
export function score(generated: string, expected: string): boolean {
  return normalizeAnswer(generated) === normalizeAnswer(expected);
}

export interface Tally {
  readonly n: number;
  readonly correct: number;
  /** correct / n (0 when n is 0). */
  readonly accuracy: number;
}

export interface ScoreSummary {
  readonly overall: Tally;
  readonly byDomain: Record<string, Tally>;
  readonly byDifficulty: Record<string, Tally>;
  /** Keyed "domain/difficulty". */
  readonly byCell: Record<string, Tally>;
}

export interface Scoreboard {
  /** Scores one answer, records it under its domain/difficulty, and returns the verdict. */
  add(meta: { domain?: string; difficulty?: string | null }, generated: string, expected: string): boolean;
  summary(): ScoreSummary;
}

type Counts = Map<string, { n: number; correct: number }>;

function bump(m: Counts, key: string, ok: boolean): void {
  const c = m.get(key) ?? { n: 0, correct: 0 };
  c.n++;
  if (ok) c.correct++;
  m.set(key, c);
}

function tally(c: { n: number; correct: number }): Tally {
  return { n: c.n, correct: c.correct, accuracy: c.n === 0 ? 0 : c.correct / c.n };
}

function table(m: Counts): Record<string, Tally> {
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => [k, tally(c)]));
}

class Board implements Scoreboard {
  private readonly all = { n: 0, correct: 0 };
  private readonly domains: Counts = new Map();
  private readonly difficulties: Counts = new Map();
  private readonly cells: Counts = new Map();

  add(meta: { domain?: string; difficulty?: string | null }, generated: string, expected: string): boolean {
    const ok = score(generated, expected);
    const domain = meta.domain ?? DEFAULT_DOMAIN;
    const difficulty = meta.difficulty ?? "unspecified"; // null or absent
    this.all.n++;
    if (ok) this.all.correct++;
    bump(this.domains, domain, ok);
    bump(this.difficulties, difficulty, ok);
    bump(this.cells, `${domain}/${difficulty}`, ok);
    return ok;
  }

  summary(): ScoreSummary {
    return {
      overall: tally(this.all),
      byDomain: table(this.domains),
      byDifficulty: table(this.difficulties),
      byCell: table(this.cells),
    };
  }
}

export function createScoreboard(): Scoreboard {
  return new Board();
}
