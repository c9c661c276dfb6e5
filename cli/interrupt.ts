// Ctrl-C for long commands (train, run): the first SIGINT asks the work to stop at the next safe
// point and keep what it has (a checkpoint of the last complete step); a second one exits at
// once with 130. `resumeCommand` spells the command line that continues.
import { ExitCode } from "./errors.js";

export interface Interrupt {
  readonly signal: AbortSignal;
  /** true once Ctrl-C was pressed */
  readonly interrupted: () => boolean;
  dispose(): void;
}

export function onInterrupt(what: string): Interrupt {
  const abort = new AbortController();
  let count = 0;
  const handler = () => {
    count++;
    if (count > 1) {
      process.stderr.write("\ntroupe: interrupted again: exiting now, without waiting for the checkpoint\n");
      process.exit(ExitCode.interrupted);
    }
    process.stderr.write(`\ntroupe: Ctrl-C: ${what} (Ctrl-C again to quit at once)\n`);
    abort.abort(new Error("SIGINT"));
  };
  process.on("SIGINT", handler);
  return { signal: abort.signal, interrupted: () => count > 0, dispose: () => process.off("SIGINT", handler) };
}

function quote(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

/** `troupe <the same arguments> --resume`, without --force (which would start over). */
export function resumeCommand(argv: readonly string[] = process.argv.slice(2)): string {
  const args = argv.filter((a) => a !== "--force");
  if (!args.includes("--resume")) args.push("--resume");
  return `troupe ${args.map(quote).join(" ")}`;
}
