// Every subcommand lives in its own file and exports `register(program)`. A command's action
// imports the layer it needs lazily, so `troupe --help` stays fast.
import type { Command } from "commander";
import { register as bench } from "./bench.js";
import { register as chaos } from "./chaos.js";
import { register as demo } from "./demo.js";

type Register = (program: Command) => void;

const commands: Register[] = [bench, chaos, demo];

export function registerAll(program: Command): void {
  for (const register of commands) register(program);
}
