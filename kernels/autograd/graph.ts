// The autograd tape. Every op that runs with grad mode on and an input that requires grad
// records a node (op tag, inputs, backward closure defined next to its forward) with a
// sequence number. backward(loss) collects the nodes reachable from the loss and runs them in
// reverse sequence order — the tape played backwards — accumulating (+=) into gradients.
// Leaves (parameters) keep their .grad across backward calls, so micro-batches accumulate
// until zeroGrad; intermediate gradients live only during backward (inside a workspace run,
// each one's buffer serves the pass's later allocations once its node has run). Graphs nobody
// holds are garbage-collected like any object, so a forgotten forward pass leaks nothing.
import { AutogradError } from "../errors.js";
import { alloc, outsideWorkspace, recycle } from "../tensor/arena.js";
import { formatShape } from "../tensor/shape.js";
import { type GradNode, type Tensor, TensorImpl, newTensor } from "../tensor/tensor.js";

let gradEnabled = true;
let seq = 0;

class Node implements GradNode {
  released = false;
  constructor(
    readonly op: string,
    readonly inputs: readonly TensorImpl[],
    readonly seq: number,
    readonly out: TensorImpl,
    private fn: ((g: TensorImpl) => void) | null,
  ) {}

  backward(gradOut: Tensor): void {
    if (this.released || !this.fn) {
      throw new AutogradError(`backward: the graph through "${this.op}" was already used by a backward pass (pass { retainGraph: true } to the first one)`);
    }
    this.fn(gradOut as TensorImpl);
  }

  release(): void {
    this.released = true;
    this.fn = null;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording (inference, teacher forward passes, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

/** Runs fn with recording on (inside a noGrad region). */
export function enableGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

/** True when an op on these inputs would be recorded. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Records `out` as produced by `op` from `inputs` when grad mode is on and an input requires
 * grad; `backward` receives the output's gradient and accumulates into gradOf(input) for each
 * input that requires grad. Returns out.
 */
export function record<T extends Tensor>(op: string, inputs: readonly (Tensor | null | undefined)[], out: T, backward: (gradOut: TensorImpl) => void): T {
  if (!gradEnabled) return out;
  const ins: TensorImpl[] = [];
  let any = false;
  for (const t of inputs) {
    if (!t) continue;
    ins.push(t as TensorImpl);
    if (t.requiresGrad) any = true;
  }
  if (!any) return out;
  const o = out as unknown as TensorImpl;
  o.requiresGrad = true;
  o.node = new Node(op, ins, ++seq, o, backward);
  return out;
}

/**
 * The gradient buffer of t during backward, created zero-filled on first use: persistent for
 * leaves (their .grad), from the active workspace for intermediates. Accumulate into it.
 */
export function gradOf(t: Tensor): TensorImpl {
  const ti = t as TensorImpl;
  if (ti.grad) return ti.grad;
  if (!ti.isContiguous) {
    throw new AutogradError(`backward: a gradient for the strided view ${formatShape(ti.shape)} was requested; views record their own backward`);
  }
  ti.grad = ti.node === null ? outsideWorkspace(() => newTensor(ti.dtype, ti.shape)) : alloc(ti.dtype, ti.shape, true);
  return ti.grad;
}

/**
 * The gradient buffer of t for a backward kernel that can overwrite as well as accumulate (a
 * GEMM with beta): `fresh` means the buffer is new and unzeroed, and the caller must write
 * every element of it (overwrite); otherwise accumulate into it as with gradOf.
 */
export function gradSlot(t: Tensor): { grad: TensorImpl; fresh: boolean } {
  const ti = t as TensorImpl;
  if (ti.grad || ti.node === null || !ti.isContiguous) return { grad: gradOf(ti), fresh: false };
  ti.grad = alloc(ti.dtype, ti.shape, false);
  return { grad: ti.grad, fresh: true };
}

/**
 * For backward closures whose input gradient equals the output's (the a of a + b): when x is
 * an intermediate without a gradient yet, its gradient becomes gradOut's buffer itself (no
 * zero-fill, no accumulation) and this returns true. gradOut is never read again once its node
 * has run, so sharing it is safe; leaves never share (their .grad persists).
 */
export function donateGrad(x: Tensor, gradOut: Tensor): boolean {
  const xi = x as TensorImpl;
  const g = gradOut as TensorImpl;
  if (!xi.requiresGrad || xi.grad || xi.node === null || !xi.isContiguous || xi.size !== g.size || xi.dtype !== g.dtype) return false;
  xi.grad = xi.shape.length === g.shape.length && xi.shape.every((d, i) => d === g.shape[i])
    ? g
    : new TensorImpl(g.dtype, xi.shape, g.data);
  return true;
}

export interface BackwardOptions {
  /** The gradient of `root` (default: 1 for a one-element root). */
  readonly grad?: Tensor;
  /** Keep the graph so backward can run through it again. */
  readonly retainGraph?: boolean;
  /**
   * Called for each leaf that requires grad as soon as its gradient is final in this pass
   * (after the last node that uses it), so a data-parallel sync can start sending it while
   * backward goes on. Leaves the graph does not reach are not reported.
   */
  readonly onLeafGrad?: (leaf: Tensor) => void;
}

/** Accumulates d root / d leaf into every leaf's .grad that requires grad. */
export function backward(root: Tensor, options: BackwardOptions = {}): void {
  const r = root as TensorImpl;
  if (!(r instanceof TensorImpl)) throw new AutogradError("backward: expected a Tensor");
  if (!r.requiresGrad) {
    throw new AutogradError(`backward: the tensor ${formatShape(r.shape)} does not require grad (no input of its graph has requiresGrad, or it was computed under noGrad)`);
  }
  if (options.grad === undefined && r.size !== 1) {
    throw new AutogradError(`backward: the tensor has shape ${formatShape(r.shape)}; pass { grad } for a tensor with more than one element`);
  }
  const nodes = collect(r);
  // the seed gradient
  const seed = gradOf(r);
  if (options.grad !== undefined) {
    const g = options.grad as TensorImpl;
    if (g.size !== r.size || g.dtype !== r.dtype) {
      throw new AutogradError(`backward: { grad } has ${g.dtype} ${formatShape(g.shape)}, expected ${r.dtype} ${formatShape(r.shape)}`);
    }
    const d = seed.data as Float32Array;
    const s = g.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i]! += s[i]!;
  } else {
    (seed.data as Float32Array)[0]! += 1;
  }
  // for onLeafGrad: the last node (lowest seq) that reads each leaf
  const hook = options.onLeafGrad;
  let lastUse: Map<TensorImpl, number> | null = null;
  if (hook) {
    lastUse = new Map();
    for (const node of nodes) {
      for (const x of node.inputs) if (x.requiresGrad && x.node === null) lastUse.set(x, Math.min(lastUse.get(x) ?? Infinity, node.seq));
    }
  }
  try {
    for (const node of nodes) {
      const g = node.out.grad;
      if (g) {
        node.backward(g);
        // g is read by no node still to run (they all come earlier on the tape): its buffer
        // serves the pass's later allocations, unless an input took it over (donateGrad)
        if (!node.inputs.some((x) => x.grad !== null && x.grad.data === g.data)) {
          node.out.grad = null;
          recycle(g);
        }
      }
      if (lastUse) for (const x of node.inputs) if (lastUse.get(x) === node.seq) { lastUse.delete(x); hook!(x); }
    }
  } finally {
    for (const node of nodes) {
      if (node.out.node !== null) node.out.grad = null; // intermediate gradients end here
      if (!options.retainGraph) node.release();
    }
  }
}

/** Nodes reachable from root, newest first (the tape in backward order). */
function collect(root: TensorImpl): Node[] {
  const seen = new Set<Node>();
  const stack: TensorImpl[] = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    const node = t.node as Node | null;
    if (!node || seen.has(node)) continue;
    seen.add(node);
    for (const x of node.inputs) if (x.requiresGrad && x.node) stack.push(x);
  }
  return [...seen].sort((a, b) => b.seq - a.seq);
}

/** A tensor that shares t's data but has no history (gradients stop here). */
export function detach(t: Tensor): Tensor {
  const ti = t as TensorImpl;
  return new TensorImpl(ti.dtype, ti.shape, ti.data, ti.strides, ti.offset);
}
