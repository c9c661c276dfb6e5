// The task domains of the built-in prompt pack. Each makes one (prompt, response, labels) from
// an RNG and a difficulty. Easy and hard variants never produce the same prompt (their input
// lengths or ranges are disjoint), and every prompt names its task, so prompts of different
// domains never collide either. All answers are short, single-line ASCII.
//
//   arithmetic  "12+7="            → "19"      easy: 0–99 + 0–9      hard: 3-digit + or −
//   reversal    "reverse abc"      → "cba"     easy: 3–4 letters     hard: 6–8 letters
//   sorting     "sort 3142"        → "1234"    easy: 3–4 digits      hard: 6–8 letters
//   counting    "count a in abca"  → "2"       easy: 3–6 of a,b,c    hard: 8–12 of a–h
//   brackets    "balanced ([)]"    → "no"      easy: ≤ 10 of ()[]    hard: 11–18 of ()[]{}
//   copying     "copy hello"       → "hello"   easy: 3–5 letters     hard: 8–12 letters+digits
import type { Difficulty } from "../records.js";
import type { Rng } from "../rng.js";
import type { SemanticLabel } from "./labels.js";

export interface Task {
  readonly prompt: string;
  readonly response: string;
  readonly labels: SemanticLabel[];
}

export interface Domain {
  readonly name: string;
  make(rng: Rng, difficulty: Difficulty): Task;
}

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";

function between(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}
function word(rng: Rng, alphabet: string, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}
const sortChars = (s: string) => [...s].sort().join("");
const reverse = (s: string) => [...s].reverse().join("");

function columnsCarry(a: number, b: number): boolean {
  for (; a > 0 || b > 0; a = Math.floor(a / 10), b = Math.floor(b / 10)) if ((a % 10) + (b % 10) >= 10) return true;
  return false;
}
function columnsBorrow(a: number, b: number): boolean {
  for (; b > 0; a = Math.floor(a / 10), b = Math.floor(b / 10)) if (a % 10 < b % 10) return true;
  return false;
}

const arithmetic: Domain = {
  name: "arithmetic",
  make(rng, difficulty) {
    if (difficulty === "easy") {
      const a = rng.int(100);
      const b = rng.int(10);
      return { prompt: `${a}+${b}=`, response: String(a + b), labels: ["digit", "arithmetic", ...(columnsCarry(a, b) ? ["carry" as const] : [])] };
    }
    let a = between(rng, 100, 999);
    let b = between(rng, 100, 999);
    if (rng.int(2) === 0) {
      return { prompt: `${a}+${b}=`, response: String(a + b), labels: ["digit", "arithmetic", ...(columnsCarry(a, b) ? ["carry" as const] : [])] };
    }
    if (a < b) [a, b] = [b, a];
    return { prompt: `${a}-${b}=`, response: String(a - b), labels: ["digit", "arithmetic", ...(columnsBorrow(a, b) ? ["borrow" as const] : [])] };
  },
};

const reversal: Domain = {
  name: "reversal",
  make(rng, difficulty) {
    const s = word(rng, LOWER, difficulty === "easy" ? between(rng, 3, 4) : between(rng, 6, 8));
    const r = reverse(s);
    const labels: SemanticLabel[] = ["letter", "reverse", "order", "length_preserved", "multiset_preserved"];
    if (r === s) labels.push("unchanged");
    return { prompt: `reverse ${s}`, response: r, labels };
  },
};

const sorting: Domain = {
  name: "sorting",
  make(rng, difficulty) {
    const easy = difficulty === "easy";
    const s = easy ? word(rng, DIGITS, between(rng, 3, 4)) : word(rng, LOWER, between(rng, 6, 8));
    const r = sortChars(s);
    const labels: SemanticLabel[] = [easy ? "digit" : "letter", "order", "length_preserved", "multiset_preserved", "sorted_output"];
    if (r === s) labels.push("unchanged");
    return { prompt: `sort ${s}`, response: r, labels };
  },
};

const counting: Domain = {
  name: "counting",
  make(rng, difficulty) {
    const alphabet = difficulty === "easy" ? "abc" : "abcdefgh";
    const s = word(rng, alphabet, difficulty === "easy" ? between(rng, 3, 6) : between(rng, 8, 12));
    const c = alphabet[rng.int(alphabet.length)]!;
    const n = [...s].filter((x) => x === c).length;
    const labels: SemanticLabel[] = ["letter", "count"];
    if (n === 0) labels.push("absent");
    return { prompt: `count ${c} in ${s}`, response: String(n), labels };
  },
};

const CLOSE: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

export function isBalanced(s: string): boolean {
  const stack: string[] = [];
  for (const ch of s) {
    if (ch in CLOSE) stack.push(CLOSE[ch]!);
    else if (stack.pop() !== ch) return false;
  }
  return stack.length === 0;
}

function balancedString(rng: Rng, pairs: number, opens: string): string {
  let s = "";
  const stack: string[] = [];
  let left = pairs;
  while (left > 0 || stack.length > 0) {
    if (left > 0 && (stack.length === 0 || rng.int(2) === 0)) {
      const o = opens[rng.int(opens.length)]!;
      s += o;
      stack.push(CLOSE[o]!);
      left--;
    } else s += stack.pop();
  }
  return s;
}

/** One edit (replace, swap neighbours, or delete a character) that leaves it unbalanced. */
function unbalance(rng: Rng, s: string, symbols: string): string {
  for (;;) {
    const i = rng.int(s.length);
    const op = rng.int(3);
    let t: string;
    if (op === 0) t = s.slice(0, i) + symbols[rng.int(symbols.length)] + s.slice(i + 1);
    else if (op === 1 && i + 1 < s.length) t = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
    else t = s.slice(0, i) + s.slice(i + 1);
    if (t.length > 0 && !isBalanced(t)) return t;
  }
}

const brackets: Domain = {
  name: "brackets",
  make(rng, difficulty) {
    const easy = difficulty === "easy";
    const opens = easy ? "([" : "([{";
    const symbols = easy ? "()[]" : "()[]{}";
    // easy: 1–5 pairs (length ≤ 10, deletions ≥ 1); hard: 6–9 pairs (12–18, deletions ≥ 11)
    const base = balancedString(rng, easy ? between(rng, 1, 5) : between(rng, 6, 9), opens);
    const s = rng.int(2) === 0 ? base : unbalance(rng, base, symbols);
    const ok = isBalanced(s);
    const labels: SemanticLabel[] = ["bracket", "match"];
    if (ok) labels.push("balanced");
    return { prompt: `balanced ${s}`, response: ok ? "yes" : "no", labels };
  },
};

const copying: Domain = {
  name: "copying",
  make(rng, difficulty) {
    const easy = difficulty === "easy";
    const s = easy ? word(rng, LOWER, between(rng, 3, 5)) : word(rng, LOWER + DIGITS, between(rng, 8, 12));
    const labels: SemanticLabel[] = ["copy", "length_preserved", "multiset_preserved", "unchanged"];
    if (/[a-z]/.test(s)) labels.unshift("letter");
    if (/[0-9]/.test(s)) labels.unshift("digit");
    return { prompt: `copy ${s}`, response: s, labels };
  },
};

/** The built-in domains, in pack order. */
export const DOMAINS: readonly Domain[] = [arithmetic, reversal, sorting, counting, brackets, copying];
export const DOMAIN_NAMES: readonly string[] = DOMAINS.map((d) => d.name);
