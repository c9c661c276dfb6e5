// The compression benches: precisions (bench quant), distillation (bench distill), generation
// against llama.cpp on the same GGUF (bench generate).
export { shakespeareBase, SHAKESPEARE, type Base, type BaseOptions } from "./base.js";
export { runQuantBench, type QuantBenchOptions } from "./quant.js";
export { runDistillBench, type DistillBenchOptions } from "./distill.js";
export { runGenerateBench, type GenerateBenchOptions } from "./generate.js";
