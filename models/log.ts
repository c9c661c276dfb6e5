// Structured logs of the models layer: pino, JSON lines on stderr. Level from TROUPE_LOG_LEVEL
// (default info; warn under the test runner, TROUPE_TEST=1). models/ must not import hosts/,
// so it keeps its own root with the same conventions as hosts/logger.ts.
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

let root: Logger | undefined;

function level(): string {
  return process.env.TROUPE_LOG_LEVEL ?? (process.env.TROUPE_TEST === "1" ? "warn" : "info");
}

/** A child logger `{ component }` of the layer's root logger (stderr, synchronous). */
export function modelsLogger(component: string): Logger {
  root ??= pino({ level: level(), base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  return root.child({ component });
}
