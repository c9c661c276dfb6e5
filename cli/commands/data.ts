// `troupe data …`: the built-in prompt pack and JSONL inspection.
//   troupe data pack --out FILE.jsonl [--seed N] [--domains a,b] [--exclude c]
//                    [--difficulty easy,hard] [--split train|heldout|both] [--train N] [--held-out N] [--json]
//   troupe data inspect FILE.jsonl [--block 64] [--json]
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

function int(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} expects a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

interface PackFlags {
  out: string;
  seed?: number;
  domains?: string;
  exclude?: string;
  difficulty?: string;
  split: string;
  train?: number;
  heldOut?: number;
  json?: boolean;
}

async function pack(flags: PackFlags): Promise<void> {
  const data = await import("../../data/mod.js");
  if (!["train", "heldout", "both"].includes(flags.split)) {
    throw new UsageError(`--split expects train, heldout or both, got ${JSON.stringify(flags.split)}`);
  }
  const raw: Record<string, unknown> = {};
  if (flags.seed !== undefined) raw.seed = flags.seed;
  if (flags.domains !== undefined) raw.domains = flags.domains;
  if (flags.exclude !== undefined) raw.exclude = flags.exclude;
  if (flags.difficulty !== undefined) raw.difficulties = flags.difficulty;
  if (flags.train !== undefined) raw.trainPerCell = flags.train;
  if (flags.heldOut !== undefined) raw.heldOutPerCell = flags.heldOut;
  let options;
  try {
    options = data.resolvePackOptions(raw, "pack");
  } catch (err) {
    if (data.isDataConfigError(err)) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  const p = data.generatePack(options);
  const records = [...(flags.split !== "heldout" ? p.train : []), ...(flags.split !== "train" ? p.heldOut : [])];
  await data.writeJsonl(flags.out, records);
  const summary = { out: flags.out, records: records.length, split: flags.split, options: p.options, cells: p.cells };
  if (flags.json) printJson(summary);
  else printLine(`wrote ${records.length} records (${flags.split}) to ${flags.out}: ${p.options.domains.join(", ")}`);
}

async function inspect(file: string, flags: { block: number; json?: boolean }): Promise<void> {
  const data = await import("../../data/mod.js");
  const loaded = await data.loadJsonl(file);
  const template = data.chatTemplate({ tokenizer: data.byteTokenizer() });
  const stats = data.recordStats(loaded.records, template, flags.block);
  const report = { file, lines: loaded.lines, blank: loaded.blank, skipped: loaded.skipped, ...stats };
  if (flags.json) {
    printJson(report);
    return;
  }
  printLine(`${file}: ${loaded.records.length} records, ${data.formatSkips(loaded.skipped)}`);
  printLine(`  domains: ${Object.entries(stats.byDomain).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  printLine(`  difficulty: ${Object.entries(stats.byDifficulty).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  printLine(`  tokens per example: min ${stats.tokens.min}, mean ${stats.tokens.mean.toFixed(1)}, max ${stats.tokens.max}`);
  for (const lane of Object.values(stats.lanes)) {
    printLine(`  lane ${lane.lane}: keeps ${lane.kept.train}, ${data.formatSkips(lane.skipped)}`);
  }
}

export function register(program: Command): void {
  const data = program.command("data").description("Prompt packs and data files");
  data
    .command("pack")
    .description("Write the built-in prompt pack as JSONL (prompt/response/metadata)")
    .requiredOption("--out <file>", "output JSONL file")
    .option("--seed <n>", "pack seed", int("seed"))
    .option("--domains <list>", "comma-separated domains to include")
    .option("--exclude <list>", "comma-separated domains to leave out")
    .option("--difficulty <list>", "easy, hard or easy,hard")
    .option("--split <which>", "train, heldout or both", "both")
    .option("--train <n>", "training records per domain and difficulty", int("train"))
    .option("--held-out <n>", "held-out records per domain and difficulty", int("held-out"))
    .option("--json", "print a JSON summary")
    .action(pack);
  data
    .command("inspect")
    .description("Count records of a JSONL file per domain/difficulty and report bad lines")
    .argument("<file>", "JSONL file")
    .option("--block <n>", "block size for length checks", int("block"), 64)
    .option("--json", "print the report as JSON")
    .action(inspect);
}
