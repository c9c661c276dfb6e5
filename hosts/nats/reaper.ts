// How the embedded nats-server is started so that nothing outlives its owner, even a kill -9:
// on Linux it runs under a small sh wrapper started with `setpriv --pdeathsig USR1`. When the
// owner dies without cleaning up, the kernel sends USR1 to the wrapper, which stops the server
// (SIGTERM, waiting for it) and then removes the server's temp dir and temp store itself.
// A SIGTERM from the owner (stop, restart) is passed on to the server and removes nothing — a
// restart keeps the store, and stop() cleans up in the owner. The wrapper leads its own
// process group, so a SIGKILL to the group (kill(), the owner's exit handler) takes both.
// Without setpriv (macOS) the server is started directly; a later launch sweeps temp dirs whose
// owner is gone (launcher.ts).
import { existsSync } from "node:fs";
import { join } from "node:path";

const WRAPPER = [
  'dir=$1; shift; orphan=; p=',
  'trap \'orphan=1; [ -n "$p" ] && kill -TERM "$p" 2>/dev/null\' USR1',
  'trap \'[ -n "$p" ] && kill -TERM "$p" 2>/dev/null\' TERM INT HUP',
  '"$@" & p=$!',
  '[ -n "$orphan" ] && kill -TERM "$p" 2>/dev/null',
  'st=0; while kill -0 "$p" 2>/dev/null; do wait "$p"; st=$?; done',
  '[ -n "$orphan" ] && [ -n "$dir" ] && rm -rf -- "$dir"',
  'exit $st',
].join("\n");

export interface ServerCommand {
  readonly cmd: string;
  readonly argv: string[];
  /** the child leads a process group: a SIGKILL goes to -pid */
  readonly group: boolean;
}

function findTool(name: string): string | null {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin"]) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

/**
 * The command that runs `bin args`: wrapped on Linux (removing `orphanDir` if the owner dies),
 * bare elsewhere.
 */
export function serverCommand(bin: string, args: readonly string[], orphanDir: string): ServerCommand {
  const setpriv = process.platform === "linux" ? findTool("setpriv") : null;
  const sh = findTool("sh");
  if (!setpriv || !sh) return { cmd: bin, argv: [...args], group: false };
  return { cmd: setpriv, argv: ["--pdeathsig", "USR1", "--", sh, "-c", WRAPPER, "troupe-nats", orphanDir, bin, ...args], group: true };
}
