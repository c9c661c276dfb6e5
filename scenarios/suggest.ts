// "Did you mean …?" for unknown keys and enum values: the closest candidate by edit distance
// (Damerau–Levenshtein, optimal string alignment), if it is close enough to be a typo.

export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/** The candidate closest to `word`, or null if none is within a typo's distance. */
export function closest(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  if (best === null) return null;
  const allowed = Math.max(1, Math.floor(Math.max(w.length, best.length) / 3));
  if (bestD <= allowed) return best;
  // A prefix or a separator slip ("nembd" for "n_embd") is also a typo.
  const squash = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, "");
  const hit = candidates.find((c) => squash(c) === squash(word) || (w.length >= 3 && c.toLowerCase().startsWith(w)));
  return hit ?? null;
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c ? ` (did you mean "${c}"?)` : "";
}
