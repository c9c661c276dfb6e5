// Workspaces: where ops put their outputs. Outside a workspace every op allocates a fresh
// array (garbage-collected as usual). Inside `ws.run(fn)` the i-th allocation of a run reuses
// the i-th tensor of the previous run when dtype and size match, so a training loop that
// repeats the same ops allocates nothing per step after the first one.
//
// Tensors made inside a run are recycled by the next run of the same workspace: copy (clone)
// anything that must outlive it. One workspace per loop shape (a train step, an eval step).
//
// Within a run, a buffer given back by `recycle` (backward does it with each intermediate
// gradient once its node has run) serves the next allocation of the same dtype and size, so a
// step holds the forward's tensors and only the gradients still in flight, not every gradient
// of the pass. The pattern repeats from step to step, so steady-state steps still allocate
// nothing.
import { ArgumentError } from "../errors.js";
import { native } from "../native/load.js";
import { type DType, allocArray } from "./dtype.js";
import { type Shape, numel } from "./shape.js";
import { TensorImpl } from "./tensor.js";

export interface Workspace {
  /** Runs fn with this workspace as the allocator; recycles the previous run's tensors. fn must be synchronous. */
  run<T>(fn: () => T): T;
  /** Bytes held by the workspace's tensors. */
  readonly bytes: number;
  /** Allocations served by the last (or current) run. */
  readonly allocations: number;
  /** Drops every recycled tensor (memory is freed by the GC). */
  clear(): void;
}

class WorkspaceImpl implements Workspace {
  private slots: TensorImpl[] = [];
  /** Slots taken in this run (allocations a recycled buffer did not serve). */
  private next = 0;
  private served = 0;
  private active = false;
  /** Buffers handed out in this run and not given back. */
  private lent = new Set<TensorImpl["data"]>();
  /** Buffers given back in this run, by dtype and size. */
  private free = new Map<string, TensorImpl["data"][]>();
  /** Allocations served by a recycled buffer in the last (or current) run. */
  recycled = 0;

  get bytes(): number {
    let b = 0;
    for (const t of this.slots) b += t.data.byteLength;
    return b;
  }

  get allocations(): number {
    return this.served;
  }

  run<T>(fn: () => T): T {
    if (this.active) {
      throw new ArgumentError({ op: "workspace.run", arg: "fn" }, "a workspace cannot run inside itself");
    }
    const outer = current;
    this.next = 0;
    this.served = 0;
    this.recycled = 0;
    this.lent.clear();
    this.free.clear();
    this.active = true;
    current = this;
    try {
      const result = fn();
      if (result instanceof Promise) {
        throw new ArgumentError({ op: "workspace.run", arg: "fn" }, "workspace.run needs a synchronous function (got a Promise)");
      }
      return result;
    } finally {
      current = outer;
      this.active = false;
      this.lent.clear();
      this.free.clear();
    }
  }

  clear(): void {
    this.slots = [];
    this.next = 0;
    this.lent.clear();
    this.free.clear();
  }

  /** Takes back a buffer this run handed out (true), for the run's later allocations. */
  recycle(t: TensorImpl): boolean {
    if (!this.active || !this.lent.delete(t.data)) return false;
    const key = `${t.dtype}:${t.data.length}`;
    const list = this.free.get(key);
    if (list) list.push(t.data);
    else this.free.set(key, [t.data]);
    return true;
  }

  /** Fills every recycled f32 tensor with NaN (tests: ops must write all of their outputs). */
  poison(): void {
    for (const t of this.slots) if (t.dtype === "f32") t.data.fill(NaN);
  }

  alloc(dtype: DType, shape: Shape, zero: boolean): TensorImpl {
    this.served++;
    const n = numel(shape);
    const back = this.free.size > 0 ? this.free.get(`${dtype}:${n}`)?.pop() : undefined;
    if (back) {
      this.recycled++;
      this.lent.add(back);
      const t = new TensorImpl(dtype, shape, back);
      if (zero) zeroArray(t.data as Float32Array);
      return t;
    }
    const i = this.next++;
    const cached = this.slots[i];
    let t: TensorImpl;
    if (cached && cached.dtype === dtype && cached.size === n) {
      t = cached.reuse(shape);
      if (zero) zeroArray(t.data as Float32Array);
    } else {
      t = new TensorImpl(dtype, shape, allocArray(dtype, n));
      this.slots[i] = t;
    }
    this.lent.add(t.data);
    return t;
  }
}

function zeroArray(data: Float32Array | Int32Array | Uint16Array): void {
  if (data instanceof Float32Array && data.length >= 1 << 16) native().fill(data, 0, data.length);
  else data.fill(0);
}

let current: WorkspaceImpl | null = null;

export function workspace(): Workspace {
  return new WorkspaceImpl();
}

/** Tests only: NaN into a workspace's recycled tensors before its next run. */
export function poisonWorkspace(ws: Workspace): void {
  (ws as WorkspaceImpl).poison();
}

/** The workspace ops allocate from right now, if any. */
export function currentWorkspace(): Workspace | null {
  return current;
}

/** An output tensor for an op: from the active workspace, else fresh. zero: filled with 0. */
export function alloc(dtype: DType, shape: Shape, zero = false): TensorImpl {
  if (current) return current.alloc(dtype, shape, zero);
  return new TensorImpl(dtype, shape, allocArray(dtype, numel(shape)));
}

/**
 * Gives t's buffer back to the active workspace for this run's later allocations, when that
 * workspace handed it out in this run (true); otherwise nothing happens (false). The caller
 * guarantees nothing reads or writes t (or another tensor on its buffer) afterwards.
 */
export function recycle(t: TensorImpl): boolean {
  return current ? current.recycle(t) : false;
}

/** Allocations the workspace served from recycled buffers in its last (or current) run (tests). */
export function recycledAllocations(ws: Workspace): number {
  return (ws as WorkspaceImpl).recycled;
}

/** Runs fn with no workspace (allocations are fresh and outlive any run). */
export function outsideWorkspace<T>(fn: () => T): T {
  const outer = current;
  current = null;
  try {
    return fn();
  } finally {
    current = outer;
  }
}
