// Every subcommand lives in its own file and exports `register(program)`. A command's action
// imports the layer it needs lazily, so `troupe --help` stays fast.
import type { Command } from "commander";
import { register as registerBenchKernels } from "./bench_kernels.js";
import { register as registerVerify } from "./verify.js";

type Register = (program: Command) => void;

const commands: Register[] = [registerVerify, registerBenchKernels];

export function registerAll(program: Command): void {
  for (const register of commands) register(program);
}
