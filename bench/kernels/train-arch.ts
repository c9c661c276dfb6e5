// `bench train --arch NAME`: which training bench measures which architecture, and the lines
// it prints without --json (gpt2: the bench GPT of train.ts; llama: the compute-bound Llama of
// train-llama.ts, with fraction_of_peak).
import { runTrainBench } from "./train.js";
import { runLlamaTrainBench } from "./train-llama.js";

interface ArchBenchOptions {
  readonly peerScript?: string | false;
  readonly rounds?: number;
  /** progress lines (stderr in the CLI) */
  readonly onProgress?: (line: string) => void;
}

const benches: Record<string, (o: ArchBenchOptions) => { result: unknown; lines: string[] }> = {
  gpt2: (o) => {
    const r = runTrainBench(o);
    return {
      result: r,
      lines: [
        `troupe ${r.tokens_per_s} tokens/s (${r.step_ms} ms/step, ${r.threads} threads)  torch ${r.peer?.torch_tokens_per_s ?? "-"}  ratio ${r.ratio ?? "-"}`,
        `  peer: ${r.peer ? `best of ${r.peer_search!.length} configurations over ${r.rounds} rounds: ${r.peer.config} (OpenBLAS ${r.peer.blas_core})` : `none (${r.peer_reason})`}`,
        `one thread each: troupe ${r.one_thread.troupe_tokens_per_s} tokens/s  torch ${r.one_thread.torch_tokens_per_s ?? "-"}${r.one_thread.torch ? ` (${r.one_thread.torch.config})` : ""}  ratio ${r.one_thread.ratio ?? "-"}`,
        `RSS ${r.rss_mb.after_10} MB after 10 steps, ${r.rss_mb.after_200} MB after ${r.rss_mb.steps}`,
      ],
    };
  },
  llama: (o) => {
    const r = runLlamaTrainBench(o);
    return {
      result: r,
      lines: [`troupe ${r.tokens_per_s} tokens/s (${r.step_ms} ms/step, ${r.model_gflops} GFLOP/s = ${r.fraction_of_peak} of the ${r.fma_peak_gflops} GFLOP/s FMA peak)  torch ${r.peer?.torch_tokens_per_s ?? "-"} (${r.peer?.torch_config ?? "-"})  ratio ${r.ratio ?? "-"}`],
    };
  },
};

export const trainBenchArchs: readonly string[] = Object.keys(benches);

export function runTrainBenchFor(arch: string, options: ArchBenchOptions): { result: unknown; lines: string[] } {
  return benches[arch]!(options);
}
