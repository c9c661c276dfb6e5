// Errors of the hosts layer: the embedded nats-server, connections, the durable helpers
// (work queues, KV, Object Store), and the accelerator pools (worker and scheduler).

export const HostsErrorCode = {
  notOnPath: "NATS_NOT_ON_PATH",
  serverExited: "NATS_SERVER_EXITED",
  serverTimeout: "NATS_SERVER_TIMEOUT",
  connect: "NATS_CONNECT",
  casConflict: "KV_CAS_CONFLICT",
  integrity: "OBJECT_INTEGRITY",
  notFound: "NOT_FOUND",
  job: "JOB",
  rig: "RIG",
  rigNeedsRoot: "RIG_NEEDS_ROOT",
  linkClosed: "LINK_CLOSED",
  linkPeerDead: "LINK_PEER_DEAD",
  linkProtocol: "LINK_PROTOCOL",
  linkConnect: "LINK_CONNECT",
  group: "GROUP",
  poolRejected: "POOL_REJECTED",
  poolCall: "POOL_CALL",
  poolRequest: "POOL_REQUEST",
  poolDeadline: "POOL_DEADLINE",
  poolConfig: "POOL_CONFIG",
  poolStart: "POOL_START",
  unavailable: "NATS_UNAVAILABLE",
  fenced: "FENCED",
  hostNameTaken: "HOST_NAME_TAKEN",
  hostsMissing: "HOSTS_MISSING",
  placement: "PLACEMENT",
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
  /** the server address that was tried, as given */
  readonly url: string | undefined;
  constructor(message: string, options?: { cause?: unknown; url?: string }) {
    super(HostsErrorCode.connect, message, options);
    this.name = "NatsConnectError";
    this.url = options?.url;
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

/** The multi-host test rig could not build or tear down its namespaces, links or shaping. */
export class RigError extends HostsError {
  /** the command that failed and what it printed */
  readonly command: string;
  constructor(message: string, command = "", options?: { cause?: unknown }) {
    super(HostsErrorCode.rig, message, options);
    this.name = "RigError";
    this.command = command;
  }
}

/** The rig needs root (CAP_NET_ADMIN) for network namespaces, veth pairs and tc. */
export class RigNeedsRootError extends HostsError {
  constructor(what: string) {
    super(HostsErrorCode.rigNeedsRoot, `${what} needs root (CAP_NET_ADMIN: network namespaces, veth pairs, tc); run it as root or in CI`);
    this.name = "RigNeedsRootError";
  }
}

/** A link's bytes broke its protocol (bad magic, version, lengths, envelope or handshake). */
export class LinkProtocolError extends HostsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(HostsErrorCode.linkProtocol, message, options);
    this.name = "LinkProtocolError";
  }
}

/** The link was closed (by this side, or the peer's process ended and its kernel closed it). */
export class LinkClosedError extends HostsError {
  readonly peer: string;
  constructor(peer: string, why: string, options?: { cause?: unknown }) {
    super(HostsErrorCode.linkClosed, `link to ${peer} closed: ${why}`, options);
    this.name = "LinkClosedError";
    this.peer = peer;
  }
}

/** Nothing (not even a heartbeat) came from the peer for `silentMs`: its host is gone or hung. */
export class LinkPeerDeadError extends HostsError {
  readonly peer: string;
  readonly silentMs: number;
  constructor(peer: string, silentMs: number) {
    super(HostsErrorCode.linkPeerDead, `link peer ${peer} sent nothing for ${Math.round(silentMs)} ms (heartbeats stopped): declared dead`);
    this.name = "LinkPeerDeadError";
    this.peer = peer;
    this.silentMs = silentMs;
  }
}

/** A link could not be opened: no endpoint published in time, refused, or unreachable. */
export class LinkConnectError extends HostsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(HostsErrorCode.linkConnect, message, options);
    this.name = "LinkConnectError";
  }
}

/** A data-parallel group could not form or lost a member (the `cause` says which link). */
export class GroupError extends HostsError {
  /** ranks known to be gone (empty when unknown) */
  readonly lost: readonly number[];
  constructor(message: string, lost: readonly number[] = [], options?: { cause?: unknown }) {
    super(HostsErrorCode.group, message, options);
    this.name = "GroupError";
    this.lost = lost;
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
export function isRigError(err: unknown): err is RigError {
  return err instanceof RigError;
}
export function isRigNeedsRootError(err: unknown): err is RigNeedsRootError {
  return err instanceof RigNeedsRootError;
}
export function isLinkError(err: unknown): err is LinkProtocolError | LinkClosedError | LinkPeerDeadError | LinkConnectError {
  return err instanceof LinkProtocolError || err instanceof LinkClosedError || err instanceof LinkPeerDeadError || err instanceof LinkConnectError;
}
export function isLinkPeerDeadError(err: unknown): err is LinkPeerDeadError {
  return err instanceof LinkPeerDeadError;
}
export function isLinkClosedError(err: unknown): err is LinkClosedError {
  return err instanceof LinkClosedError;
}
export function isGroupError(err: unknown): err is GroupError {
  return err instanceof GroupError;
}

// ---- accelerator pools (hosts/pools) ------------------------------------------------------

/**
 * A pool worker refuses a request or a load: `reason` is one of the service's ErrorInfo reasons
 * (protocol/pool.ts PoolReason) and becomes the gRPC status code that goes with it; `details`
 * are the values involved (sent as ErrorInfo.metadata).
 */
export class PoolRejection extends HostsError {
  readonly reason: string;
  readonly details: Readonly<Record<string, string>>;
  constructor(reason: string, message: string, details: Record<string, string | number> = {}, options?: { cause?: unknown }) {
    super(HostsErrorCode.poolRejected, message, options);
    this.name = "PoolRejection";
    this.reason = reason;
    this.details = Object.fromEntries(Object.entries(details).map(([k, v]) => [k, String(v)]));
  }
}

/** A pool worker answered a call with a status other than OK (or the call never got an answer). */
export class PoolCallError extends HostsError {
  /** gRPC status code name: UNAVAILABLE, OUT_OF_RANGE, ... */
  readonly status: string;
  /** ErrorInfo.reason from the status details; null when the worker sent none. */
  readonly reason: string | null;
  readonly details: Readonly<Record<string, string>>;
  /** ErrorInfo.domain ("pool.troupe.dev" from a conforming worker); null when none was sent. */
  readonly domain: string | null;
  /** host:port of the worker */
  readonly worker: string;
  constructor(o: { status: string; reason: string | null; details?: Record<string, string>; domain?: string | null; worker: string; message: string }, options?: { cause?: unknown }) {
    super(HostsErrorCode.poolCall, `${o.worker}: ${o.status}${o.reason ? ` ${o.reason}` : ""}: ${o.message}`, options);
    this.name = "PoolCallError";
    this.status = o.status;
    this.reason = o.reason;
    this.details = o.details ?? {};
    this.domain = o.domain ?? null;
    this.worker = o.worker;
  }
}

/** The pool scheduler gave up on a request: not retryable, out of attempts, or no worker left. */
export class PoolRequestError extends HostsError {
  readonly attempts: number;
  /** the last worker error's status and reason, when there was one */
  readonly status: string | null;
  readonly reason: string | null;
  constructor(message: string, o: { attempts: number; status?: string | null; reason?: string | null }, options?: { cause?: unknown }) {
    super(HostsErrorCode.poolRequest, message, options);
    this.name = "PoolRequestError";
    this.attempts = o.attempts;
    this.status = o.status ?? null;
    this.reason = o.reason ?? null;
  }
}

/** A pool request was not answered within its deadline. */
export class PoolDeadlineError extends HostsError {
  readonly deadlineMs: number;
  constructor(deadlineMs: number, attempts: number, options?: { cause?: unknown }) {
    super(HostsErrorCode.poolDeadline, `no answer within the deadline of ${deadlineMs} ms (${attempts} attempt${attempts === 1 ? "" : "s"})`, options);
    this.name = "PoolDeadlineError";
    this.deadlineMs = deadlineMs;
  }
}

/** Bad pool settings: buckets, addresses, cores, options. */
export class PoolConfigError extends HostsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(HostsErrorCode.poolConfig, message, options);
    this.name = "PoolConfigError";
  }
}

/** A pool worker process could not be started (it exited, or never reported its port). */
export class PoolWorkerStartError extends HostsError {
  /** the last lines it printed on stderr */
  readonly log: string;
  constructor(message: string, log = "", options?: { cause?: unknown }) {
    super(HostsErrorCode.poolStart, log ? `${message}\n--- the worker said ---\n${log}` : message, options);
    this.name = "PoolWorkerStartError";
    this.log = log;
  }
}

export function isPoolRejection(err: unknown): err is PoolRejection {
  return err instanceof PoolRejection;
}
export function isPoolCallError(err: unknown): err is PoolCallError {
  return err instanceof PoolCallError;
}
export function isPoolRequestError(err: unknown): err is PoolRequestError {
  return err instanceof PoolRequestError;
}
export function isPoolDeadlineError(err: unknown): err is PoolDeadlineError {
  return err instanceof PoolDeadlineError;
}
export function isPoolConfigError(err: unknown): err is PoolConfigError {
  return err instanceof PoolConfigError;
}
export function isNatsUnavailableError(err: unknown): err is NatsUnavailableError {
  return err instanceof NatsUnavailableError;
}
export function isFencedError(err: unknown): err is FencedError {
  return err instanceof FencedError;
}

// ---- host registry and placement (hosts/registry, hosts/placement) ------------------------

/** Another live host agent already beats under this name. */
export class HostNameTakenError extends HostsError {
  readonly host: string;
  constructor(host: string, holder: string) {
    super(HostsErrorCode.hostNameTaken, `host name ${JSON.stringify(host)} is taken: ${holder} registered it and still heartbeats; give this agent another --name, or stop that one first`);
    this.name = "HostNameTakenError";
    this.host = host;
  }
}

/** The hosts a run needs did not all come up in time; `missing` says who and why. */
export class HostsMissingError extends HostsError {
  readonly missing: readonly { readonly host: string; readonly why: string }[];
  constructor(waitedMs: number, missing: readonly { readonly host: string; readonly why: string }[]) {
    const list = missing.map((m) => `${m.host} (${m.why})`).join(", ");
    super(HostsErrorCode.hostsMissing, `waited ${(waitedMs / 1000).toFixed(1)} s for the scenario's hosts; missing: ${list}. Start \`troupe host --nats URL --name NAME\` on each, or remove it from hosts:`);
    this.name = "HostsMissingError";
    this.missing = missing;
  }
}

/** Some actors have no host they may run on; `unplaced` says which and why not. */
export class PlacementError extends HostsError {
  readonly unplaced: readonly { readonly actor: string; readonly why: string }[];
  constructor(unplaced: readonly { readonly actor: string; readonly why: string }[]) {
    super(HostsErrorCode.placement, `cannot place ${unplaced.map((u) => `${u.actor}: ${u.why}`).join("; ")}`);
    this.name = "PlacementError";
    this.unplaced = unplaced;
  }
}

export function isHostNameTakenError(err: unknown): err is HostNameTakenError {
  return err instanceof HostNameTakenError;
}
export function isHostsMissingError(err: unknown): err is HostsMissingError {
  return err instanceof HostsMissingError;
}
export function isPlacementError(err: unknown): err is PlacementError {
  return err instanceof PlacementError;
}
