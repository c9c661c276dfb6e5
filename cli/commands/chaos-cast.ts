// troupe chaos kill-director | kill-trainer | nats-blip | director-duel: real curriculum runs
// (scenarios/tiny.yaml unless --scenario says otherwise) with the director or the trainer killed
// -9 while a stage trains, the nats-server killed and restarted mid-run, or a second director
// resuming the run while the first still runs. Added to the existing `chaos` group.
import { resolve } from "node:path";
import type { Command } from "commander";
import { commandGroup } from "./groups.js";
import type { RunPlan } from "../../scenarios/mod.js";
import { intArg, urlArg } from "../args.js";
import { ExitCode, UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

interface Opts {
  json?: boolean;
  nats?: string;
  scenario: string;
  stage: number;
  outDir?: string;
}

const DEFAULT_SCENARIO = "scenarios/tiny.yaml";

async function plan(opts: Opts): Promise<RunPlan> {
  const { loadScenario, isScenarioError, isScenarioReadError } = await import("../../scenarios/mod.js");
  let p: RunPlan;
  try {
    p = loadScenario(opts.scenario);
  } catch (err) {
    if (isScenarioError(err) || isScenarioReadError(err)) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  if (!p.curriculum.stages.some((s) => s.stage === opts.stage)) throw new UsageError(`${opts.scenario} does not list stage ${opts.stage}`);
  process.env.TROUPE_LOG_LEVEL ??= "warn";
  return opts.outDir ? { ...p, run: { ...p.run, outDir: resolve(opts.outDir) } } : p;
}

function listArg<T extends string>(name: string, allowed: readonly T[]): (v: string) => T[] {
  return (v) => {
    const items = v.split(",").map((x) => x.trim()).filter(Boolean);
    const bad = items.filter((x) => !(allowed as readonly string[]).includes(x));
    if (items.length === 0 || bad.length > 0) throw new UsageError(`${name} takes a comma-separated list of ${allowed.join(", ")}; got ${JSON.stringify(v)}`);
    return items as T[];
  };
}

function secondsArg(name: string): (v: string) => number[] {
  return (v) => {
    const items = v.split(",").map((x) => Number(x.trim()));
    if (items.length === 0 || items.some((x) => !Number.isFinite(x) || x <= 0 || x > 120)) {
      throw new UsageError(`${name} takes a comma-separated list of outage lengths in seconds (0 < s ≤ 120); got ${JSON.stringify(v)}`);
    }
    return items;
  };
}

function scenarioOptions(c: Command): Command {
  return c
    .option("--json", "print one JSON document")
    .option("--scenario <file>", "the scenario to run", DEFAULT_SCENARIO)
    .option("--out-dir <dir>", "where the runs' reports go (default: the scenario's run.out_dir)");
}

/** The smallest run through stage 2's labelling: the kill-director default and kill-oracle. */
const LABELLING_SCENARIO = "scenarios/tiny-agp.yaml";

function common(c: Command, scenario = DEFAULT_SCENARIO, stage = 1, maxStage = 1): Command {
  return c
    .option("--json", "print one JSON document")
    .option("--nats <url>", "use this NATS server instead of an embedded one", urlArg("--nats"))
    .option("--scenario <file>", "the scenario to run", scenario)
    .option("--stage <n>", maxStage === 2 ? "the stage interrupted: 0-1 while it trains, 2 while the oracles label" : "the stage whose training is interrupted", intArg("--stage", 0, maxStage), stage)
    .option("--out-dir <dir>", "where the run's report goes (default: the scenario's run.out_dir)");
}

/** Stage 2's labelling drills: the labels all written, once each, and every listed stage through. */
function labellingOk(r: { killed_stage: number | null; resumed_stage: number | null; labels_expected: number; labels_written: number; duplicates: number; outcome: string; stages: readonly { passed: boolean; status: string }[] }): boolean {
  return r.killed_stage === 2 && r.resumed_stage === 2 && r.labels_written === r.labels_expected && r.duplicates === 0 && r.outcome === "done" &&
    r.stages.every((s) => s.passed || s.status === "passed_off_path");
}

function printLabelling(r: { killed: string; labels_at_kill: number | null; labels_expected: number; labels_written: number; duplicates: number; run_id: string; outcome: string; stages: readonly { stage: number; passed: boolean; status: string }[] }): void {
  printLine(`killed the ${r.killed} in stage 2's labelling with ${r.labels_at_kill ?? "–"} of ${r.labels_expected} label batches stored; ${r.labels_written} written in the end, ${r.duplicates} duplicates`);
  printLine(`run ${r.run_id}: ${r.outcome}; ${r.stages.map((s) => `stage ${s.stage} ${s.passed ? "passed" : s.status}`).join(", ")}`);
}

export function register(program: Command): void {
  const chaos = commandGroup(program, "chaos");
  registerControlPlane(chaos);
  registerKillOracle(chaos);
  common(chaos.command("kill-director").description("kill -9 the director in stage 2's labelling (the oracle queue half done) or while stage 0/1 trains; check it resumes at the same stage from KV and the run finishes"), LABELLING_SCENARIO, 2, 2).action(
    async (opts: Opts) => {
      const { runKillDirector } = await import("../../actors/chaos/kill-cast.js");
      const { writeRunReport } = await import("../../report/mod.js");
      if (opts.stage === 2) {
        const { runKillInLabelling } = await import("../../actors/chaos/kill-labelling.js");
        const r = await runKillInLabelling({ target: "director", plan: await plan(opts), file: opts.scenario, writeReport: writeRunReport, ...(opts.nats ? { natsUrl: opts.nats } : {}) });
        if (opts.json) printJson(r);
        else printLabelling(r);
        if (!labellingOk(r)) process.exitCode = ExitCode.failure;
        return;
      }
      const r = await runKillDirector({ plan: await plan(opts), file: opts.scenario, stage: opts.stage as 0 | 1, writeReport: writeRunReport, ...(opts.nats ? { natsUrl: opts.nats } : {}) });
      const ok = r.killed_stage !== null && r.killed_stage === r.resumed_stage && r.outcome === "done" && r.stages.every((s) => s.passed);
      if (opts.json) printJson(r);
      else {
        printLine(`killed the director in ${r.killed_state ?? "(never)"} at step ${r.killed_at_step ?? "–"}; resumed in ${r.resumed_state ?? "(never)"} after ${r.restart_ms ?? "–"} ms`);
        printLine(`run ${r.run_id}: ${r.outcome}; ${r.stages.map((s) => `stage ${s.stage} ${s.passed ? "passed" : "failed"}`).join(", ")}`);
      }
      if (!ok) process.exitCode = ExitCode.failure;
    },
  );
  common(chaos.command("kill-trainer").description("kill -9 the trainer after a checkpoint of a stage; check it resumes from that checkpoint and the stage completes")).action(
    async (opts: Opts) => {
      const { runKillTrainer } = await import("../../actors/chaos/kill-cast.js");
      const { writeRunReport } = await import("../../report/mod.js");
      const r = await runKillTrainer({ plan: await plan(opts), file: opts.scenario, stage: opts.stage as 0 | 1, writeReport: writeRunReport, ...(opts.nats ? { natsUrl: opts.nats } : {}) });
      const stage = r.stages.find((s) => s.stage === opts.stage);
      // the stage completes in the attempt that was interrupted: no retry papered over it
      // and where it resumed, as the trainer recorded it, is where the progress stream shows it
      const ok = r.checkpoint_step !== null && r.resumed_from.length > 0 && r.resumed_from.every((n) => n > 0) && r.resumed_from_agrees &&
        stage?.passed === true && stage.attempts === 1;
      if (opts.json) printJson(r);
      else {
        printLine(`killed the trainer at step ${r.killed_at_step ?? "–"} (checkpoint ${r.checkpoint_step ?? "–"}); resumed from ${r.resumed_from.join(", ") || "(never)"}` +
          ` (progress stream: ${r.resumed_from_stream.join(", ") || "no resume"}${r.resumed_from_agrees ? "" : " — DISAGREES"})`);
        printLine(`run ${r.run_id}: ${r.outcome}; ${r.stages.map((s) => `stage ${s.stage} ${s.passed ? "passed" : "failed"}`).join(", ")}`);
      }
      if (!ok) process.exitCode = ExitCode.failure;
    },
  );
}

function registerKillOracle(chaos: Command): void {
  chaos
    .command("kill-oracle")
    .description("kill -9 an oracle between storing a label batch and acknowledging it; check the batch is labelled again and stored once")
    .option("--json", "print one JSON document")
    .option("--nats <url>", "use this NATS server instead of an embedded one", urlArg("--nats"))
    .option("--scenario <file>", "the scenario to run", LABELLING_SCENARIO)
    .option("--no-dedup", "store label batches without their job id (the duplicate counter must then move)")
    .option("--out-dir <dir>", "where the run's report goes (default: the scenario's run.out_dir)")
    .action(async (opts: Opts & { dedup: boolean }) => {
      const { runKillInLabelling } = await import("../../actors/chaos/kill-labelling.js");
      const { writeRunReport } = await import("../../report/mod.js");
      const r = await runKillInLabelling({
        target: "oracle", plan: await plan({ ...opts, stage: 2 }), file: opts.scenario, writeReport: writeRunReport, ...(opts.dedup === false ? { dedup: false } : {}), ...(opts.nats ? { natsUrl: opts.nats } : {}),
      });
      if (opts.json) printJson(r);
      else printLabelling(r);
      if (!labellingOk(r) || r.restarts < 1) process.exitCode = ExitCode.failure;
    });
}

const BLIP_POINTS = ["mid-step", "last-step", "save"] as const;

function registerControlPlane(chaos: Command): void {
  scenarioOptions(chaos.command("nats-blip").description("kill -9 the nats-server mid-run and start it again on the same store; check every run still ends done, nothing is cancelled, and no run stalls past the outage + 10 s"))
    .option("--points <list>", `where in stage 1 the server dies: ${BLIP_POINTS.join(", ")}`, listArg("--points", BLIP_POINTS), [...BLIP_POINTS])
    .option("--outages <seconds>", "outage lengths, one run per point and length", secondsArg("--outages"), [0.4, 4])
    .action(async (opts: { json?: boolean; scenario: string; outDir?: string; points: (typeof BLIP_POINTS)[number][]; outages: number[] }) => {
      const { runNatsBlip } = await import("../../actors/chaos/nats-blip.js");
      const { readReport, writeRunReport } = await import("../../report/mod.js");
      const r = await runNatsBlip({ plan: await plan({ ...opts, stage: 1 }), file: opts.scenario, points: opts.points, outagesS: opts.outages, writeReport: writeRunReport, readReport });
      if (opts.json) printJson(r);
      else {
        for (const x of r.by_run) {
          printLine(`${x.point} ${x.outage_s} s: killed in ${x.killed_in ?? "(never)"} at step ${x.killed_at_step ?? "–"}; moved on after ${x.stall_s ?? "–"} s; ` +
            `${x.outcome}, ${x.cancelled_jobs} cancelled, ${x.failed_jobs} failed, ${x.stale_final} stale final, director restarts ${x.director_restarts}`);
        }
        printLine(`${r.outages} outages, ${r.runs_done}/${r.runs} runs done, ${r.cancelled_jobs} cancelled jobs, ${r.failed_jobs} failed jobs, ${r.stale_final} stale finals, max stall ${r.max_stall_s ?? "–"} s`);
      }
      if (!r.ok) process.exitCode = ExitCode.failure;
    });
  scenarioOptions(chaos.command("director-duel").description("start a second director on the run while the first still runs; check exactly one owns it, nothing is cancelled, and the run ends done"))
    .option("--nats <url>", "use this NATS server instead of an embedded one", urlArg("--nats"))
    .action(async (opts: Opts) => {
      const { runDirectorDuel } = await import("../../actors/chaos/director-duel.js");
      const { writeRunReport } = await import("../../report/mod.js");
      const r = await runDirectorDuel({ plan: await plan({ ...opts, stage: 1 }), file: opts.scenario, writeReport: writeRunReport, ...(opts.nats ? { natsUrl: opts.nats } : {}) });
      if (opts.json) printJson(r);
      else {
        printLine(`rival director started in ${r.rival_started_in ?? "(never)"} at step ${r.rival_started_at_step ?? "–"}; took the lease after ${r.takeover_ms ?? "–"} ms`);
        printLine(`owners at the end: ${r.owners_at_end} (${r.snapshot_writers_after_takeover.join(", ")}); ${r.cancelled_jobs} cancelled jobs; run ${r.outcome}`);
      }
      if (!(r.owners_at_end === 1 && r.cancelled_jobs === 0 && r.outcome === "done")) process.exitCode = ExitCode.failure;
    });
}
