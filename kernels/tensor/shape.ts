// Shape arithmetic shared by tensors and ops.

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function isContiguousLayout(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i]!;
  }
  return true;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** numpy broadcasting of two shapes, or null when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/** Strides that read a contiguous tensor of `shape` as if broadcast to `target` (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = contiguousStrides(shape);
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[lead + i] = shape[i] === 1 ? 0 : own[i]!;
  return out;
}

/** True when `suffix` equals the trailing dimensions of `shape`. */
export function isSuffix(suffix: Shape, shape: Shape): boolean {
  if (suffix.length > shape.length) return false;
  const lead = shape.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (suffix[i] !== shape[lead + i]) return false;
  return true;
}
