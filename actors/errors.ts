// Errors of the actors layer: failed calls, bad actor definitions, and supervision.
export const ActorErrorCode = {
  callTimeout: "CALL_TIMEOUT",
  noResponder: "NO_RESPONDER",
  remote: "REMOTE",
  definition: "DEFINITION",
  config: "CONFIG",
  escalated: "ESCALATED",
  stopped: "STOPPED",
  agentStart: "AGENT_START",
  transferRefused: "TRANSFER_REFUSED",
} as const;
export type ActorErrorCode = (typeof ActorErrorCode)[keyof typeof ActorErrorCode];

export class ActorError extends Error {
  readonly code: ActorErrorCode;
  constructor(code: ActorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ActorError";
    this.code = code;
  }
}

/** No reply (or no next stream item) arrived in time. The receiver may still have acted. */
export class CallTimeoutError extends ActorError {
  constructor(to: string, kind: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(ActorErrorCode.callTimeout, `no reply from ${to} to ${kind} within ${timeoutMs} ms`, options);
    this.name = "CallTimeoutError";
  }
}

/** Nobody subscribes to the address: the actor is not running (or not yet, or restarting). */
export class NoResponderError extends ActorError {
  constructor(to: string, kind: string, options?: { cause?: unknown }) {
    super(ActorErrorCode.noResponder, `nobody is listening on ${to} for ${kind}; is the actor running?`, options);
    this.name = "NoResponderError";
  }
}

/** The receiver answered with an error: its handler threw, or it refused the message. */
export class RemoteError extends ActorError {
  /** the remote error's own code, e.g. "SCHEMA" when the receiver refused the body */
  readonly remoteCode: string;
  readonly remoteName: string;
  constructor(to: string, kind: string, remote: { name: string; code: string; message: string }) {
    super(ActorErrorCode.remote, `${to} answered ${kind} with ${remote.name} [${remote.code}]: ${remote.message}`);
    this.name = "RemoteError";
    this.remoteCode = remote.code;
    this.remoteName = remote.name;
  }
}

export class ActorDefinitionError extends ActorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ActorErrorCode.definition, message, options);
    this.name = "ActorDefinitionError";
  }
}

export class ActorConfigError extends ActorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ActorErrorCode.config, message, options);
    this.name = "ActorConfigError";
  }
}

/** A supervisor exceeded its restart intensity and gave up; its owner decides what next. */
export class SupervisorEscalation extends ActorError {
  readonly role: string;
  readonly id: string;
  constructor(role: string, id: string, restarts: number, withinMs: number) {
    super(
      ActorErrorCode.escalated,
      `${role}/${id} failed ${restarts} times within ${withinMs} ms; the supervisor stopped its children and escalates`,
    );
    this.name = "SupervisorEscalation";
    this.role = role;
    this.id = id;
  }
}

export class ActorStoppedError extends ActorError {
  constructor(message: string) {
    super(ActorErrorCode.stopped, message);
    this.name = "ActorStoppedError";
  }
}

/** A host agent process did not come up (it exited, or did not register in time). */
export class AgentStartError extends ActorError {
  /** its last stderr lines */
  readonly log: string;
  constructor(message: string, log: string) {
    super(ActorErrorCode.agentStart, log ? `${message}; its last lines:\n${log}` : message);
    this.name = "AgentStartError";
    this.log = log;
  }
}

export function isActorError(err: unknown): err is ActorError {
  return err instanceof ActorError;
}
export function isCallTimeoutError(err: unknown): err is CallTimeoutError {
  return err instanceof CallTimeoutError;
}
export function isNoResponderError(err: unknown): err is NoResponderError {
  return err instanceof NoResponderError;
}
export function isRemoteError(err: unknown): err is RemoteError {
  return err instanceof RemoteError;
}
export function isSupervisorEscalation(err: unknown): err is SupervisorEscalation {
  return err instanceof SupervisorEscalation;
}
export function isActorConfigError(err: unknown): err is ActorConfigError {
  return err instanceof ActorConfigError;
}
export function isAgentStartError(err: unknown): err is AgentStartError {
  return err instanceof AgentStartError;
}

/** A transfer decoder on another host refused a packet that came over a link (its receiver's reason: crc, magic, shape, …). */
export class TransferRefusedError extends ActorError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(ActorErrorCode.transferRefused, message);
    this.name = "TransferRefusedError";
    this.reason = reason;
  }
}
