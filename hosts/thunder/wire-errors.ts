// Errors crossing from the ring's worker thread to the main thread (structured clone keeps
// neither the class nor the cause): a plain record, and back to a GroupError whose cause names
// the link error behind it, so `isGroupError`, `err.lost` and the message survive the trip.
import { GroupError, LinkClosedError, LinkConnectError, LinkPeerDeadError, LinkProtocolError } from "../errors.js";

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly lost?: readonly number[];
  readonly cause?: WireError;
}

export function toWire(err: unknown, depth = 0): WireError {
  const e = err as { name?: unknown; message?: unknown; code?: unknown; lost?: unknown; cause?: unknown } | null;
  const out: { -readonly [K in keyof WireError]: WireError[K] } = {
    name: typeof e?.name === "string" ? e.name : "Error",
    message: typeof e?.message === "string" ? e.message : String(err),
  };
  if (typeof e?.code === "string") out.code = e.code;
  if (Array.isArray(e?.lost)) out.lost = e.lost.filter((x): x is number => Number.isInteger(x));
  if (e?.cause !== undefined && depth < 3) out.cause = toWire(e.cause, depth + 1);
  return out;
}

function rebuild(w: WireError): Error {
  const cause = w.cause ? rebuild(w.cause) : undefined;
  switch (w.name) {
    case "GroupError":
      return new GroupError(w.message, w.lost ?? [], { cause });
    case "LinkProtocolError":
      return new LinkProtocolError(w.message, { cause });
    case "LinkConnectError":
      return new LinkConnectError(w.message, { cause });
    case "LinkClosedError":
    case "LinkPeerDeadError": {
      const err = Object.create((w.name === "LinkClosedError" ? LinkClosedError : LinkPeerDeadError).prototype) as Error;
      Object.assign(err, { name: w.name, message: w.message, code: w.code, cause, stack: `${w.name}: ${w.message}` });
      return err;
    }
    default:
      return Object.assign(new Error(w.message, { cause }), { name: w.name, ...(w.code ? { code: w.code } : {}) });
  }
}

/** The error as the main thread sees it: always a GroupError (wrapping anything else). */
export function fromWire(w: WireError): GroupError {
  const e = rebuild(w);
  return e instanceof GroupError ? e : new GroupError(e.message, w.lost ?? [], { cause: e });
}
