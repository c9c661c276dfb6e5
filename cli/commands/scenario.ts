// troupe scenario check FILE [--json] — validate a scenario without starting anything.
// Exit 0 when valid; exit 2 with `file:line key.path: message` lines when not.
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { checkInputFile } from "../inputs.js";
import { printJson, printLine } from "../output.js";

export function register(program: Command): void {
  const scenario = program.command("scenario").description("work with scenario files");
  scenario
    .command("check")
    .description("validate a scenario file; prints every problem as file:line key.path: message")
    .argument("<file>", "scenario YAML file")
    .option("--json", "print one JSON document (the plan, or the problems)")
    .action(async (file: string, opts: { json?: boolean }) => {
      const { loadScenario, isScenarioError, isScenarioReadError } = await import("../../scenarios/mod.js");
      checkInputFile(file, file, { text: true, what: "a scenario YAML file" });
      try {
        const plan = loadScenario(file);
        if (opts.json) printJson({ ok: true, plan });
        else {
          const stages = plan.curriculum.stages.map((s) => s.stage).join(", ");
          const hosts = plan.hostsDeclared ? plan.hosts.map((h) => h.name).join(", ") : "this machine";
          printLine(`${file}: ok — run ${plan.run.name}, stages ${stages}, hosts: ${hosts}`);
        }
      } catch (err) {
        if (isScenarioError(err)) {
          if (opts.json) {
            printJson({ ok: false, file, issues: err.issues });
            process.exitCode = 2;
            return;
          }
          throw new UsageError(err.message, { cause: err });
        }
        if (isScenarioReadError(err)) throw new UsageError(err.message, { cause: err });
        throw err;
      }
    });
}
