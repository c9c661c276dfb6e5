// pino to stderr. One root logger per process; actors take a child with {run, host, actor}.
// Level: TROUPE_LOG_LEVEL (trace debug info warn error fatal silent); default info, or warn
// under the test runner (TROUPE_TEST=1) so test output stays readable.
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

let root: Logger | undefined;

function defaultLevel(): string {
  const env = process.env.TROUPE_LOG_LEVEL;
  if (env) return env;
  return process.env.TROUPE_TEST === "1" ? "warn" : "info";
}

/** The process-wide root logger (stderr, synchronous writes so a crash loses no line). */
export function rootLogger(): Logger {
  root ??= pino({ level: defaultLevel(), base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  return root;
}

export interface ActorLogFields {
  run: string;
  host: string;
  actor: string;
}

/** A child logger carrying the fields every line of one actor must have. */
export function actorLogger(fields: ActorLogFields): Logger {
  return rootLogger().child(fields);
}

/** A child logger for a component that is not an actor (launcher, supervisor, cli). */
export function componentLogger(component: string, fields: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...fields });
}
