// Runtime validation of message bodies: small combinators whose parse() either returns the
// value typed or throws a SchemaError naming the path. Tensors are first-class (dtype, rank,
// NaN policy). Validation never copies: a parsed value is the decoded value, typed.
import { DtypeError, NaNError, SchemaError } from "./errors.js";
import type { Dtype } from "./dtype.js";
import { type WireTensor, hasNaN, isWireTensor } from "./tensor.js";

export interface Schema<T> {
  /** a short description used in error messages ("string", "f32 tensor", ...) */
  readonly describe: string;
  parse(value: unknown, path?: string): T;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

type Opt<S> = S extends OptionalSchema<unknown> ? true : false;
interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}
type ObjectOut<S extends Record<string, Schema<unknown>>> = {
  [K in keyof S as Opt<S[K]> extends true ? never : K]: Infer<S[K]>;
} & {
  [K in keyof S as Opt<S[K]> extends true ? K : never]?: Infer<S[K]>;
};
type Simplify<T> = { [K in keyof T]: T[K] } & {};

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof Uint8Array) return "bytes";
  if (isWireTensor(v)) return "tensor";
  return typeof v;
}

function fail(path: string, want: string, got: unknown): never {
  throw new SchemaError(path, `expected ${want}, got ${kindOf(got)}`);
}

function make<T>(describe: string, parse: (v: unknown, path: string) => T): Schema<T> {
  return { describe, parse: (v, path = "body") => parse(v, path) };
}

export interface NumberOptions {
  int?: boolean;
  min?: number;
  max?: number;
  /** NaN is refused unless allowed; ±Infinity is refused when `finite` */
  allowNaN?: boolean;
  finite?: boolean;
}

export interface TensorOptions {
  dtypes?: readonly Dtype[];
  rank?: number;
  /** expected shape; -1 matches any size in that dimension */
  shape?: readonly number[];
  /** default false: a tensor holding NaN is refused with a NaNError */
  allowNaN?: boolean;
  maxBytes?: number;
}

export const t = {
  unknown(): Schema<unknown> {
    return make("anything", (v) => v);
  },
  string(opts: { minLength?: number; maxLength?: number } = {}): Schema<string> {
    const { minLength = 0, maxLength = 1 << 20 } = opts;
    return make("string", (v, path) => {
      if (typeof v !== "string") fail(path, "string", v);
      if (v.length < minLength || v.length > maxLength) {
        throw new SchemaError(path, `string length ${v.length} is outside [${minLength}, ${maxLength}]`);
      }
      return v;
    });
  },
  number(opts: NumberOptions = {}): Schema<number> {
    const { int = false, min = -Infinity, max = Infinity, allowNaN = false, finite = false } = opts;
    return make(int ? "integer" : "number", (v, path) => {
      if (typeof v !== "number") fail(path, int ? "integer" : "number", v);
      if (v !== v) {
        if (allowNaN) return v;
        throw new NaNError(path);
      }
      if (finite && !Number.isFinite(v)) throw new SchemaError(path, `expected a finite number, got ${v}`);
      if (int && !Number.isInteger(v)) throw new SchemaError(path, `expected an integer, got ${v}`);
      if (v < min || v > max) throw new SchemaError(path, `${v} is outside [${min}, ${max}]`);
      return v;
    });
  },
  int(opts: Omit<NumberOptions, "int" | "allowNaN"> = {}): Schema<number> {
    return t.number({ ...opts, int: true });
  },
  boolean(): Schema<boolean> {
    return make("boolean", (v, path) => (typeof v === "boolean" ? v : fail(path, "boolean", v)));
  },
  literal<const L extends string | number | boolean>(value: L): Schema<L> {
    return make(JSON.stringify(value), (v, path) => (v === value ? (v as L) : fail(path, JSON.stringify(value), v)));
  },
  oneOf<const L extends string>(values: readonly L[]): Schema<L> {
    const set = new Set<unknown>(values);
    return make(values.join("|"), (v, path) => {
      if (!set.has(v)) throw new SchemaError(path, `expected one of ${values.join(", ")}, got ${JSON.stringify(v)}`);
      return v as L;
    });
  },
  bytes(opts: { maxLength?: number } = {}): Schema<Uint8Array> {
    const { maxLength = Infinity } = opts;
    return make("bytes", (v, path) => {
      if (!(v instanceof Uint8Array)) fail(path, "bytes", v);
      if (v.byteLength > maxLength) throw new SchemaError(path, `${v.byteLength} bytes exceeds ${maxLength}`);
      return v;
    });
  },
  array<T>(item: Schema<T>, opts: { maxLength?: number } = {}): Schema<T[]> {
    const { maxLength = 1 << 24 } = opts;
    return make(`${item.describe}[]`, (v, path) => {
      if (!Array.isArray(v)) fail(path, "array", v);
      if (v.length > maxLength) throw new SchemaError(path, `array of ${v.length} exceeds ${maxLength} items`);
      for (let i = 0; i < v.length; i++) item.parse(v[i], `${path}[${i}]`);
      return v as T[];
    });
  },
  record<T>(value: Schema<T>): Schema<Record<string, T>> {
    return make(`record of ${value.describe}`, (v, path) => {
      if (typeof v !== "object" || v === null || Array.isArray(v) || isWireTensor(v) || v instanceof Uint8Array) {
        fail(path, "object", v);
      }
      for (const [k, x] of Object.entries(v)) value.parse(x, `${path}.${k}`);
      return v as Record<string, T>;
    });
  },
  optional<T>(inner: Schema<T>): OptionalSchema<T> {
    return {
      describe: `${inner.describe}?`,
      optional: true,
      parse: (v, path = "body") => (v === undefined || v === null ? undefined : inner.parse(v, path)),
    };
  },
  object<S extends Record<string, Schema<unknown>>>(shape: S): Schema<Simplify<ObjectOut<S>>> {
    const entries = Object.entries(shape);
    return make("object", (v, path) => {
      if (typeof v !== "object" || v === null || Array.isArray(v) || isWireTensor(v) || v instanceof Uint8Array) {
        fail(path, "object", v);
      }
      const o = v as Record<string, unknown>;
      for (const [k, s] of entries) s.parse(o[k], `${path}.${k}`);
      return v as Simplify<ObjectOut<S>>;
    });
  },
  /** A discriminated union on `key`: each variant is an object schema with a literal at `key`. */
  union<K extends string, V extends Record<string, Schema<object>>>(
    key: K,
    variants: V,
  ): Schema<{ [N in keyof V]: Infer<V[N]> & { [P in K]: N } }[keyof V]> {
    return make(`union on ${key}`, (v, path) => {
      if (typeof v !== "object" || v === null) fail(path, "object", v);
      const tag = (v as Record<string, unknown>)[key];
      const variant = typeof tag === "string" && Object.hasOwn(variants, tag) ? variants[tag] : undefined;
      if (!variant) {
        throw new SchemaError(`${path}.${key}`, `expected one of ${Object.keys(variants).join(", ")}, got ${JSON.stringify(tag)}`);
      }
      return variant.parse(v, path) as never;
    });
  },
  tensor(opts: TensorOptions = {}): Schema<WireTensor> {
    const { dtypes, rank, shape, allowNaN = false, maxBytes = Infinity } = opts;
    const describe = `${dtypes ? dtypes.join("|") : "any"} tensor`;
    return make(describe, (v, path) => {
      if (!isWireTensor(v)) fail(path, describe, v);
      if (dtypes && !dtypes.includes(v.dtype)) {
        throw new DtypeError(`${path}: dtype ${v.dtype} is not allowed here (expected ${dtypes.join(" or ")})`);
      }
      if (rank !== undefined && v.shape.length !== rank) {
        throw new SchemaError(path, `expected rank ${rank}, got shape [${v.shape.join(",")}]`);
      }
      if (shape) {
        const ok = shape.length === v.shape.length && shape.every((d, i) => d === -1 || d === v.shape[i]);
        if (!ok) throw new SchemaError(path, `expected shape [${shape.join(",")}], got [${v.shape.join(",")}]`);
      }
      if (v.data.byteLength > maxBytes) throw new SchemaError(path, `${v.data.byteLength} bytes exceeds ${maxBytes}`);
      if (!allowNaN && hasNaN(v)) throw new NaNError(path);
      return v;
    });
  },
} as const;
