// Errors of the hosts layer: the embedded nats-server, connections, and the durable helpers
// (work queues, KV, Object Store).

export const HostsErrorCode = {
  notOnPath: "NATS_NOT_ON_PATH",
  serverExited: "NATS_SERVER_EXITED",
  serverTimeout: "NATS_SERVER_TIMEOUT",
  connect: "NATS_CONNECT",
  casConflict: "KV_CAS_CONFLICT",
  integrity: "OBJECT_INTEGRITY",
  notFound: "NOT_FOUND",
  job: "JOB",
  unavailable: "NATS_UNAVAILABLE",
  fenced: "FENCED",
} as const;
export type HostsErrorCode = (typeof HostsErrorCode)[keyof typeof HostsErrorCode];

export class HostsError extends Error {
  readonly code: HostsErrorCode;
  constructor(code: HostsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HostsError";
    this.code = code;
  }
}

/** nats-server could not be started (missing binary, bad config, port in use, no readiness). */
export class NatsServerError extends HostsError {
  /** the last lines the server printed, to say why */
  readonly log: string;
  constructor(code: HostsErrorCode, message: string, log = "", options?: { cause?: unknown }) {
    super(code, log ? `${message}\n--- nats-server said ---\n${log}` : message, options);
    this.name = "NatsServerError";
    this.log = log;
  }
}

export class NatsConnectError extends HostsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(HostsErrorCode.connect, message, options);
    this.name = "NatsConnectError";
  }
}

/** A compare-and-set lost: the key's revision is no longer the one the writer read. */
export class CasConflictError extends HostsError {
  readonly key: string;
  readonly expected: number;
  constructor(key: string, expected: number, options?: { cause?: unknown }) {
    super(HostsErrorCode.casConflict, `key ${JSON.stringify(key)} is no longer at revision ${expected}; read it again and retry`, options);
    this.name = "CasConflictError";
    this.key = key;
    this.expected = expected;
  }
}

/** Stored bytes do not match their recorded digest or size. */
export class ObjectIntegrityError extends HostsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(HostsErrorCode.integrity, message, options);
    this.name = "ObjectIntegrityError";
  }
}

export class NotFoundError extends HostsError {
  constructor(message: string) {
    super(HostsErrorCode.notFound, message);
    this.name = "NotFoundError";
  }
}

/**
 * Thrown by a job handler to say the job can never succeed (bad input, not a transient
 * failure): the job goes straight to the dead-letter stream without further attempts.
 */
export class PermanentJobError extends HostsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(HostsErrorCode.job, message, options);
    this.name = "PermanentJobError";
  }
}

/**
 * NATS did not answer an operation that was retried across reconnects until its deadline. The
 * operation may be retried later (the cause is transient by nature); it never means the data
 * is wrong.
 */
export class NatsUnavailableError extends HostsError {
  readonly what: string;
  readonly waitedMs: number;
  constructor(what: string, waitedMs: number, options?: { cause?: unknown }) {
    const last = options?.cause instanceof Error ? ` (last error: ${options.cause.name}: ${options.cause.message})` : "";
    super(HostsErrorCode.unavailable, `${what}: NATS did not answer for ${(waitedMs / 1000).toFixed(1)} s${last}; retry later`, options);
    this.name = "NatsUnavailableError";
    this.what = what;
    this.waitedMs = waitedMs;
  }
}

/**
 * A lease holder acted with an epoch that is no longer current: someone took the lease since
 * (see hosts/nats/lease.ts). The stale holder must stop acting for the leased thing.
 */
export class FencedError extends HostsError {
  readonly lease: string;
  readonly epoch: number;
  readonly current: number;
  readonly holder: string | null;
  constructor(lease: string, epoch: number, current: number, holder: string | null) {
    super(
      HostsErrorCode.fenced,
      `lease ${JSON.stringify(lease)}: epoch ${epoch} was superseded by epoch ${current}` + (holder ? ` (held by ${holder})` : "") +
        `; this holder must stop acting for it`,
    );
    this.name = "FencedError";
    this.lease = lease;
    this.epoch = epoch;
    this.current = current;
    this.holder = holder;
  }
}

export function isHostsError(err: unknown): err is HostsError {
  return err instanceof HostsError;
}
export function isNatsServerError(err: unknown): err is NatsServerError {
  return err instanceof NatsServerError;
}
export function isCasConflictError(err: unknown): err is CasConflictError {
  return err instanceof CasConflictError;
}
export function isObjectIntegrityError(err: unknown): err is ObjectIntegrityError {
  return err instanceof ObjectIntegrityError;
}
export function isPermanentJobError(err: unknown): err is PermanentJobError {
  return err instanceof PermanentJobError;
}
export function isNotFoundError(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}
export function isNatsUnavailableError(err: unknown): err is NatsUnavailableError {
  return err instanceof NatsUnavailableError;
}
export function isFencedError(err: unknown): err is FencedError {
  return err instanceof FencedError;
}
