// Split and Replace patterns in tokenizer.json are Oniguruma regexes (the Rust `tokenizers`
// crate compiles them with onig). This translates the subset real tokenizers use into a
// JavaScript RegExp ("gu") with Oniguruma's meaning, the same way @huggingface/tokenizers does:
//   \s → \p{White_Space} (JS \s would add U+FEFF and miss U+0085), \d → \p{Nd}, \w → Unicode word
//   characters, `.` → [^\n], ^/$ → line anchors on \n only, \x{HHHH} → \u{HHHH},
//   (?i:…) → ASCII case folding of the letters inside (Llama-3's contractions group).
// Anything else Oniguruma-specific — atomic groups, possessive quantifiers, \G, backreferences,
// POSIX brackets, class intersections (&&), other inline flags — is refused with an
// UnsupportedTokenizerError naming the construct, never silently approximated.
import { UnsupportedTokenizerError } from "../errors.js";

const WORD_IN_CLASS = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}";
const WORD = `[${WORD_IN_CLASS}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE]`;
const NON_WORD = `[^${WORD_IN_CLASS}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE]`;

const ESCAPES: Record<string, string> = {
  s: "\\p{White_Space}", S: "\\P{White_Space}", d: "\\p{Nd}", D: "\\P{Nd}", w: WORD, W: NON_WORD,
  h: "[0-9A-Fa-f]", H: "[^0-9A-Fa-f]", n: "\\n", r: "\\r", t: "\\t", f: "\\f", v: "\\v", a: "\\x07", e: "\\x1B",
  A: "(?<![\\s\\S])", z: "(?![\\s\\S])", Z: "(?=\\n?(?![\\s\\S]))",
};
const CLASS_ESCAPES: Record<string, string> = {
  s: "\\p{White_Space}", S: "\\P{White_Space}", d: "\\p{Nd}", D: "\\P{Nd}", w: WORD_IN_CLASS, h: "0-9A-Fa-f",
  n: "\\n", r: "\\r", t: "\\t", f: "\\f", v: "\\v", a: "\\x07", e: "\\x1B",
};
const SYNTAX = "^$\\.*+?()[]{}|/-";

function refuse(pattern: string, what: string, at: number): never {
  throw new UnsupportedTokenizerError(`regex ${what}`, `${JSON.stringify(pattern)} uses ${what} at index ${at}; troupe's regex translation covers literals, classes, \\p{…}, \\s\\d\\w, groups (?: (?= (?! (?<= (?<! (?i:, and greedy or lazy quantifiers`);
}

/** `\p{Name}` as JS accepts it: a property, or else a script name (Oniguruma allows bare script names). */
function property(kind: string, name: string, pattern: string, at: number): string {
  if (name === "Word") return kind === "p" ? WORD : NON_WORD;
  for (const candidate of [name, `Script=${name}`]) {
    try {
      new RegExp(`\\${kind}{${candidate}}`, "u");
      return `\\${kind}{${candidate}}`;
    } catch {
      // try the next spelling
    }
  }
  return refuse(pattern, `the unknown Unicode property ${name}`, at);
}

const isLetter = (c: string) => /^[A-Za-z]$/.test(c);

/** Parses an escape at `i` (pattern[i] === "\\"); returns [JS text, next index, is a set]. */
function escape(pattern: string, i: number, inClass: boolean): [string, number] {
  const rest = pattern.slice(i);
  const braced = /^\\([pP])\{\^?([A-Za-z_= ]+)\}/.exec(rest);
  if (braced) {
    if (braced[0].includes("{^")) refuse(pattern, "a negated \\p{^…}", i);
    if (inClass && braced[2] === "Word") return [braced[1] === "p" ? WORD_IN_CLASS : refuse(pattern, "\\P{Word} inside a class", i), i + braced[0].length];
    return [property(braced[1]!, braced[2]!.trim(), pattern, i), i + braced[0].length];
  }
  const hexBraced = /^\\x\{([0-9A-Fa-f]{1,6})\}/.exec(rest);
  if (hexBraced) return [`\\u{${hexBraced[1]}}`, i + hexBraced[0].length];
  const fixed = /^\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})/.exec(rest);
  if (fixed) return [fixed[0], i + fixed[0].length];
  const c = pattern[i + 1];
  if (c === undefined) return refuse(pattern, "a trailing backslash", i);
  const table = inClass ? CLASS_ESCAPES : ESCAPES;
  if (table[c] !== undefined) return [table[c]!, i + 2];
  if (/[A-Za-z0-9]/.test(c)) return refuse(pattern, `the escape \\${c}`, i);
  return [SYNTAX.includes(c) ? `\\${c}` : c, i + 2];
}

/** Adds the other ASCII case of every letter a class matches one case of (Oniguruma's (?i:) on a class). */
function foldClass(cls: string): string {
  // a positive class gains the missing case; a negated one loses the case it still matches
  const negated = cls.startsWith("[^");
  const re = new RegExp(`^${cls}$`, "u");
  let extra = "";
  for (let k = 0; k < 26; k++) {
    const up = String.fromCharCode(65 + k);
    const low = String.fromCharCode(97 + k);
    const hasUp = re.test(up);
    if (hasUp !== re.test(low)) extra += negated ? (hasUp ? up : low) : hasUp ? low : up;
  }
  if (!extra) return cls;
  return negated ? `(?:(?![${extra}])${cls})` : `[${cls.slice(1, -1)}${extra}]`;
}

/** Parses a class at `i` (pattern[i] === "["); returns [JS class, index after "]"]. */
function charClass(pattern: string, i: number, fold: boolean): [string, number] {
  let j = i + 1;
  let out = "[";
  if (pattern[j] === "^") {
    out += "^";
    j++;
  }
  let first = true;
  while (j < pattern.length) {
    const c = pattern[j]!;
    if (c === "]" && !first) {
      out += "]";
      return [fold ? foldClass(out) : out, j + 1];
    }
    if (c === "[") refuse(pattern, pattern[j + 1] === ":" ? "a POSIX bracket [:…:]" : "a nested class", j);
    if (c === "&" && pattern[j + 1] === "&") refuse(pattern, "a class intersection &&", j);
    if (c === "\\") {
      const [text, next] = escape(pattern, j, true);
      out += text;
      j = next;
    } else {
      out += c === "]" || c === "/" ? `\\${c}` : c;
      j += c.length;
    }
    first = false;
  }
  return refuse(pattern, "an unterminated class", i);
}

/** The JavaScript source of an Oniguruma pattern (the supported subset). */
export function translateOniguruma(pattern: string): string {
  let out = "";
  const folds: boolean[] = [];
  let fold = false;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "\\") {
      if (pattern[i + 1] === "G" || pattern[i + 1] === "b" || pattern[i + 1] === "B" || pattern[i + 1] === "k") refuse(pattern, `\\${pattern[i + 1]}`, i);
      const [text, next] = escape(pattern, i, false);
      const letter = text.length === 2 && text[0] === "\\" ? "" : text;
      out += fold && letter.length === 1 && isLetter(letter) ? `[${letter.toLowerCase()}${letter.toUpperCase()}]` : text;
      i = next;
    } else if (c === "[") {
      const [text, next] = charClass(pattern, i, fold);
      out += text;
      i = next;
    } else if (c === "(") {
      const prefix = /^\((?:\?(?:<[=!]|[:=!]|i:))?/.exec(pattern.slice(i))![0];
      if (prefix === "(" && pattern[i + 1] === "?") refuse(pattern, `the group ${pattern.slice(i, i + 4)}…`, i);
      folds.push(fold);
      if (prefix === "(?i:") {
        fold = true;
        out += "(?:";
      } else out += prefix;
      i += prefix.length;
    } else if (c === ")") {
      if (folds.length === 0) refuse(pattern, "an unbalanced )", i);
      fold = folds.pop()!;
      out += ")";
      i++;
    } else if (c === "*" || c === "+" || c === "?" || c === "{") {
      let q = c;
      if (c === "{") {
        const m = /^\{(\d*)(,?)(\d*)\}/.exec(pattern.slice(i));
        if (!m || (m[1] === "" && m[3] === "")) {
          out += "\\{";
          i++;
          continue;
        }
        q = `{${m[1] === "" ? "0" : m[1]}${m[2]}${m[3]}}`;
        i += m[0].length - 1;
      }
      i++;
      if (pattern[i] === "+") refuse(pattern, "a possessive quantifier", i);
      if (pattern[i] === "?") {
        q += "?";
        i++;
      }
      out += q;
    } else if (c === ".") {
      out += "[^\\n]";
      i++;
    } else if (c === "^") {
      out += "(?:(?<![\\s\\S])|(?<=\\n))";
      i++;
    } else if (c === "$") {
      out += "(?:(?=\\n)|(?![\\s\\S]))";
      i++;
    } else if (c === "]" || c === "}" || c === "/") {
      out += `\\${c}`;
      i++;
    } else {
      const ch = String.fromCodePoint(pattern.codePointAt(i)!);
      out += fold && isLetter(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch;
      i += ch.length;
    }
  }
  if (folds.length) refuse(pattern, "an unbalanced (", pattern.length);
  return out;
}

/** A global Unicode RegExp for an Oniguruma pattern. */
export function compileOniguruma(pattern: string): RegExp {
  const source = translateOniguruma(pattern);
  try {
    return new RegExp(source, "gu");
  } catch (err) {
    throw new UnsupportedTokenizerError("regex", `${JSON.stringify(pattern)} does not translate to a JavaScript RegExp (${(err as Error).message})`, { cause: err });
  }
}

/** A global RegExp matching a literal string. */
export function literalRegex(s: string): RegExp {
  return new RegExp(s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"), "gu");
}
