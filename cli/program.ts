// The commander program: global options, exit codes, and the subcommands of cli/commands/.
import { Command, CommanderError } from "commander";
import { registerAll } from "./commands/mod.js";
import { ExitCode } from "./errors.js";
import { commanderFailure, describeFailure, reportFailure } from "./failure.js";
import { setJsonCommand } from "./output.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("troupe")
    .description("Train language models as a cast of actors over NATS")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError("(run troupe --help for usage)")
    .hook("preAction", (_root, action) => {
      const path: string[] = [];
      for (let c: Command | null = action; c && c !== program; c = c.parent) path.unshift(c.name());
      setJsonCommand(path);
    });
  registerAll(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never rejects. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes("--json");
  const command = argv.find((a) => !a.startsWith("-")) ?? "";
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0; commander printed its own message
      if (err.exitCode === 0) return ExitCode.ok;
      const f = commanderFailure(err);
      if (json) process.stdout.write(JSON.stringify({ schema: "troupe.error/1", error: { code: f.code, message: f.message } }) + "\n");
      return f.exit;
    }
    return reportFailure(describeFailure(err, command), json);
  }
}
