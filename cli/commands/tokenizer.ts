// `troupe tokenizer …`: byte-level BPE tokenizers as Hugging Face files.
//   troupe tokenizer train --data FILE --vocab N --out DIR [--min-frequency 2] [--special a,b] [--json]
//       learns merges on a text file, writes DIR/tokenizer.json + DIR/tokenizer_config.json
//   troupe tokenizer encode --tokenizer DIR --text TEXT [--special] [--json]
//       the ids (and tokens) of a text with any tokenizer.json directory
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { intArg } from "../args.js";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

interface TrainFlags {
  data: string;
  vocab: number;
  out: string;
  minFrequency: number;
  special?: string;
  json?: boolean;
}

async function train(flags: TrainFlags): Promise<void> {
  const D = await import("../../data/mod.js");
  let text: string;
  try {
    text = await readFile(flags.data, "utf8");
  } catch (err) {
    throw new UsageError(`--data: cannot read ${flags.data} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const specialTokens = flags.special ? flags.special.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
  let trained;
  try {
    trained = D.trainBpe(text, { vocabSize: flags.vocab, minFrequency: flags.minFrequency, ...(specialTokens ? { specialTokens } : {}) });
  } catch (err) {
    if (D.isDataConfigError(err)) throw new UsageError(`--${err.key === "vocab" ? "vocab" : err.key}: ${err.message}`);
    throw err;
  }
  const tok = D.tokenizerOfTrained(trained);
  const files = await D.writeTokenizerDir(flags.out, tok.files);
  const ids = tok.encode(text);
  const bytes = Buffer.byteLength(text, "utf8");
  const result = {
    out: flags.out, files, vocab: tok.vocabSize, merges: trained.stats.merges, stopped_early: trained.stats.stoppedEarly,
    special_tokens: trained.specialTokens, eot: tok.eot, words: trained.stats.words, distinct_words: trained.stats.distinctWords,
    corpus_bytes: bytes, corpus_tokens: ids.length, bytes_per_token: Number((bytes / ids.length).toFixed(3)),
    train_s: Number((trained.stats.ms / 1000).toFixed(2)), sha256: (tok.spec as { sha256: string }).sha256,
  };
  if (flags.json) printJson(result);
  else {
    printLine(`wrote ${files.join(", ")}`);
    printLine(`vocab ${result.vocab} (${result.merges} merges${result.stopped_early ? ", stopped early: no pair left above --min-frequency" : ""}), ${result.bytes_per_token} bytes/token on ${flags.data}, trained in ${result.train_s} s`);
  }
}

async function encode(flags: { tokenizer: string; text: string; special?: boolean; json?: boolean }): Promise<void> {
  const D = await import("../../data/mod.js");
  const tok = await D.loadTokenizer(flags.tokenizer);
  const ids = [...tok.encode(flags.text, { addSpecialTokens: flags.special === true })];
  const tokens = ids.map((id) => tok.idToToken(id) ?? null);
  if (flags.json) printJson({ tokenizer: flags.tokenizer, ids, tokens, decoded: tok.decode(ids) });
  else printLine(ids.map((id, i) => `${id}:${JSON.stringify(tokens[i])}`).join(" "));
}

export function register(program: Command): void {
  const group = program.command("tokenizer").description("train and use byte-level BPE tokenizers (Hugging Face tokenizer.json)");
  group
    .command("train")
    .description("learn a byte-level BPE (GPT-2 style) on a text file and write tokenizer.json + tokenizer_config.json")
    .requiredOption("--data <file>", "a UTF-8 text file")
    .requiredOption("--vocab <n>", "vocabulary size: 256 bytes + merges + special tokens", intArg("--vocab", 257, 2_097_152))
    .requiredOption("--out <dir>", "directory to write the tokenizer files into")
    .option("--min-frequency <n>", "never merge a pair seen fewer times", intArg("--min-frequency", 1), 2)
    .option("--special <list>", "special tokens, comma-separated; the first ends a text (<|endoftext|>)")
    .option("--json", "print one JSON document")
    .action(train);
  group
    .command("encode")
    .description("the token ids of a text")
    .requiredOption("--tokenizer <dir>", "a directory with tokenizer.json (made by `tokenizer train`, or a Hugging Face model directory)")
    .requiredOption("--text <text>", "text to encode")
    .option("--special", "add the post-processor's special tokens (e.g. BOS)")
    .option("--json", "print one JSON document")
    .action(encode);
}
