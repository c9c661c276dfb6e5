// The multi-host rig for tests: N network namespaces with shaped links and their own CPU sets
// (hosts/rig), plus a real nats-server every namespace reaches. Needs root: tests say so and
// skip when not root, except under CI (which runs as root), where they run and fail loudly.
//
//   test("…", { skip: rigSkip() }, async () => {
//     await using rig = await startRig({ hosts: 2, rate: "1gbit" });
//     const p = rig.node(0, script, [args]);  await p.line((l) => l.ready);
//   });
//
// Namespaces go away on dispose (also when the test throws), on exit and on SIGINT/SIGTERM;
// startRig() first sweeps what a SIGKILLed earlier run left behind.
import { type ChildProcess } from "node:child_process";
import { type Rig, type RigOptions, canBuildRig, createRig, sweepRigs } from "../../hosts/mod.js";
import { check } from "./check.js";
import { inCI } from "./needs.js";
import { type TestNats, startNats } from "./nats.js";

/** A skip reason when this process cannot build a rig, false when it can (or must: CI). */
export function rigSkip(): string | false {
  if (canBuildRig()) return false;
  if (inCI()) return false; // CI runs as root; not being root there is a failure to see
  return "needs root (network namespaces, veth pairs, tc); run the tests as root, as CI does";
}

export interface RigProcess {
  readonly child: ChildProcess;
  /** every JSON line printed so far */
  readonly lines: Record<string, unknown>[];
  /** stdout and stderr so far (for failure messages) */
  output(): string;
  /** waits for a JSON line matching `pred` */
  line(pred: (l: Record<string, unknown>) => boolean, what?: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** resolves with the exit code (or the signal) */
  readonly exited: Promise<number | string>;
}

export interface TestRig extends Rig {
  readonly nats: TestNats;
  /** runs `node script args` in host i (pinned), collecting its JSON lines */
  node(host: number, script: string, args?: readonly string[], env?: NodeJS.ProcessEnv): RigProcess;
}

export async function startRig(o: RigOptions): Promise<TestRig> {
  sweepRigs();
  const rig = createRig(o);
  let nats: TestNats;
  try {
    nats = await startNats({ host: rig.natsAddress });
  } catch (err) {
    rig.destroy();
    throw err;
  }
  const children: ChildProcess[] = [];
  const node = (host: number, script: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): RigProcess => {
    const child = rig.spawn(host, process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    let out = "";
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const l = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (l.startsWith("{")) {
          try {
            lines.push(JSON.parse(l) as Record<string, unknown>);
          } catch {
            // not JSON after all
          }
        }
      }
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | string>((r) => child.once("exit", (code, signal) => r(code ?? signal ?? -1)));
    let done = false;
    void exited.then(() => (done = true));
    return {
      child, lines, exited,
      output: () => out.slice(-4000),
      line: (pred, what = "a line", timeoutMs = 60_000) =>
        check(() => {
          const l = lines.find(pred);
          if (!l && done) throw new Error(`the process exited without ${what}:\n${out.slice(-3000)}`);
          return l;
        }, { what, timeoutMs }) as Promise<Record<string, unknown>>,
    };
  };
  const stop = async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await nats.stop();
    rig.destroy();
  };
  return Object.assign(Object.create(rig) as Rig, {
    nats, node,
    destroy: () => void stop(),
    [Symbol.asyncDispose]: stop,
  }) as TestRig;
}
