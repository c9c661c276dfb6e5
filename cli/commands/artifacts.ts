// troupe artifacts pull --run ID --nats URL [--out runs] [--json]
// Copies a run's models (the base and every adapter attempt's last checkpoint, plus the final
// adapter.safetensors) out of the run's JetStream Object Store on an external server into
// <out>/<run>/, with artifacts.json saying which is which; then `troupe generate --run ID` works.
// (`troupe run` does the same by itself when the run ends.)
import type { Command } from "commander";
import { urlArg } from "../args.js";
import { UsageCode, UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

interface PullFlags {
  run: string;
  nats: string;
  out: string;
  json?: boolean;
}

export function register(program: Command): void {
  const artifacts = program.command("artifacts").description("the models a run kept");
  artifacts
    .command("pull")
    .description("copy a run's models from its NATS server into <out>/<run>/ (artifacts.json says which is which)")
    .requiredOption("--run <id>", "the run id (troupe run prints it)")
    .requiredOption("--nats <url>", "the NATS server the run used", urlArg("--nats"))
    .option("--out <dir>", "where runs are", "runs")
    .option("--json", "print one JSON document")
    .action(async (flags: PullFlags) => {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(flags.run)) throw new UsageError(`--run ${flags.run}: not a run id (1-64 of A-Z a-z 0-9 _ -)`, { code: UsageCode.badValue });
      const { connectNats } = await import("../../hosts/mod.js");
      const { exportRunArtifacts, openRunRecord } = await import("../../actors/cast/mod.js");
      const nc = await connectNats(flags.nats, { name: "troupe-artifacts", reconnect: false });
      try {
        const record = await openRunRecord(nc, flags.run);
        if (!(await record.get("spec"))) {
          throw new UsageError(`--run ${flags.run}: no such run on ${flags.nats} (troupe status --nats ${flags.nats} shows the latest)`, { code: UsageCode.noSuchRun });
        }
        const a = await exportRunArtifacts(nc, flags.run, flags.out);
        const doc = { schema: "troupe.artifacts.pull/1", run_id: a.run_id, dir: `${flags.out}/${flags.run}`, final: a.final, adapter_file: a.adapter_file, artifacts: a.artifacts };
        if (flags.json) printJson(doc);
        else {
          for (const x of a.artifacts) printLine(`${x.role.padEnd(8)} ${x.stage.padEnd(24)} step ${String(x.step).padStart(6)}  ${doc.dir}/${x.path}  sha256 ${x.digest.slice(0, 16)}…`);
          printLine(a.final ? `final model: ${doc.dir}/${a.final} (troupe generate --run ${a.run_id} --prompt …)` : "the run kept no model yet");
        }
      } finally {
        await nc.close();
      }
    });
}
