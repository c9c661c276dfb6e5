// A small schema language over YAML nodes (not over plain JS values), so that every problem
// knows its line. Each schema parses a node into a typed value or records an issue and
// returns INVALID; parsing goes on after an issue so one run reports every problem.
//
//   const gate = obj({ metric: str(), min: opt(num()) });   // Infer<typeof gate>
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";
import type { ScenarioIssue } from "./errors.js";
import { closest, didYouMean } from "./suggest.js";

export const INVALID: unique symbol = Symbol("invalid");
export type Invalid = typeof INVALID;
export type Path = readonly (string | number)[];

/** Where issues go, and how to turn a node into a line. */
export class Ctx {
  readonly issues: ScenarioIssue[] = [];
  /** The node behind each path that parsed, for checks that run after parsing. */
  readonly nodes = new Map<string, Node>();
  /** The key node of each mapping entry, by path: a missing key is reported at its parent's key. */
  readonly keys = new Map<string, Node>();
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  pos(node: Node | null | undefined): { line: number; col: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, col: 1 };
    const p = this.lines.linePos(offset);
    return { line: Math.max(1, p.line), col: Math.max(1, p.col) };
  }

  issue(node: Node | null | undefined, path: Path, message: string): Invalid {
    this.issues.push({ file: this.file, ...this.pos(node), path: path.join("."), message });
    return INVALID;
  }

  /**
   * An issue at a path that parsed earlier: at its value if the path exists, else at the key
   * (or node) of its nearest parsed ancestor — "model.lora: missing" points at `model:`.
   */
  issueAt(path: Path, message: string): void {
    const exact = this.nodes.get(path.join("."));
    if (exact) {
      this.issue(exact, path, message);
      return;
    }
    for (let n = path.length - 1; n >= 0; n--) {
      const prefix = path.slice(0, n).join(".");
      const node = this.keys.get(prefix) ?? this.nodes.get(prefix);
      if (node || n === 0) {
        this.issue(node, path, message);
        return;
      }
    }
  }

  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }
}

export interface Schema<T> {
  /** "a number", "one of: linear, cosine" — how errors name what was expected. */
  readonly expected: string;
  readonly optional: boolean;
  readonly fallback?: T;
  parse(node: Node | null, path: Path, ctx: Ctx): T | Invalid;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** How an error names the value it got: `"high"`, `3`, `a list`, `nothing`. */
export function describe(node: Node | null): string {
  if (node === null) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return "nothing";
    if (typeof v === "string") return JSON.stringify(v);
    return String(v);
  }
  return "something else";
}

function scalar<T>(expected: string, accept: (v: unknown) => v is T, check?: (v: T) => string | null): Schema<T> {
  return {
    expected,
    optional: false,
    parse(node, path, ctx) {
      if (!isScalar(node) || !accept(node.value)) return ctx.issue(node, path, `expected ${expected}, got ${describe(node)}`);
      const why = check?.(node.value);
      if (why) return ctx.issue(node, path, why);
      ctx.nodes.set(path.join("."), node);
      return node.value;
    },
  };
}

export function num(o: { min?: number; max?: number; gt?: number; lt?: number; int?: boolean } = {}): Schema<number> {
  const expected = o.int ? "an integer" : "a number";
  return scalar(expected, (v): v is number => typeof v === "number" && Number.isFinite(v) && (!o.int || Number.isInteger(v)), (v) => {
    if (o.min !== undefined && v < o.min) return `must be at least ${o.min}, got ${v}`;
    if (o.max !== undefined && v > o.max) return `must be at most ${o.max}, got ${v}`;
    if (o.gt !== undefined && v <= o.gt) return `must be greater than ${o.gt}, got ${v}`;
    if (o.lt !== undefined && v >= o.lt) return `must be less than ${o.lt}, got ${v}`;
    return null;
  });
}

export const int = (o: { min?: number; max?: number } = {}): Schema<number> => num({ ...o, int: true });

export function str(o: { pattern?: RegExp; hint?: string } = {}): Schema<string> {
  return scalar("a string", (v): v is string => typeof v === "string" && v.length > 0, (v) =>
    o.pattern && !o.pattern.test(v) ? `${JSON.stringify(v)} is not valid: ${o.hint ?? `must match ${o.pattern}`}` : null,
  );
}

export function bool(): Schema<boolean> {
  return scalar("true or false", (v): v is boolean => typeof v === "boolean");
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const expected = `one of: ${values.join(", ")}`;
  return {
    expected,
    optional: false,
    parse(node, path, ctx) {
      const v = isScalar(node) ? node.value : undefined;
      if (typeof v !== "string") return ctx.issue(node, path, `expected ${expected}; got ${describe(node)}`);
      if (!values.includes(v as T)) return ctx.issue(node, path, `expected ${expected}; got ${JSON.stringify(v)}${didYouMean(v, values)}`);
      ctx.nodes.set(path.join("."), node!);
      return v as T;
    },
  };
}

export function list<T>(item: Schema<T>, o: { min?: number; unique?: boolean } = {}): Schema<T[]> {
  return {
    expected: `a list of ${item.expected.replace(/^an? /, "")}s`,
    optional: false,
    parse(node, path, ctx) {
      if (!isSeq(node)) return ctx.issue(node, path, `expected a list, got ${describe(node)}`);
      ctx.nodes.set(path.join("."), node);
      const out: T[] = [];
      let ok = true;
      node.items.forEach((raw, i) => {
        const v = item.parse(ctx.resolve(raw), [...path, i], ctx);
        if (v === INVALID) ok = false;
        else if (o.unique && out.some((x) => JSON.stringify(x) === JSON.stringify(v))) {
          ok = false;
          ctx.issue(ctx.resolve(raw), [...path, i], `${JSON.stringify(v)} is listed twice`);
        } else out.push(v);
      });
      if (ok && o.min !== undefined && out.length < o.min) return ctx.issue(node, path, `needs at least ${o.min} item${o.min === 1 ? "" : "s"}`);
      return ok ? out : INVALID;
    },
  };
}

/** A single value or a list of them; always yields a list. */
export function oneOrMany<T>(item: Schema<T>): Schema<T[]> {
  const many = list(item, { unique: true });
  return {
    expected: `${item.expected} or a list of them`,
    optional: false,
    parse(node, path, ctx) {
      if (isSeq(node)) return many.parse(node, path, ctx);
      const v = item.parse(node, path, ctx);
      if (v === INVALID) return INVALID;
      return [v as T];
    },
  };
}

/** An optional field: absent (or `key:` with nothing) yields `fallback`. */
export function opt<T>(s: Schema<T>): Schema<T | undefined>;
export function opt<T>(s: Schema<T>, fallback: T): Schema<T>;
export function opt<T>(s: Schema<T>, fallback?: T): Schema<T | undefined> {
  return { ...s, optional: true, fallback, parse: s.parse };
}

/** Any mapping or scalar, kept as plain data (for pass-through options). */
export function anything(): Schema<unknown> {
  return {
    expected: "any value",
    optional: false,
    parse(node, path, ctx) {
      if (node) ctx.nodes.set(path.join("."), node);
      return node ? (node.toJSON() as unknown) : null;
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
export type ObjOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

function isAbsent(node: Node | null): boolean {
  return node === null || (isScalar(node) && (node.value === null || node.value === undefined));
}

export function obj<S extends Shape>(shape: S, o: { what?: string } = {}): Schema<ObjOf<S>> {
  const keys = Object.keys(shape);
  return {
    expected: o.what ?? "a mapping",
    optional: false,
    parse(node, path, ctx) {
      if (!isMap(node)) return ctx.issue(node, path, `expected ${o.what ?? "a mapping"} with keys ${keys.join(", ")}; got ${describe(node)}`);
      ctx.nodes.set(path.join("."), node);
      const out: Record<string, unknown> = {};
      const seen = new Set<string>();
      const suggested = new Set<string>();
      let ok = true;
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = ctx.resolve(pair.key);
        const key = isScalar(keyNode) ? String(keyNode.value) : null;
        if (key === null) {
          ok = false;
          ctx.issue(keyNode, path, `keys must be plain words, got ${describe(keyNode)}`);
          continue;
        }
        const schema = shape[key];
        if (!schema) {
          ok = false;
          const hint = closest(key, keys);
          if (hint) suggested.add(hint);
          ctx.issue(keyNode, [...path, key], `unknown key${didYouMean(key, keys)}; expected one of: ${keys.join(", ")}`);
          continue;
        }
        seen.add(key);
        if (keyNode) ctx.keys.set([...path, key].join("."), keyNode);
        const valueNode = ctx.resolve(pair.value);
        if (schema.optional && isAbsent(valueNode)) continue;
        const v = schema.parse(valueNode ?? (keyNode as Node), [...path, key], ctx);
        if (v === INVALID) ok = false;
        else out[key] = v;
      }
      for (const key of keys) {
        const schema = shape[key]!;
        if (!(key in out) && schema.optional) out[key] = schema.fallback;
        else if (!seen.has(key) && !schema.optional) {
          ok = false;
          // A typo of this key was already reported with a "did you mean"; say it once.
          if (!suggested.has(key)) ctx.issue(ctx.keys.get(path.join(".")) ?? node, [...path, key], `missing; expected ${schema.expected}`);
        }
      }
      return ok ? (out as ObjOf<S>) : INVALID;
    },
  };
}

/** A mapping from free names (data lanes) to values of one schema. */
export function record<T>(value: Schema<T>, o: { keyPattern: RegExp; keyHint: string }): Schema<Record<string, T>> {
  return {
    expected: "a mapping of names",
    optional: false,
    parse(node, path, ctx) {
      if (!isMap(node)) return ctx.issue(node, path, `expected a mapping of names, got ${describe(node)}`);
      ctx.nodes.set(path.join("."), node);
      const out: Record<string, T> = {};
      let ok = true;
      for (const pair of node.items) {
        const keyNode = ctx.resolve(pair.key);
        const key = isScalar(keyNode) ? String(keyNode.value) : "";
        if (!o.keyPattern.test(key)) {
          ok = false;
          ctx.issue(keyNode, [...path, key], `${JSON.stringify(key)} is not a valid name: ${o.keyHint}`);
          continue;
        }
        const v = value.parse(ctx.resolve(pair.value), [...path, key], ctx);
        if (v === INVALID) ok = false;
        else out[key] = v;
      }
      return ok ? out : INVALID;
    },
  };
}

/** A mapping whose `tag` key picks the schema for the rest (data lanes by `kind`). */
export function tagged<const Tag extends string, V extends Record<string, Schema<object>>>(
  tag: Tag,
  variants: V,
): Schema<{ [P in keyof V & string]: Omit<Infer<V[P]>, Tag> & { readonly [T in Tag]: P } }[keyof V & string]> {
  const kinds = Object.keys(variants) as (keyof V & string)[];
  return {
    expected: `a mapping with ${tag}: ${kinds.join(" | ")}`,
    optional: false,
    parse(node, path, ctx) {
      if (!isMap(node)) return ctx.issue(node, path, `expected a mapping with ${tag}: ${kinds.join(" | ")}; got ${describe(node)}`);
      const tagNode = ctx.resolve(node.get(tag, true) ?? null);
      if (tagNode === null) return ctx.issue(node, [...path, tag], `missing; expected one of: ${kinds.join(", ")}`);
      const kind = oneOf(kinds).parse(tagNode, [...path, tag], ctx);
      if (kind === INVALID) return INVALID;
      const v = variants[kind]!.parse(node, path, ctx);
      return v === INVALID ? v : ({ ...v, [tag]: kind } as never);
    },
  };
}
