// troupe eval --checkpoint PATH|--run ID --data FILE.txt|FILE.jsonl|pack:DOMAINS [--split val|train|all] [--json]
// Scores a trained model without training it: loss (nats per token) and bits per byte; on
// prompt/response data (JSONL, the built-in pack's held-out items) also greedy exact match per
// domain. --adapter puts a saved adapter on the model first.
import { extname } from "node:path";
import type { Command } from "commander";
import { UsageCode, UsageError } from "../errors.js";
import { checkInputFile } from "../inputs.js";
import { printJson, printLine } from "../output.js";
import { withDataFlag } from "./train-checks.js";

interface EvalFlags {
  checkpoint?: string;
  run?: string;
  runs: string;
  adapter?: string;
  data: string;
  split: string;
  json?: boolean;
}

const round = (x: number, d = 4) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

export function register(program: Command): void {
  program
    .command("eval")
    .description("score a trained model on data: loss, bits per byte, exact match for prompt/response data")
    .option("--checkpoint <path>", "checkpoint, stage or run directory, or a model.safetensors")
    .option("--run <id>", "the model a run kept (runs/<id>/)")
    .option("--runs <dir>", "where runs are", "runs")
    .option("--adapter <file>", "an adapter.safetensors to put on the model")
    .requiredOption("--data <source>", "FILE.txt (text), FILE.jsonl (prompt/response) or pack:domain,domain (the built-in pack's held-out items)")
    .option("--split <which>", "text: val (the split training held out), train or all", "val")
    .option("--json", "print one JSON document")
    .action(async (flags: EvalFlags) => {
      if (!["val", "train", "all"].includes(flags.split)) throw new UsageError(`--split must be val, train or all, got ${JSON.stringify(flags.split)}`, { code: UsageCode.badValue });
      if (!flags.checkpoint === !flags.run) throw new UsageError("give the model with --checkpoint PATH or --run ID (one of them)");
      const pack = flags.data.startsWith("pack:");
      const jsonl = !pack && extname(flags.data).toLowerCase() === ".jsonl";
      if (!pack) checkInputFile(`--data ${flags.data}`, flags.data, { text: true, what: jsonl ? "a JSONL of prompt/response pairs" : "a UTF-8 text corpus" });
      const M = await import("../../models/mod.js");
      const D = await import("../../data/mod.js");
      const { loadAdapterArg, loadModelArg, modelPathOrRun, resolveRunId } = await import("../models.js");
      const label = flags.run ? `--run ${flags.run}` : `--checkpoint ${flags.checkpoint}`;
      const path = flags.run ? resolveRunId(label, flags.run, flags.runs) : modelPathOrRun(label, flags.checkpoint!, flags.runs);
      const { model, source } = await loadModelArg(label, path);
      if (flags.adapter) await loadAdapterArg(`--adapter ${flags.adapter}`, model, flags.adapter);
      const tok = M.tokenizerOf(model);
      const t0 = performance.now();
      let doc: Record<string, unknown>;
      if (!pack && !jsonl) {
        const corpus = await D.loadTextCorpus(flags.data, { tokenizer: tok });
        const r = M.evaluateText(model, corpus, { split: flags.split as "val" | "train" | "all" });
        doc = { kind: "text", split: flags.split, loss: round(r.loss), bpb: round(r.bpb), tokens: r.tokens, windows: r.windows };
      } else {
        const block = model.dims.maxPositions;
        const data = await withDataFlag(flags.data, async () => pack
          ? await M.packData(flags.data.slice(5).split(",").map((s) => s.trim()).filter(Boolean), { block, tokenizer: tok })
          : await M.jsonlData(flags.data, { block, tokenizer: tok }));
        // a pack's held-out items; every usable record of a JSONL file
        const items = pack ? data.heldOut : [...data.train, ...data.heldOut];
        const r = M.evaluateSft(model, items);
        doc = { kind: "prompt_response", loss: round(r.loss), bpb: round(r.bpb), exact_match: round(r.exactMatch), n: r.n, by_domain: r.byDomain, examples: r.examples };
      }
      const out = { schema: "troupe.eval/1", model: source, data: flags.data, tokenizer: D.tokenizerId(tok.spec), ...doc, wall_s: round((performance.now() - t0) / 1000, 2) };
      if (flags.json) printJson(out);
      else for (const [k, v] of Object.entries(out)) if (k !== "schema") printLine(`${k.padEnd(14)} ${typeof v === "object" ? JSON.stringify(v) : v}`);
    });
}
