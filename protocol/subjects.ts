// NATS subjects and JetStream names used by troupe. One place, so every layer agrees.
//
//   troupe.<run>.<role>.<id>          an actor's address (call one, stream)
//   troupe.<run>.<role>._any          the role's queue group (choose one of a group)
//   troupe.<run>.<role>._all          every actor of a role (broadcast)
//   troupe.<run>._all                 every actor of the run (broadcast)
//   troupe.<run>._hb.<role>.<id>      heartbeats
//   troupe.<run>._sup.<host>          supervision events of one host's supervisor
//   troupe.<run>._wq.<kind>           durable work queue of a job kind (JetStream)
//   troupe.<run>._dlq.<kind>          its dead letters (JetStream)
//
// Tokens (run, role, id, host, kind) are [A-Za-z0-9_-]{1,64}; role, id and host may not start
// with "_", which is reserved for the runtime's own subjects above.
import { AddressError } from "./errors.js";

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
export const SUBJECT_ROOT = "troupe";

export type TokenKind = "run" | "role" | "id" | "host" | "kind";

export function checkToken(kind: TokenKind, value: string): string {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw new AddressError(`${kind} ${JSON.stringify(value)} must be 1-64 characters of A-Z a-z 0-9 _ -`);
  }
  if (kind !== "run" && kind !== "kind" && value.startsWith("_")) {
    throw new AddressError(`${kind} ${JSON.stringify(value)} may not start with "_" (reserved for the runtime)`);
  }
  return value;
}

export interface ActorRef {
  readonly run: string;
  readonly role: string;
  readonly id: string;
}

export function actorAddress(run: string, role: string, id: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}.${checkToken("role", role)}.${checkToken("id", id)}`;
}

/** Parses `troupe.<run>.<role>.<id>`; throws AddressError for anything else. */
export function parseAddress(address: string): ActorRef {
  const parts = address.split(".");
  if (parts.length !== 4 || parts[0] !== SUBJECT_ROOT) {
    throw new AddressError(`${JSON.stringify(address)} is not an actor address (troupe.<run>.<role>.<id>)`);
  }
  const [, run, role, id] = parts as [string, string, string, string];
  checkToken("run", run);
  checkToken("role", role);
  checkToken("id", id);
  return { run, role, id };
}

export function isActorAddress(address: string): boolean {
  try {
    parseAddress(address);
    return true;
  } catch {
    return false;
  }
}

export function groupSubject(run: string, role: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}.${checkToken("role", role)}._any`;
}
/** The queue group name the actors of a role share. */
export function groupQueue(role: string): string {
  return `troupe-${checkToken("role", role)}`;
}
export function roleBroadcastSubject(run: string, role: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}.${checkToken("role", role)}._all`;
}
export function runBroadcastSubject(run: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}._all`;
}
export function heartbeatSubject(run: string, role: string, id: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}._hb.${checkToken("role", role)}.${checkToken("id", id)}`;
}
export function heartbeatWildcard(run: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}._hb.>`;
}
export function supervisionSubject(run: string, host: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}._sup.${checkToken("host", host)}`;
}
export function supervisionWildcard(run: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}._sup.*`;
}
export function workSubject(run: string, kind: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}._wq.${checkToken("kind", kind)}`;
}
export function deadLetterSubject(run: string, kind: string): string {
  return `${SUBJECT_ROOT}.${checkToken("run", run)}._dlq.${checkToken("kind", kind)}`;
}

/** JetStream stream/bucket names allow no dots; tokens already exclude every other bad char. */
export function workStreamName(run: string, kind: string): string {
  return `TROUPE_${checkToken("run", run)}_WQ_${checkToken("kind", kind)}`;
}
export function deadLetterStreamName(run: string, kind: string): string {
  return `TROUPE_${checkToken("run", run)}_DLQ_${checkToken("kind", kind)}`;
}
export function bucketName(run: string, purpose: string): string {
  return `troupe_${checkToken("run", run)}_${checkToken("kind", purpose)}`;
}
