// What the project's scripts share: a tagged log line on stderr, an error class of their
// own, and a command runner whose child output also goes to stderr (callers of
// `npm run troupe -- ... --json` parse stdout).
import { spawnSync } from "node:child_process";

/** An Error whose name says which script refused, e.g. SetupError. */
export function scriptError(name) {
  return class extends Error {
    constructor(message) { super(message); this.name = name; }
  };
}

/** `say(msg)` writes "[tag] msg"; `run(cmd, argv, opts)` logs "$ cmd argv" and returns the exit code. */
export function scriptTools(tag, cwd, ErrorClass) {
  const say = (msg) => process.stderr.write(`[${tag}] ${msg}\n`);
  const run = (cmd, argv, opts = {}) => {
    say(`$ ${cmd} ${argv.join(" ")}`);
    const r = spawnSync(cmd, argv, { cwd, stdio: ["ignore", 2, 2], ...opts });
    if (r.error) throw new ErrorClass(`${cmd} could not start: ${r.error.message}`);
    return r.status ?? 1;
  };
  return { say, run };
}
