export { runKernelBench, gptShapes, type GemmShape, type KernelBenchOptions } from "./gemm.js";
export { runTrainBench, benchConfig, defaultPeerScript, type TrainBenchConfig, type TrainBenchOptions } from "./train.js";
export { runLlamaTrainBench, llamaBenchConfig, llamaFlopsPerToken, defaultLlamaPeer, type LlamaBenchConfig, type LlamaBenchOptions } from "./train-llama.js";
export { runTrainBenchFor, trainBenchArchs } from "./train-arch.js";
