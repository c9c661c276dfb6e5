// troupe chaos kill-actor | fuzz: the runtime's promises under abuse, checked.
import type { Command } from "commander";
import { commandGroup } from "./groups.js";
import { intArg, urlArg } from "../args.js";
import { ExitCode, UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

export function register(program: Command): void {
  const chaos = commandGroup(program, "chaos");
  chaos
    .command("kill-actor")
    .description("kill -9 a supervised worker mid-queue; count every execution, and check that no job is lost and no result duplicated")
    .option("--json", "print one JSON document")
    .option("--nats <url>", "use this NATS server instead of an embedded one", urlArg("--nats"))
    .option("--jobs <n>", "jobs in the queue", intArg("--jobs", 1, 1_000_000), 1000)
    .option("--kills <n>", "times to kill the worker", intArg("--kills", 1, 100), 3)
    .option("--work-ms <n>", "CPU time per job", intArg("--work-ms", 0, 10_000), 3)
    .option("--hold-ack-ms <n>", "pause between storing a result and acking its job (slow acks)", intArg("--hold-ack-ms", 0, 60_000), 0)
    .option("--settle-s <n>", "how long to wait for the queue to drain after the kills; what has no result then is lost", intArg("--settle-s", 1, 86_400), 120)
    .option("--no-dedup", "publish results without the job id as message id (shows duplicated_results move)")
    .action(async (opts: { json?: boolean; nats?: string; jobs: number; kills: number; workMs: number; holdAckMs: number; settleS: number; dedup: boolean }) => {
      const { runKillActor } = await import("../../actors/chaos/kill-actor.js");
      const r = await runKillActor({
        natsUrl: opts.nats, jobs: opts.jobs, kills: opts.kills, workMs: opts.workMs,
        holdAckMs: opts.holdAckMs, settleMs: opts.settleS * 1000, dedup: opts.dedup,
      });
      if (opts.json) printJson(r);
      else {
        printLine(`${r.kills} kills, ${r.restarts} restarts (p95 ${r.restart_ms_p95} ms): ${r.completed}/${r.jobs} jobs completed, ${r.lost} lost, ` +
          `${r.wrong_results} wrong`);
        printLine(`${r.executions} executions for ${r.jobs} jobs: ${r.duplicated_executions} repeated, ${r.interrupted_executions} cut short by a kill; ` +
          `${r.results} results stored, ${r.duplicated_results} duplicated${r.dedup ? "" : " (deduplication off)"}`);
      }
      // every execution a kill cut short ran again; nothing lost, wrong or stored twice
      const ok = r.lost === 0 && r.duplicated_results === 0 && r.wrong_results === 0 && r.completed === r.jobs && r.kills === opts.kills &&
        r.duplicated_executions >= r.interrupted_executions;
      if (!ok) process.exitCode = ExitCode.failure;
    });
  chaos
    .command("fuzz")
    .description("send malformed messages mixed with valid ones to a live actor; each broken kind must be refused with its code from a fixed table")
    .option("--json", "print one JSON document")
    .option("--nats <url>", "use this NATS server instead of an embedded one", urlArg("--nats"))
    .option("--messages <n>", "messages to send", intArg("--messages", 1, 10_000_000), 20_000)
    .option("--seed <n>", "random seed", intArg("--seed", 0, 0xffffffff), 1)
    .action(async (opts: { json?: boolean; nats?: string; messages: number; seed: number }) => {
      const { runFuzz } = await import("../../actors/chaos/fuzz.js");
      const r = await runFuzz({ natsUrl: opts.nats, messages: opts.messages, seed: opts.seed });
      if (opts.json) printJson(r);
      else {
        printLine(`${r.sent} sent: ${r.valid} valid (${r.valid_handled} handled), ${r.rejected} rejected, ${r.bitflip.sent} bit-flipped, ${r.crashes} crashes`);
        printLine(`rejected by code: ${JSON.stringify(r.rejected_by_code)} (expected from the table: ${JSON.stringify(r.expected_rejected_by_code)})`);
        printLine(`bit flips: ${r.bitflip.handled} handled, ${r.bitflip.rejected} rejected ${JSON.stringify(r.bitflip.rejected_by_code)}`);
      }
      const ok = r.crashes === 0 && r.valid_handled === r.valid && r.rejected === r.sent - r.valid - r.bitflip.sent && r.checksum_ok &&
        r.mismatched_codes.length === 0 && r.bitflip.handled + r.bitflip.rejected === r.bitflip.sent;
      if (!ok) process.exitCode = ExitCode.failure;
    });
  chaos
    .command("resume")
    .description("kill -9 a training after a checkpoint, resume it, and check the losses equal a straight run bit for bit")
    .option("--json", "print one JSON document")
    .option("--steps <n>", "training steps", intArg("--steps", 2, 1_000_000), 300)
    .option("--data <source>", "training data (FILE.txt, FILE.jsonl or pack:DOMAINS)", "pack:arithmetic,reversal")
    .option("--checkpoint-every <n>", "checkpoint interval", intArg("--checkpoint-every", 1), 25)
    .option("--kill-at <n>", "kill at this step (default: random after the first checkpoint)", intArg("--kill-at", 1))
    .option("--keep", "keep the runs' directory")
    .action(async (opts: { json?: boolean; steps: number; data: string; checkpointEvery: number; killAt?: number; keep?: boolean }) => {
      const { runResumeChaos } = await import("./chaos-resume.js");
      if (opts.killAt !== undefined && (opts.killAt <= opts.checkpointEvery || opts.killAt >= opts.steps)) {
        throw new UsageError(`--kill-at must be after the first checkpoint (> ${opts.checkpointEvery}) and before the last step (< ${opts.steps})`);
      }
      const r = await runResumeChaos({
        steps: opts.steps, data: opts.data, checkpointEvery: opts.checkpointEvery,
        ...(opts.killAt !== undefined ? { killAt: opts.killAt } : {}), keep: opts.keep === true,
        log: (m) => process.stderr.write(`[chaos resume] ${m}\n`),
      });
      if (opts.json) printJson(r);
      else printLine(`killed at step ${r.killed_at}, resumed from ${r.resumed_from}: max loss diff ${r.max_loss_diff} over ${r.compared_steps} steps, ${r.identical ? "identical" : "DIFFERENT"}`);
      if (!r.identical) process.exitCode = ExitCode.failure;
    });
}
