// `troupe train`: plain single-host training, the way nanoGPT or mlx-lm's LoRA trainer is used.
//   troupe train --data FILE.txt [--steps 2000] [--resume] --json          byte-level LM on a text file
//   troupe train --data FILE.txt --tokenizer DIR                            the same with a tokenizer.json (e.g. a BPE)
//   troupe train --data FILE.jsonl|pack:DOMAINS [--lora R --base CKPT]     SFT (prompt tokens masked)
//   troupe train --model HF_DIR --data ... [--lora R] --save-hf OUT [--fuse] fine-tune a Hugging Face model
//                and write it back as a model directory (or the adapter as a PEFT directory)
// Checkpoints go to <out>/<run>/checkpoints/<stage>/step-XXXXXXXX/ (every --checkpoint-every
// steps and at the end); --resume continues from the newest good one. Progress: a bar on a
// TTY, JSON lines otherwise (stderr). The result is one JSON document on stdout with --json.
import { appendFileSync } from "node:fs";
import { basename, extname } from "node:path";
import type { Command } from "commander";
import { intArg, urlArg } from "../args.js";
import { checkInputFile } from "../inputs.js";
import { printJson, printLine } from "../output.js";

export interface TrainFlags {
  data: string;
  steps: number;
  batch?: number;
  block?: number;
  layers?: number;
  embd?: number;
  heads?: number;
  dropout?: string;
  lr?: string;
  warmup?: number;
  minLr?: string;
  weightDecay?: string;
  betas?: string;
  gradClip?: string;
  allowChange?: boolean;
  accumulate?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  seed?: number;
  lora?: number;
  baseBits?: number;
  loraAlpha?: string;
  loraDropout?: string;
  loraTargets?: string;
  dora?: boolean;
  base?: string;
  model?: string;
  saveHf?: string;
  fuse?: boolean;
  tokenizer?: string;
  run?: string;
  out: string;
  stage: string;
  resume?: boolean;
  force?: boolean;
  trace?: string;
  nats?: string;
  packTrain?: number;
  json?: boolean;
  dpWorld?: number;
  dpRank?: number;
  dpGroup?: string;
  dpAddress?: string;
  host?: string;
  compression?: string;
  onPeerLoss?: string;
  deadAfterMs?: number;
}

export function register(program: Command): void {
  program
    .command("train")
    .description("train a model (a fresh GPT, or --model DIR: any Hugging Face directory troupe reads) on a text file, a JSONL of prompt/response pairs or the built-in prompt pack (pack:DOMAINS)")
    .requiredOption("--data <source>", "FILE.txt (byte-level LM), FILE.jsonl (SFT) or pack:domain,domain (SFT on the built-in pack)")
    .option("--steps <n>", "optimizer steps", intArg("--steps", 1), 2000)
    .option("--batch <n>", "rows per micro-batch (text 16, SFT 32)", intArg("--batch", 1, 4096))
    .option("--block <n>", "context length (text 128, SFT 64)", intArg("--block", 2, 4096))
    .option("--layers <n>", "transformer blocks (4)", intArg("--layers", 1, 64))
    .option("--embd <n>", "channels (128)", intArg("--embd", 1, 8192))
    .option("--heads <n>", "attention heads (4)", intArg("--heads", 1, 128))
    .option("--dropout <p>", "dropout (0)")
    .option("--lr <x>", "peak learning rate (1e-3; LoRA 2e-3)")
    .option("--warmup <n>", "warm-up steps (min(100, steps/10))", intArg("--warmup", 0))
    .option("--min-lr <x>", "final learning rate of the cosine (lr/10); with --warmup 0 and --min-lr = --lr the rate is constant")
    .option("--weight-decay <x>", "AdamW weight decay of matrices (0.01)")
    .option("--betas <b1,b2>", "AdamW betas (0.9,0.999)")
    .option("--grad-clip <x>", "clip the gradient norm at x; 0: no clipping (1)")
    .option("--accumulate <n>", "micro-batches per step (1)", intArg("--accumulate", 1, 1024))
    .option("--eval-every <n>", "evaluate every n steps (min(250, steps/10))", intArg("--eval-every", 1))
    .option("--checkpoint-every <n>", "checkpoint every n steps (min(500, steps/10)); 0: only at the end", intArg("--checkpoint-every", 0))
    .option("--seed <n>", "seed of weights and data order (1337)", intArg("--seed", 0, 0xffffffff))
    .option("--pack-train <n>", "pack:… training examples per domain and difficulty (300)", intArg("--pack-train", 1, 100_000))
    .option("--lora <r>", "train a LoRA adapter of rank r on a frozen --base", intArg("--lora", 1, 4096))
    .option("--base-bits <bits>", "with --lora: QLoRA, the frozen base's Linear layers (all but the head) stored in 4-bit (Q4_0) or 8-bit blocks, dequantised inside the GEMM", intArg("--base-bits", 4, 8))
    .option("--lora-alpha <a>", "LoRA alpha (2r)")
    .option("--lora-dropout <p>", "LoRA dropout (0)")
    .option("--lora-targets <list>", "layers to adapt (default: the architecture's, qkv,proj for gpt2, q_proj,v_proj for llama)")
    .option("--dora", "DoRA instead of LoRA")
    .option("--base <checkpoint>", "base model for --lora: a checkpoint, stage or run directory, or a model.safetensors")
    .option("--model <dir>", "the model to train: a Hugging Face model directory (config.json + safetensors, its tokenizer.json if it ships one) or a troupe checkpoint; with --lora, the frozen base")
    .option("--save-hf <dir>", "write the result as a Hugging Face model directory (with --lora: the adapter as a PEFT directory)")
    .option("--fuse", "with --lora and --save-hf: merge the adapter into the base weights and write the model")
    .option("--tokenizer <dir>", "tokenize with the tokenizer.json in DIR (made by `troupe tokenizer train`, or a model directory's); default bytes, or the --model/--base model's")
    .option("--run <name>", "run name (default: from --data)")
    .option("--out <dir>", "where runs are written", "runs")
    .option("--stage <name>", "stage name of the checkpoints", "train")
    .option("--resume", "continue from the newest good checkpoint of this run (the same hyper-parameters, stored with it)")
    .option("--allow-change", "with --resume: continue although a hyper-parameter differs from the checkpoint's")
    .option("--force", "do it anyway: start over although this run has checkpoints, train although the memory estimate exceeds what is available")
    .option("--nats <url>", "also write checkpoints to the run's JetStream Object Store on this server", urlArg("--nats"))
    .option("--trace <file>", "append every step's loss as a JSON line (for comparisons)")
    .option("--json", "print one JSON document")
    .option("--dp-world <n>", "Thunder-Train: data-parallel ranks (hosts) training together (needs --nats)", intArg("--dp-world", 1, 256))
    .option("--dp-rank <r>", "this process's rank, 0 .. dp-world-1", intArg("--dp-rank", 0, 255))
    .option("--dp-group <name>", "the group's name, the same on every rank (default: the run name)")
    .option("--dp-address <ip>", "this host's data address: links listen and dial here (default 127.0.0.1)")
    .option("--host <name>", "this host's name (default rank<r>); checkpoints go to <out>/<host>/")
    .option("--compression <kind>", "gradients on the wire: none, f16 or bf16 (default none)")
    .option("--on-peer-loss <policy>", "when a rank is lost: stop (with a report) or continue on the survivors from the last checkpoint (default stop)")
    .option("--dead-after-ms <ms>", "a rank silent this long is lost (default 3000)", intArg("--dead-after-ms", 100, 600_000))
    .action(async (flags: TrainFlags) => {
      const { runTrain } = await import("./train-run.js");
      const result = await runTrain(flags);
      if (flags.json) printJson(result);
      else for (const [k, v] of Object.entries(result)) printLine(`${k.padEnd(20)} ${typeof v === "object" ? JSON.stringify(v) : v}`);
      const dp = result.data_parallel as { outcome?: string } | undefined;
      if (dp?.outcome === "stopped-with-report") process.exitCode = 1;
    });
}

/** The run name used when --run is not given: the data file's base name, or pack-<domains>. */
export function defaultRunName(data: string): string {
  const raw = data.startsWith("pack:") ? `pack-${data.slice(5).split(",").join("-")}` : basename(data, extname(data));
  return raw.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "run";
}

export function traceWriter(file: string | undefined): ((step: number, loss: number) => void) | undefined {
  if (!file) return undefined;
  return (step, loss) => appendFileSync(file, JSON.stringify({ step, loss }) + "\n");
}

export function checkDataPath(data: string): void {
  if (data.startsWith("pack:")) return;
  const jsonl = extname(data).toLowerCase() === ".jsonl";
  checkInputFile(`--data ${data}`, data, { text: true, what: jsonl ? "a JSONL of prompt/response pairs" : "a UTF-8 text corpus" });
}
