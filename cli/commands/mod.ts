// Every subcommand lives in its own file and exports `register(program)`. A command's action
// imports the layer it needs lazily, so `troupe --help` stays fast.
import type { Command } from "commander";
import { register as data } from "./data.js";

type Register = (program: Command) => void;

const commands: Register[] = [data];

export function registerAll(program: Command): void {
  for (const register of commands) register(program);
}
