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
  rig: "RIG",
  rigNeedsRoot: "RIG_NEEDS_ROOT",
  linkClosed: "LINK_CLOSED",
  linkPeerDead: "LINK_PEER_DEAD",
  linkProtocol: "LINK_PROTOCOL",
  linkConnect: "LINK_CONNECT",
  group: "GROUP",
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
