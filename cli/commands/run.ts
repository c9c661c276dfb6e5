// troupe run FILE [--nats URL] [--json] [--run-id ID] [--resume] [--export-chart OUT]
// Validates the scenario (exit 2 on any problem, before anything starts), optionally writes
// the curriculum statechart and exits, or runs it: NATS (embedded unless --nats), every role
// as its own process under a supervisor (the director included), live progress on stderr,
// runs/<run>/report.json + report.html, and the summary on stdout. Exit 0 when the run is
// done with every listed stage passed, 1 otherwise.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import type { RunPlan } from "../../scenarios/mod.js";
import { urlArg } from "../args.js";
import { ExitCode, InterruptedError, UsageError } from "../errors.js";
import { checkInputFile } from "../inputs.js";
import { printJson, printLine, progress } from "../output.js";

interface RunOptions {
  exportChart?: string;
  nats?: string;
  json?: boolean;
  runId?: string;
  resume?: boolean;
  outDir?: string;
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run a scenario: validate it, cast the actors, walk the curriculum")
    .argument("<file>", "scenario YAML file")
    .option("--export-chart <file>", "write the curriculum statechart (.json or .mmd for Mermaid) and exit")
    .option("--nats <url>", "use this NATS server instead of starting an embedded one", urlArg("--nats"))
    .option("--run-id <id>", "the run's id (default: <name>-<date>-<time>-<random>)")
    .option("--resume", "continue the run --run-id from its state on the --nats server")
    .option("--out-dir <dir>", "where runs/<run> reports go (default: the scenario's run.out_dir)")
    .option("--json", "print one JSON document")
    .action(async (file: string, opts: RunOptions) => {
      const loaded = await validated(file);
      const plan = opts.outDir ? { ...loaded, run: { ...loaded.run, outDir: resolve(opts.outDir) } } : loaded;
      if (opts.exportChart) return exportChart(plan, opts.exportChart, opts.json === true);
      await checkLanes(plan, file);
      await runScenario(plan, file, opts);
    });
}

async function validated(file: string): Promise<RunPlan> {
  const { loadScenario, isScenarioError, isScenarioReadError } = await import("../../scenarios/mod.js");
  checkInputFile(file, file, { text: true, what: "a scenario YAML file" });
  try {
    return loadScenario(file);
  } catch (err) {
    if (isScenarioError(err) || isScenarioReadError(err)) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

async function exportChart(plan: RunPlan, out: string, json: boolean): Promise<void> {
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
  if (json) printJson({ chart: out, format, run: plan.run.name });
  else progress(`wrote the curriculum statechart (${format}) to ${out}`);
}

/** Builds every lane the run uses, so a lane the data layer cannot make is a usage error too. */
async function checkLanes(plan: RunPlan, file: string): Promise<void> {
  const { loadLane, runSpecFrom, isLaneError } = await import("../../actors/cast/mod.js");
  const spec = runSpecFrom(plan, "check");
  const used = new Set<string>();
  if (plan.model.base) used.add(plan.model.base.pretrain.lane);
  for (const s of plan.curriculum.stages) {
    if (s.lane) used.add(s.lane);
    if (s.evalLane) used.add(s.evalLane);
  }
  for (const lane of used) {
    try {
      await loadLane(spec, lane);
    } catch (err) {
      if (isLaneError(err)) throw new UsageError(`${file}: data.lanes.${lane}: ${err.message}`, { cause: err });
      throw err;
    }
  }
}

async function runScenario(plan: RunPlan, file: string, opts: RunOptions): Promise<void> {
  // actor logs below warnings would tear the progress view apart (TROUPE_LOG_LEVEL overrides)
  process.env.TROUPE_LOG_LEVEL ??= "warn";
  const { startCastRun, isCastRunError } = await import("../../actors/cast/mod.js");
  const { createProgressView, readReport, writeRunReport } = await import("../../report/mod.js");
  const view = createProgressView({ stream: process.stderr });
  const timer = setInterval(() => view.tick(), 1000);
  timer.unref();
  let result;
  const { onInterrupt } = await import("../interrupt.js");
  const interrupt = onInterrupt("stopping the cast: the trainer checkpoints its current step, the report and the models are written");
  // the embedded server must outlive Ctrl-C until the checkpoint, the report and the models are out
  const releaseServers = (await import("../../hosts/mod.js")).holdServersOnInterrupt();
  let url = opts.nats ?? "";
  try {
    const run = await startCastRun({
      stop: () => (interrupt.interrupted() ? "interrupted (Ctrl-C)" : null),
      plan,
      file,
      ...(opts.nats ? { natsUrl: opts.nats } : {}),
      ...(opts.runId ? { runId: opts.runId } : {}),
      resume: opts.resume === true,
      onEvent: (e) => view.handle(e),
      writeReport: writeRunReport,
    });
    url = run.url;
    progress(`troupe run ${run.runId} on ${run.url} (troupe status --nats ${run.url} --run ${run.runId})`);
    result = await run.done;
  } catch (err) {
    if (isCastRunError(err)) throw new UsageError(err.message, { cause: err });
    throw err;
  } finally {
    clearInterval(timer);
    view.close();
    interrupt.dispose();
    releaseServers();
  }
  if (interrupt.interrupted()) {
    const kept = result.artifacts?.artifacts.length ? `; ${result.artifacts.artifacts.length} model checkpoints kept under ${plan.run.outDir}/${result.runId}/` : "";
    const report = result.report ? `; report ${result.report.html}` : "";
    const how = opts.nats
      ? `continue with: troupe run ${file} --nats ${url} --run-id ${result.runId} --resume`
      : `the embedded server's state went with it, so this run cannot be resumed; run with --nats URL (a nats-server -js you keep) to be able to resume`;
    throw new InterruptedError(`run ${result.runId} interrupted${kept}${report}; ${how}`);
  }
  const s = result.summary;
  const last = result.lastSummary;
  // stage 5's fidelity rows and what the curriculum bought, as the report has them
  const written = result.report ? await readReport(result.report.json).catch(() => null) : null;
  const transfer = (written?.transfer ?? []).filter((t) => t.layer !== undefined && t.layer !== null).map((t) => ({
    codec: t.codec, layer: t.layer, bytes_per_token: t.bytes_per_token ?? null, kl_mean: t.kl_mean ?? null, top1: t.top1 ?? null,
  }));
  const a = written?.architecture ?? null;
  const architecture = a
    ? {
        mean_layers_per_token: a.mean_layers_per_token, full_layers: a.full_layers, tokens_per_s_routed: a.tokens_per_s_routed, tokens_per_s_full: a.tokens_per_s_full,
        em_routed: a.em_routed, em_full: a.em_full, weights: a.weights, prompts: a.prompts,
      }
    : null;
  const doc = {
    run_id: result.runId,
    outcome: s?.outcome ?? "failed",
    // the stages the scenario lists (and one it listed but this build lacks); not the omitted
    stages: (last?.stages ?? []).filter((x) => x.status !== "omitted").map((x) => ({
      stage: x.stage,
      name: x.name,
      passed: x.passed,
      status: x.status,
      gate_metric: x.gate_metric,
      metric: x.metric,
      threshold: x.threshold,
      verdict: x.verdict,
      // what a gain was measured against: the score, the named and the trivial references, the
      // best of them and the gain's confidence interval; and the gate's required checks
      evidence: x.evidence ?? null,
      checks: x.checks ?? [],
      attempts: x.attempts,
      steps: x.steps,
      wall_s: x.wall_s,
    })),
    ...(s?.stopped ? { stopped: s.stopped } : {}),
    ...(result.failure ? { failure: result.failure } : {}),
    transfer,
    architecture,
    resumes: last?.resumes ?? 0,
    wall_s: Math.round(result.wallS * 10) / 10,
    report: result.report,
    // the models the run kept (runs/<run>/artifacts.json): troupe generate --run <id> uses them
    artifacts: result.artifacts ? { final: result.artifacts.final, adapter_file: result.artifacts.adapter_file, count: result.artifacts.artifacts.length } : null,
  };
  if (opts.json) printJson(doc);
  else {
    printLine(`run ${doc.run_id}: ${doc.outcome} in ${doc.wall_s} s`);
    for (const x of doc.stages) {
      const num = (v: number | null) => (v === null ? "–" : String(Number(v.toPrecision(4))));
      const gate = x.gate_metric ? `${x.gate_metric} ${num(x.metric)} vs ${num(x.threshold)}` : "";
      printLine(`  stage ${x.stage} ${x.name.padEnd(24)} ${(x.passed ? "pass" : x.status).padEnd(14)} ${gate}${x.attempts > 1 ? ` (${x.attempts} attempts)` : ""}`);
      if (x.evidence) {
        const refs = x.evidence.references.map((r) => `${r.name} ${r.value.toFixed(2)}`).join(", ");
        const sc = x.evidence.score;
        printLine(`    ${sc.name} ${sc.value.toFixed(2)} [${sc.ci.map((v) => v.toFixed(2)).join(", ")}] vs ${refs}; gain over ${x.evidence.against} ${x.evidence.gain.toFixed(2)} [${x.evidence.gain_ci.map((v) => v.toFixed(2)).join(", ")}]`);
      }
      for (const c of x.checks.filter((c) => !c.ok)) printLine(`    failed: ${c.name}${c.detail ? ` (${c.detail})` : ""}`);
    }
    if (architecture) {
      const n = (v: number | null, d = 3) => (v === null ? "–" : String(Number(v.toPrecision(d))));
      printLine(`  routed vs full depth: ${n(architecture.mean_layers_per_token)} of ${n(architecture.full_layers)} layers per token, ${n(architecture.tokens_per_s_routed)} vs ${n(architecture.tokens_per_s_full)} tokens/s, exact match ${n(architecture.em_routed)} vs ${n(architecture.em_full)}`);
    }
    if (doc.stopped) printLine(`  stopped: ${doc.stopped.reason}`);
    if (result.failure) printLine(`  failed: ${result.failure}`);
    if (result.report) printLine(`report: ${result.report.html}`);
    if (result.artifacts?.final) printLine(`models: ${result.artifacts.artifacts.length} kept under ${plan.run.outDir}/${doc.run_id}/ (troupe generate --run ${doc.run_id} --prompt …)`);
  }
  if (!result.ok) process.exitCode = ExitCode.failure;
}
