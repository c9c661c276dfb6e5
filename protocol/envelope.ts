// The envelope every message travels in, on every plane.
import { MalformedMessageError, VersionMismatchError } from "./errors.js";
import { randomBytes } from "node:crypto";

/** Bump when the envelope or the tensor extension changes incompatibly. */
export const PROTOCOL_VERSION = 1;

export interface Envelope<B = unknown> {
  /** protocol version; a receiver refuses any other with VersionMismatchError */
  readonly v: number;
  /** message kind, which selects the body schema ("sys.ping", "demo.square", ...) */
  readonly kind: string;
  /** run id */
  readonly run: string;
  /** sender address (`troupe.<run>.<role>.<id>` for actors) */
  readonly from: string;
  /** per-sender sequence number, starting at 1 */
  readonly seq: number;
  /** trace id, shared by a request, its replies and the calls made while handling it */
  readonly trace: string;
  /** sender's wall clock, milliseconds since the epoch */
  readonly ts: number;
  readonly body: B;
}

const MAX_KIND = 128;
const MAX_ADDR = 256;
const MAX_TRACE = 64;

// A random per-process prefix and a counter: unique across processes for practical purposes,
// and ~50× cheaper than drawing 8 random bytes per request.
const tracePrefix = randomBytes(4).toString("hex");
let traceCounter = 0;

/** 16 hex characters; cheap enough to make one per request. */
export function newTraceId(): string {
  traceCounter = (traceCounter + 1) >>> 0;
  return tracePrefix + traceCounter.toString(16).padStart(8, "0");
}

/**
 * Checks the envelope fields of a decoded value. The version is checked first so that a
 * message from a newer build is reported as a version mismatch, not as malformed.
 */
export function checkEnvelope(value: unknown): Envelope {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedMessageError(`expected an envelope object, got ${value === null ? "null" : typeof value}`);
  }
  const e = value as Record<string, unknown>;
  if (e.v !== PROTOCOL_VERSION) throw new VersionMismatchError(e.v, PROTOCOL_VERSION);
  const { kind, run, from, seq, trace, ts } = e;
  if (typeof kind !== "string" || kind.length === 0 || kind.length > MAX_KIND) {
    throw new MalformedMessageError(`envelope kind must be a string of 1-${MAX_KIND} characters`);
  }
  if (typeof run !== "string" || run.length === 0 || run.length > 64) {
    throw new MalformedMessageError(`envelope run must be a string of 1-64 characters`);
  }
  if (typeof from !== "string" || from.length > MAX_ADDR) {
    throw new MalformedMessageError(`envelope from must be a string of at most ${MAX_ADDR} characters`);
  }
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
    throw new MalformedMessageError(`envelope seq must be a non-negative integer`);
  }
  if (typeof trace !== "string" || trace.length > MAX_TRACE) {
    throw new MalformedMessageError(`envelope trace must be a string of at most ${MAX_TRACE} characters`);
  }
  if (typeof ts !== "number" || !Number.isFinite(ts)) {
    throw new MalformedMessageError(`envelope ts must be a finite number`);
  }
  if (!("body" in e)) throw new MalformedMessageError(`envelope has no body`);
  return e as unknown as Envelope;
}

/** Stamps outgoing envelopes for one sender: version, run, address, sequence, clock. */
export interface Stamper {
  readonly run: string;
  readonly from: string;
  stamp<B>(kind: string, body: B, trace?: string): Envelope<B>;
}

export function createStamper(run: string, from: string, now: () => number = Date.now): Stamper {
  let seq = 0;
  return {
    run,
    from,
    stamp(kind, body, trace) {
      return { v: PROTOCOL_VERSION, kind, run, from, seq: ++seq, trace: trace ?? newTraceId(), ts: now(), body };
    },
  };
}
