// What a supervisor and its actor processes say to each other (Node IPC channel).

/** The spec an actor process reads from TROUPE_ACTOR_SPEC. */
export interface ChildSpecWire {
  run: string;
  role: string;
  id: string;
  host: string;
  /** absolute path or file: URL of the module that default-exports the actor definition */
  module: string;
  natsUrl: string;
  config: unknown;
  heartbeatMs: number;
  shutdownMs: number;
}

export type ChildMessage =
  | { type: "ready"; pid: number; address: string }
  | { type: "heartbeat" };

/** From the supervisor: stop gracefully, you are done (exit 0). */
export type ParentMessage = { type: "stop" };

/** Exit code of an actor process whose definition or config is wrong: restarting cannot help. */
export const EXIT_CONFIG = 78;
