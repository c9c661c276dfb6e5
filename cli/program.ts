// The commander program: global options, exit codes, and the subcommands of cli/commands/.
import { Command, CommanderError } from "commander";
import { registerAll } from "./commands/mod.js";
import { ExitCode, isUsageError } from "./errors.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("troupe")
    .description("Train language models as a cast of actors over NATS")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError("(run troupe --help for usage)");
  registerAll(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never rejects. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      if (err.exitCode === 0) return ExitCode.ok;
      return ExitCode.usage;
    }
    if (isUsageError(err)) {
      process.stderr.write(`troupe: ${err.message}\n`);
      return ExitCode.usage;
    }
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(`troupe: ${msg}\n`);
    return ExitCode.failure;
  }
}
