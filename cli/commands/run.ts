// troupe run FILE [--export-chart OUT.(json|mmd)] — validate the scenario (exit 2 on any
// problem, before anything starts), optionally write the curriculum statechart, then run.
// Running needs the cast runtime (NATS, actor processes), which is not wired yet: this
// command says so and exits 1. SEAM(runtime): replace `runCast` below.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import type { RunPlan } from "../../scenarios/mod.js";
import { UsageError } from "../errors.js";
import { printJson, progress } from "../output.js";

interface RunOptions {
  exportChart?: string;
  nats?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run a scenario: validate it, cast the actors, walk the curriculum")
    .argument("<file>", "scenario YAML file")
    .option("--export-chart <file>", "write the curriculum statechart (.json or .mmd for Mermaid) and exit")
    .option("--nats <url>", "use this NATS server instead of starting an embedded one")
    .option("--json", "print one JSON document")
    .action(async (file: string, opts: RunOptions) => {
      const plan = await validated(file);
      if (opts.exportChart) {
        const out = opts.exportChart;
        const { chartFormatForPath, formatChart, isChartFormatError } = await import("../../actors/director/mod.js");
        let format;
        try {
          format = chartFormatForPath(out);
        } catch (err) {
          if (isChartFormatError(err)) throw new UsageError(err.message, { cause: err });
          throw err;
        }
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, formatChart(format));
        if (opts.json) printJson({ chart: out, format, run: plan.run.name });
        else progress(`wrote the curriculum statechart (${format}) to ${out}`);
        return;
      }
      await runCast(plan, opts);
    });
}

async function validated(file: string): Promise<RunPlan> {
  const { loadScenario, isScenarioError, isScenarioReadError } = await import("../../scenarios/mod.js");
  try {
    return loadScenario(file);
  } catch (err) {
    if (isScenarioError(err) || isScenarioReadError(err)) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

/**
 * SEAM(runtime): start (or join) NATS, cast the actors of `plan`, and run the director with
 * startDirector({ plan: plan.curriculum, available, work, store, clock: systemClock }) from
 * actors/director; print summarizeRun's RunSummary (`--json`) and exit 0 on "done".
 */
async function runCast(plan: RunPlan, _opts: RunOptions): Promise<never> {
  throw new Error(
    `scenario ${plan.run.name} is valid, but the cast runtime is not wired yet, so nothing was started ` +
      `(try: troupe scenario check, or troupe run FILE --export-chart chart.mmd)`,
  );
}
