#!/usr/bin/env node
// The multi-host rig by hand (root): network namespaces with shaped links and their own cores.
//   node scripts/rig.mjs up [--hosts 2] [--rate 10gbit|none] [--no-nats]
//        builds a rig and a nats-server on its control bridge, prints them as JSON, and keeps
//        them until Ctrl-C / SIGTERM (then removes everything)
//   node scripts/rig.mjs sweep      removes rigs whose owner process is gone (a SIGKILLed run)
// Run a command in host i with the prefix printed for it: ip netns exec <ns> taskset -c <cpus> …
// Tests use the same rig through tests/harness/rig.ts; see docs/hosts.md.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptError } from "./lib/run.mjs";

const RigScriptError = scriptError("RigScriptError");
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const mod = join(root, "dist", "hosts", "mod.js");
if (!existsSync(mod)) throw new RigScriptError(`${mod} is missing: run \`npm run build\` (or any npm command) first`);
const H = await import(mod);

const [cmd, ...rest] = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : fallback;
};

if (cmd === "sweep") {
  H.requireRoot("sweeping rigs");
  process.stdout.write(JSON.stringify(H.sweepRigs()) + "\n");
} else if (cmd === "up") {
  H.requireRoot("the rig");
  H.sweepRigs();
  const hosts = Number(arg("hosts", "2"));
  const rate = arg("rate", "10gbit");
  const rig = H.createRig({ hosts, rate: rate === "none" ? null : rate });
  const nats = rest.includes("--no-nats") ? null : await H.startNatsServer({ host: rig.natsAddress });
  process.stdout.write(JSON.stringify({
    id: rig.id, rate: rig.rate, nats: nats?.url ?? null,
    hosts: rig.hosts.map((h) => ({ ...h, prefix: rig.argv(h.index, "", []).slice(0, -1).join(" ") })),
  }, null, 2) + "\n");
  process.stderr.write("[rig] up; Ctrl-C removes it\n");
  const down = async () => {
    await nats?.stop();
    rig.destroy();
    process.exit(0);
  };
  process.on("SIGINT", down);
  process.on("SIGTERM", down);
  setInterval(() => {}, 1 << 30);
} else {
  process.stderr.write("usage: node scripts/rig.mjs up [--hosts N] [--rate 10gbit|none] [--no-nats] | sweep\n");
  process.exit(2);
}
