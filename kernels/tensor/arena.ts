// Workspaces: where ops put their outputs. Outside a workspace every op allocates a fresh
// array (garbage-collected as usual). Inside `ws.run(fn)` the i-th allocation of a run reuses
// the i-th tensor of the previous run when dtype and size match, so a training loop that
// repeats the same ops allocates nothing per step after the first one.
//
// Tensors made inside a run are recycled by the next run of the same workspace: copy (clone)
// anything that must outlive it. One workspace per loop shape (a train step, an eval step).
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
  private next = 0;
  private active = false;

  get bytes(): number {
    let b = 0;
    for (const t of this.slots) b += t.data.byteLength;
    return b;
  }

  get allocations(): number {
    return this.next;
  }

  run<T>(fn: () => T): T {
    if (this.active) {
      throw new ArgumentError({ op: "workspace.run", arg: "fn" }, "a workspace cannot run inside itself");
    }
    const outer = current;
    this.next = 0;
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
    }
  }

  clear(): void {
    this.slots = [];
    this.next = 0;
  }

  /** Fills every recycled f32 tensor with NaN (tests: ops must write all of their outputs). */
  poison(): void {
    for (const t of this.slots) if (t.dtype === "f32") t.data.fill(NaN);
  }

  alloc(dtype: DType, shape: Shape, zero: boolean): TensorImpl {
    const i = this.next++;
    const n = numel(shape);
    const cached = this.slots[i];
    let t: TensorImpl;
    if (cached && cached.dtype === dtype && cached.size === n) {
      t = cached.reuse(shape);
      if (zero) zeroArray(t.data as Float32Array);
    } else {
      t = new TensorImpl(dtype, shape, allocArray(dtype, n));
      this.slots[i] = t;
    }
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
