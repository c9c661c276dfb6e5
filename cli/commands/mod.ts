// Every subcommand lives in its own file and exports `register(program)`. A command's action
// imports the layer it needs lazily, so `troupe --help` stays fast.
import type { Command } from "commander";
import { register as registerArtifacts } from "./artifacts.js";
import { register as registerBench } from "./bench.js";
import { register as registerBenchKernels } from "./bench_kernels.js";
import { register as registerBenchThunder } from "./bench_thunder.js";
import { register as registerBenchGenerate } from "./bench_generate.js";
import { register as registerBenchAgp } from "./bench_agp.js";
import { register as registerBenchModels } from "./bench_models.js";
import { register as registerBenchCompress } from "./bench_compress.js";
import { register as registerChaos } from "./chaos.js";
import { register as registerChaosCast } from "./chaos-cast.js";
import { register as registerChaosDp } from "./chaos-dp.js";
import { register as registerChaosHosts } from "./chaos-hosts.js";
import { register as registerData } from "./data.js";
import { register as registerEval } from "./eval.js";
import { register as registerDemo } from "./demo.js";
import { register as registerRun } from "./run.js";
import { register as registerScenario } from "./scenario.js";
import { register as registerStatus } from "./status.js";
import { register as registerTokenizer } from "./tokenizer.js";
import { register as registerTrain } from "./train.js";
import { register as registerGenerate } from "./generate.js";
import { register as registerCompress } from "./compress.js";
import { register as registerHost } from "./host.js";
import { register as registerPool } from "./pool.js";
import { register as registerPoolDrills } from "./pool-drills.js";
import { register as registerVerify } from "./verify.js";
import { register as registerModel } from "./model.js";

type Register = (program: Command) => void;

const commands: Register[] = [
  registerRun,
  registerStatus,
  registerScenario,
  registerData,
  registerVerify,
  registerTokenizer,
  registerTrain,
  registerGenerate,
  registerCompress,
  registerModel,
  registerArtifacts,
  registerEval,
  registerBench,
  registerBenchKernels,
  registerBenchThunder,
  registerBenchGenerate,
  registerBenchAgp,
  registerBenchModels,
  registerBenchCompress,
  registerChaos,
  registerChaosCast,
  registerChaosDp,
  registerChaosHosts,
  registerHost,
  registerPool,
  registerPoolDrills,
  registerDemo,
];

export function registerAll(program: Command): void {
  for (const register of commands) register(program);
}
