// troupe chaos host-loss | nats-restart: two-host runs (scenarios/tiny-hosts.yaml unless
// --scenario says otherwise) on a cluster the drill starts itself — a nats-server and one
// `troupe host` agent process per host of the scenario — with one host's agent and actors
// killed -9 mid-step, or the nats-server killed -9 and restarted on its store during the run;
// and troupe chaos hosts-run, a scenario on hosts run whole on network namespaces, nothing killed.
// Added to the existing `chaos` group.
import { resolve } from "node:path";
import type { Command } from "commander";
import { commandGroup } from "./groups.js";
import type { RunPlan } from "../../scenarios/mod.js";
import { ExitCode, UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

const DEFAULT_SCENARIO = "scenarios/tiny-hosts.yaml";

interface Opts {
  json?: boolean;
  scenario: string;
  outDir?: string;
  namespaces?: boolean;
}

async function plan(opts: Opts): Promise<RunPlan> {
  const { loadScenario, isScenarioError, isScenarioReadError } = await import("../../scenarios/mod.js");
  let p: RunPlan;
  try {
    p = loadScenario(opts.scenario);
  } catch (err) {
    if (isScenarioError(err) || isScenarioReadError(err)) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  if (!p.hostsDeclared || p.hosts.length < 2 || !p.placement) throw new UsageError(`${opts.scenario} must declare two or more hosts: and a placement: section for a host drill`);
  if (!p.curriculum.stages.some((s) => s.stage === 1)) throw new UsageError(`${opts.scenario} does not list stage 1 (the drills act while it trains)`);
  process.env.TROUPE_LOG_LEVEL ??= "warn";
  return opts.outDir ? { ...p, run: { ...p.run, outDir: resolve(opts.outDir) } } : p;
}

function common(c: Command): Command {
  return c
    .option("--json", "print one JSON document")
    .option("--scenario <file>", "the two-host scenario to run", DEFAULT_SCENARIO)
    .option("--out-dir <dir>", "where the run's report goes (default: the scenario's run.out_dir)")
    .option("--namespaces", "each host's agent in its own network namespace pinned to its own core (root; default: this machine over loopback)");
}

export function register(program: Command): void {
  const chaos = commandGroup(program, "chaos");
  common(chaos.command("host-loss").description("kill -9 the agent and actors of the host running the trainer mid-step; check the loss is detected within 5 s and the run continues on the survivor from its last checkpoint (or stops with a report)"))
    .option("--on-host-loss <what>", "replace (move the actors: outcome continued) or stop (outcome stopped-with-report); default: the scenario's")
    .action(async (opts: Opts & { onHostLoss?: string }) => {
      if (opts.onHostLoss !== undefined && opts.onHostLoss !== "replace" && opts.onHostLoss !== "stop") throw new UsageError(`--on-host-loss takes replace or stop, got ${JSON.stringify(opts.onHostLoss)}`);
      const { runHostLoss } = await import("../../actors/chaos/host-loss.js");
      const { readReport, writeRunReport } = await import("../../report/mod.js");
      const r = await runHostLoss({ plan: await plan(opts), file: opts.scenario, namespaces: opts.namespaces === true, writeReport: writeRunReport, readReport, ...(opts.onHostLoss ? { onHostLoss: opts.onHostLoss as "replace" | "stop" } : {}) });
      if (opts.json) printJson(r);
      else {
        printLine(`killed ${r.killed_host ?? "(no host)"} (${r.killed_actors.join(", ")}) at step ${r.killed_at_step ?? "–"} (checkpoint ${r.checkpoint_step ?? "–"}); detected after ${r.detected_ms ?? "–"} ms (bound ${r.bound_ms})`);
        printLine(`outcome ${r.outcome}${r.hung ? " (HUNG)" : ""}; placed after: ${r.placed_after.join(", ")}; resumed from ${r.resumed_from.join(", ") || "–"}; run ${r.run_outcome}`);
      }
      if (!r.ok) process.exitCode = ExitCode.failure;
    });
  common(chaos.command("nats-restart").description("kill -9 the nats-server and restart it on its store twice while a two-host run trains; check no job or progress event is lost or duplicated, no host is declared dead, and the run finishes"))
    .option("--outage <seconds>", "how long the server stays down each time", (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || n > 60) throw new UsageError(`--outage takes seconds (0 < s ≤ 60), got ${JSON.stringify(v)}`);
      return n;
    }, 1)
    .action(async (opts: Opts & { outage: number }) => {
      const { runNatsRestart } = await import("../../actors/chaos/nats-restart.js");
      const { readReport, writeRunReport } = await import("../../report/mod.js");
      const r = await runNatsRestart({ plan: await plan(opts), file: opts.scenario, namespaces: opts.namespaces === true, outageS: opts.outage, writeReport: writeRunReport, readReport });
      if (opts.json) printJson(r);
      else {
        printLine(`${r.restarts} restarts (${r.outage_s} s down, at steps ${r.killed_at_steps.join(", ") || "–"}); ${r.jobs} jobs, ${r.lost} lost, ${r.duplicated} duplicated; ` +
          `${r.hosts_declared_dead} hosts declared dead, ${r.actors_moved} actors moved; ${r.hung ? "HUNG" : "not hung"}; run ${r.outcome}`);
      }
      if (!r.ok) process.exitCode = ExitCode.failure;
    });
  chaos.command("hosts-run")
    .description("run a scenario with hosts: end to end on its own cluster — one host agent per declared host, each in its own network namespace pinned to its own core (root), a nats-server on the rig's control bridge — and report where every actor ran, the Thunder-Train sync and stage 5's fidelity on the same host and across hosts")
    .option("--json", "print one JSON document")
    .option("--scenario <file>", "the scenario (hosts: and placement: sections)", "scenarios/quickstart-hosts.yaml")
    .option("--out-dir <dir>", "where the run's report goes (default: the scenario's run.out_dir)")
    .option("--loopback", "plain processes on 127.0.0.1 instead of network namespaces (no root; no pinning; the report says kind loopback)")
    .action(async (opts: Opts & { loopback?: boolean }) => {
      const { runOnHosts } = await import("../../actors/chaos/hosts-run.js");
      const { readReport, writeRunReport } = await import("../../report/mod.js");
      const r = await runOnHosts({ plan: await plan(opts), file: opts.scenario, loopback: opts.loopback === true, writeReport: writeRunReport, readTransfer: async (f) => (await readReport(f)).transfer });
      if (opts.json) printJson(r);
      else {
        printLine(`${r.kind}: ${r.hosts.map((h) => `${h.name}${h.namespace ? ` (${h.namespace}, cpu ${h.cpus?.join(",")}, ${h.linkAddress})` : ""}`).join(", ")}; run ${r.outcome} in ${r.wall_s} s`);
        printLine(`placed: ${r.placed.map((p) => `${p.role}/${p.id}@${p.host}`).join(", ")}`);
        for (const j of r.thunder) printLine(`thunder ${j.job}: world ${j.world}, ${j.outcome}, ${j.sync?.steps ?? "–"} steps, ${j.sync?.buckets ?? "–"} buckets (${j.sync?.overlapped ?? "–"} overlapped), ${j.sync?.waitMs ?? "–"} ms waiting, links on ${j.address}`);
        for (const c of r.transfer.cross_host) printLine(`transfer ${c.codec}@${c.layer} ${c.path}: KL ${c.kl_mean} top-1 ${c.top1} — ${c.extra?.same_host}`);
        printLine(`checks: ${Object.entries(r.checks).map(([k, v]) => `${k} ${v ? "ok" : "FAILED"}`).join(", ")}`);
      }
      if (!r.ok) process.exitCode = ExitCode.failure;
    });
}
