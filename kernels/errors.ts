// Errors of the kernels layer. Every public op validates its arguments in TypeScript before a
// native call and throws one of these, naming the op, the argument and the shapes involved.

export const KernelErrorCode = {
  shape: "KERNEL_SHAPE",
  dtype: "KERNEL_DTYPE",
  contiguity: "KERNEL_NOT_CONTIGUOUS",
  argument: "KERNEL_ARGUMENT",
  native: "KERNEL_NATIVE_LOAD",
  autograd: "KERNEL_AUTOGRAD",
  format: "KERNEL_FORMAT",
  allocation: "KERNEL_ALLOCATION",
  generator: "KERNEL_FIXTURE_GENERATOR",
} as const;
export type KernelErrorCode = (typeof KernelErrorCode)[keyof typeof KernelErrorCode];

/** Base class: every error thrown by kernels/ is a KernelError. */
export class KernelError extends Error {
  readonly code: KernelErrorCode = KernelErrorCode.argument;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KernelError";
  }
}

/** Details shared by argument errors: the op and the argument at fault. */
export interface ArgumentContext {
  readonly op: string;
  readonly arg: string;
}

/** A tensor's shape does not fit the op (`matmul: "b" has shape [3,4], expected [5,*]`). */
export class ShapeError extends KernelError {
  override readonly code = KernelErrorCode.shape;
  readonly op: string;
  readonly arg: string;
  constructor(ctx: ArgumentContext, message: string, options?: { cause?: unknown }) {
    super(`${ctx.op}: ${message}`, options);
    this.name = "ShapeError";
    this.op = ctx.op;
    this.arg = ctx.arg;
  }
}

/** A tensor has the wrong dtype (`layerNorm: "x" must be f32, got i32 [2,3]`). */
export class DTypeError extends KernelError {
  override readonly code = KernelErrorCode.dtype;
  readonly op: string;
  readonly arg: string;
  constructor(ctx: ArgumentContext, message: string, options?: { cause?: unknown }) {
    super(`${ctx.op}: ${message}`, options);
    this.name = "DTypeError";
    this.op = ctx.op;
    this.arg = ctx.arg;
  }
}

/** A strided view was passed where the op needs contiguous memory (call contiguous()). */
export class ContiguityError extends KernelError {
  override readonly code = KernelErrorCode.contiguity;
  readonly op: string;
  readonly arg: string;
  constructor(ctx: ArgumentContext, message: string, options?: { cause?: unknown }) {
    super(`${ctx.op}: ${message}`, options);
    this.name = "ContiguityError";
    this.op = ctx.op;
    this.arg = ctx.arg;
  }
}

/** A scalar or option is out of range (`Expected "eps" to be a positive number, got -1`). */
export class ArgumentError extends KernelError {
  override readonly code = KernelErrorCode.argument;
  readonly op: string;
  readonly arg: string;
  constructor(ctx: ArgumentContext, message: string, options?: { cause?: unknown }) {
    super(`${ctx.op}: ${message}`, options);
    this.name = "ArgumentError";
    this.op = ctx.op;
    this.arg = ctx.arg;
  }
}

/** The native addon could not be loaded; the message lists the possible fixes. */
export class NativeLoadError extends KernelError {
  override readonly code = KernelErrorCode.native;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NativeLoadError";
  }
}

/** Misuse of the autograd tape (backward twice, backward of a non-scalar without a gradient). */
export class AutogradError extends KernelError {
  override readonly code = KernelErrorCode.autograd;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AutogradError";
  }
}

/** A file (safetensors, reference fixture) is malformed or of an unsupported version. */
export class FormatError extends KernelError {
  override readonly code = KernelErrorCode.format;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FormatError";
  }
}

/**
 * A kernel could not get the memory it needs (scratch for attention or GEMM packing, a
 * reference kernel's buffers): nothing crashed and the outputs were not written. Free memory
 * (smaller batch or sequence, fewer threads) and retry. Thrown by the native binding.
 */
export class KernelAllocationError extends KernelError {
  override readonly code = KernelErrorCode.allocation;
  /** The bytes asked for (0 when unknown). */
  readonly bytes: number;
  constructor(message: string, bytes = 0, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KernelAllocationError";
    this.bytes = bytes;
  }
}

/** The PyTorch fixture generator could not run or stopped early (verify --sweep). */
export class GeneratorError extends KernelError {
  override readonly code = KernelErrorCode.generator;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GeneratorError";
  }
}

export function isKernelError(err: unknown): err is KernelError {
  return err instanceof KernelError;
}
export function isShapeError(err: unknown): err is ShapeError {
  return err instanceof ShapeError;
}
export function isDTypeError(err: unknown): err is DTypeError {
  return err instanceof DTypeError;
}
export function isContiguityError(err: unknown): err is ContiguityError {
  return err instanceof ContiguityError;
}
export function isArgumentError(err: unknown): err is ArgumentError {
  return err instanceof ArgumentError;
}
export function isNativeLoadError(err: unknown): err is NativeLoadError {
  return err instanceof NativeLoadError;
}
export function isAutogradError(err: unknown): err is AutogradError {
  return err instanceof AutogradError;
}
export function isFormatError(err: unknown): err is FormatError {
  return err instanceof FormatError;
}
export function isKernelAllocationError(err: unknown): err is KernelAllocationError {
  return err instanceof KernelAllocationError;
}
export function isGeneratorError(err: unknown): err is GeneratorError {
  return err instanceof GeneratorError;
}
