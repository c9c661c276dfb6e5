// Entry point of a host agent process started by spawnHostAgent (process.ts):
// `node main.js '<AgentProcessSpec as JSON>'`. `troupe host` is the same thing with flags. Prints
// one JSON line when registered ({"registered":true,…}) and one when it has left; SIGTERM and
// SIGINT leave cleanly.
import { startHostAgent } from "./agent.js";
import type { AgentProcessSpec } from "./process.js";

let spec: AgentProcessSpec;
try {
  spec = JSON.parse(process.argv[2] ?? "") as AgentProcessSpec;
} catch {
  process.stderr.write("actors/agent/main.js takes the agent spec as JSON (it is started by spawnHostAgent); use `troupe host` by hand\n");
  process.exit(2);
}
try {
  const agent = await startHostAgent({
    natsUrl: spec.natsUrl, name: spec.name, tags: spec.tags ?? [], ...(spec.cores ? { cores: spec.cores } : {}),
    links: spec.links ?? [], beatMs: spec.beatMs ?? 1000, ...(spec.orphanMs ? { orphanMs: spec.orphanMs } : {}),
  });
  process.stdout.write(`${JSON.stringify({ host: agent.name, registered: true, instance: agent.instance, pid: process.pid })}\n`);
  for (const s of ["SIGTERM", "SIGINT"] as const) process.once(s, () => void agent.leave(s));
  await agent.done;
  process.stdout.write(`${JSON.stringify({ host: agent.name, left: true })}\n`);
} catch (err) {
  process.stderr.write(`the host agent failed to start: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
