// Servers this process started are killed and their temp dirs removed when the process exits
// or is stopped by SIGINT/SIGTERM/SIGHUP, whoever else is listening. (If the process is
// SIGKILLed, setpriv --pdeathsig in the launcher makes the kernel stop the server instead.)

import { constants } from "node:os";

interface Cleanable {
  killSync(): void;
  cleanupSync(): void;
}

const live = new Set<Cleanable>();
let installed = false;
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function cleanAll(): void {
  for (const s of live) {
    try {
      s.killSync();
      s.cleanupSync();
    } catch {
      // best effort at exit
    }
  }
  live.clear();
}

/** While held, SIGINT leaves the servers running (the owner stops gracefully and closes them). */
let heldOnInterrupt = 0;

/**
 * Keeps this process's servers through SIGINT until the returned release is called: a command
 * that handles Ctrl-C itself (checkpoint, report, then close) needs its server for that.
 * SIGTERM, SIGHUP and exit still stop them.
 */
export function holdServersOnInterrupt(): () => void {
  heldOnInterrupt++;
  let released = false;
  return () => {
    if (!released) heldOnInterrupt--;
    released = true;
  };
}

function onSignal(signal: NodeJS.Signals): void {
  if (signal === "SIGINT" && heldOnInterrupt > 0) return;
  cleanAll();
  // If nobody else handles this signal, end the process as the shell would (128 + signal
  // number). process.exit runs the 'exit' handlers, so a supervisor still kills its children;
  // dying by the signal itself would skip them.
  if (process.listenerCount(signal) === 1) process.exit(128 + (constants.signals[signal] ?? 0));
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", cleanAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

export function trackServer(s: Cleanable): void {
  install();
  live.add(s);
}

export function untrackServer(s: Cleanable): void {
  live.delete(s);
}
