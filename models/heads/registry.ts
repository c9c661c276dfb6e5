// The AGP heads by kind, so a saved set rebuilds itself and a new kind plugs in without
// touching the callers: route, vitality, semantic (ClassifierHead), depth (DepthResidual),
// transfer (TransferAdapter). A head set is a Map keyed "<kind>.<layer>"; its file is a
// safetensors with metadata { magic: "troupe-heads", version, specs } and tensors
// "<kind>.<layer>.<param>".
import { type Module, type Tensor, createRng, parseSafetensors, serializeSafetensors } from "../../kernels/mod.js";
import { AdapterError, ModelConfigError } from "../errors.js";
import { ClassifierHead, type ClassifierSpec } from "./classifier.js";
import { DepthResidual, type DepthSpec } from "./depth.js";
import { TransferAdapter, type TransferSpec } from "./transfer.js";

export type HeadSpec = ClassifierSpec | DepthSpec | TransferSpec;
export type HeadKind = HeadSpec["kind"];
export type Head = Module & { readonly spec: HeadSpec };
export type HeadSet = Map<string, Head>;

export const HEADS_MAGIC = "troupe-heads";
export const HEADS_VERSION = 1;

type Factory = (spec: HeadSpec, seed: number) => Head;
const factories = new Map<string, Factory>([
  ["route", (s, seed) => new ClassifierHead(s as ClassifierSpec, createRng(seed))],
  ["vitality", (s, seed) => new ClassifierHead(s as ClassifierSpec, createRng(seed))],
  ["semantic", (s, seed) => new ClassifierHead(s as ClassifierSpec, createRng(seed))],
  ["depth", (s, seed) => new DepthResidual(s as DepthSpec, createRng(seed))],
  ["transfer", (s, seed) => new TransferAdapter(s as TransferSpec, createRng(seed))],
]);

/** Adds a head kind (its spec must carry `kind` and `layer`). */
export function registerHeadKind(kind: string, factory: Factory): void {
  if (factories.has(kind)) throw new ModelConfigError("heads.kind", `head kind ${JSON.stringify(kind)} is registered already`);
  factories.set(kind, factory);
}

export function headKinds(): string[] {
  return [...factories.keys()];
}

export const headKey = (kind: string, layer: number) => `${kind}.${layer}`;

/** A new head of `spec`, weights from `seed`. */
export function createHead<S extends HeadSpec>(spec: S, seed = 0): Head & { spec: S } {
  const f = factories.get(spec.kind);
  if (!f) throw new ModelConfigError("heads.kind", `unknown head kind ${JSON.stringify(spec.kind)}; known: ${headKinds().join(", ")}`);
  return f(spec, seed) as Head & { spec: S };
}

export function addHead(set: HeadSet, head: Head): HeadSet {
  set.set(headKey(head.spec.kind, head.spec.layer), head);
  return set;
}

/** The head of a kind at a layer, or null. */
export function headAt<H extends Head = Head>(set: HeadSet, kind: HeadKind, layer: number): H | null {
  return (set.get(headKey(kind, layer)) as H | undefined) ?? null;
}

/** Every head of a kind, by ascending layer. */
export function headsOf<H extends Head = Head>(set: HeadSet, kind: HeadKind): H[] {
  return [...set.values()].filter((h) => h.spec.kind === kind).sort((a, b) => a.spec.layer - b.spec.layer) as H[];
}

/** Every parameter of the set, named "<kind>.<layer>.<param>". */
export function headParameters(set: HeadSet): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  for (const [key, h] of [...set.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) out.push(...h.namedParameters(`${key}.`));
  return out;
}

export function serializeHeads(set: HeadSet): Uint8Array {
  const specs = [...set.values()].map((h) => h.spec);
  return serializeSafetensors(headParameters(set), { magic: HEADS_MAGIC, version: String(HEADS_VERSION), specs: JSON.stringify(specs) });
}

export function parseHeads(bytes: Uint8Array, source = "<heads>"): HeadSet {
  const f = parseSafetensors(bytes, source);
  if (f.metadata.magic !== HEADS_MAGIC) throw new AdapterError(`${source}: this is not a troupe heads file (magic ${JSON.stringify(f.metadata.magic ?? null)})`);
  if (f.metadata.version !== String(HEADS_VERSION)) throw new AdapterError(`${source}: heads format version ${f.metadata.version}, this troupe reads version ${HEADS_VERSION}`);
  let specs: HeadSpec[];
  try {
    specs = JSON.parse(f.metadata.specs ?? "[]") as HeadSpec[];
  } catch (err) {
    throw new AdapterError(`${source}: the head specs are not JSON`, { cause: err });
  }
  const set: HeadSet = new Map();
  for (const spec of specs) {
    const head = createHead(spec);
    const key = headKey(spec.kind, spec.layer);
    const sd = new Map<string, Tensor>();
    for (const [n] of head.namedParameters()) {
      const t = f.tensors.get(`${key}.${n}`);
      if (!t) throw new AdapterError(`${source}: head ${key} has no tensor ${n}`);
      sd.set(n, t);
    }
    head.loadStateDict(sd);
    set.set(key, head);
  }
  return set;
}

/** Copies of parameter values (a rollback point). */
export function snapshotParams(params: readonly (readonly [string, Tensor])[]): Map<string, Float32Array> {
  return new Map(params.map(([n, t]) => [n, Float32Array.from(t.f32())]));
}

/** Puts snapshot values back into the same parameters. */
export function restoreParams(params: readonly (readonly [string, Tensor])[], snap: ReadonlyMap<string, Float32Array>): void {
  for (const [n, t] of params) {
    const v = snap.get(n);
    if (!v) throw new ModelConfigError("restore", `the snapshot has no parameter ${n}`);
    t.f32().set(v);
  }
}
