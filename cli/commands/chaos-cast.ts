// troupe chaos kill-director | kill-trainer: a real curriculum run (scenarios/tiny.yaml unless
// --scenario says otherwise) with the director or the trainer killed -9 while a stage trains.
// Added to the existing `chaos` group.
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

function common(c: Command): Command {
  return c
    .option("--json", "print one JSON document")
    .option("--nats <url>", "use this NATS server instead of an embedded one", urlArg("--nats"))
    .option("--scenario <file>", "the scenario to run", DEFAULT_SCENARIO)
    .option("--stage <n>", "the stage whose training is interrupted", intArg("--stage", 0, 1), 1)
    .option("--out-dir <dir>", "where the run's report goes (default: the scenario's run.out_dir)");
}

export function register(program: Command): void {
  const chaos = commandGroup(program, "chaos");
  common(chaos.command("kill-director").description("kill -9 the director while a stage trains; check it resumes at the same stage from KV and the run finishes")).action(
    async (opts: Opts) => {
      const { runKillDirector } = await import("../../actors/chaos/kill-cast.js");
      const { writeRunReport } = await import("../../report/mod.js");
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
