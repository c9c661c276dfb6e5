// Reading a scenario: YAML text → parsed file (schema) → RunPlan (cross-key checks). Every
// problem is collected and thrown together as one ScenarioError whose lines read
// `file:line key.path: message`.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { checkPlan } from "../actors/director/mod.js";
import { curriculumPlan } from "./curriculum.js";
import { ScenarioError, ScenarioReadError } from "./errors.js";
import type { RunPlan } from "./plan.js";
import { Ctx, INVALID } from "./schema.js";
import { scenarioSchema } from "./sections.js";
import { castPlan, dataPlan, hostsPlan, limitsPlan, modelPlan, placementPlan, runInfo, thunderPlan } from "./resources.js";

export interface LoadOptions {
  /** Check that data files named by the scenario exist (default true). */
  readonly checkFiles?: boolean;
  /** Directory relative paths are resolved against (default: the file's directory). */
  readonly baseDir?: string;
}

/**
 * Validates scenario text. `file` is how messages name it (as the user typed it).
 * Throws ScenarioError listing every problem.
 */
export function parseScenario(text: string, file: string, opts: LoadOptions = {}): RunPlan {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const ctx = new Ctx(file, doc, lines);
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = lines.linePos(e.pos[0]);
      ctx.issues.push({ file, line: Math.max(1, line), col, path: "", message: `YAML: ${e.message.split("\n")[0]}` });
    }
    throw new ScenarioError(file, ctx.issues);
  }
  if (doc.contents === null) {
    throw new ScenarioError(file, [{ file, line: 1, col: 1, path: "", message: "the file is empty; a scenario needs run, model and curriculum" }]);
  }
  const parsed = scenarioSchema.parse(ctx.resolve(doc.contents), [], ctx);
  if (parsed === INVALID) throw new ScenarioError(file, ctx.issues);

  const baseDir = opts.baseDir ?? dirname(resolve(file));
  const hosts = hostsPlan(parsed, ctx);
  const data = dataPlan(parsed, baseDir, ctx, opts.checkFiles ?? true);
  const model = modelPlan(parsed, ctx, Object.keys(data.lanes), baseDir);
  const plan: RunPlan = {
    source: resolve(file),
    run: runInfo(parsed, baseDir),
    hosts,
    hostsDeclared: parsed.hosts !== undefined,
    placement: placementPlan(parsed, ctx),
    cast: castPlan(parsed, hosts, ctx, model.block),
    model,
    data,
    curriculum: curriculumPlan(parsed, ctx, Object.keys(data.lanes), model.nLayer),
    oracle: {
      klMax: parsed.oracle?.kl_max ?? 0.5,
      top1: parsed.oracle?.top1 ?? true,
      rule: parsed.oracle?.rule ?? "stable",
      decode: parsed.oracle?.decode ?? "auto",
    },
    limits: limitsPlan(parsed),
    thunder: thunderPlan(parsed, hosts, ctx),
  };
  if (ctx.issues.length > 0) throw new ScenarioError(file, ctx.issues);
  // The director re-checks its own invariants; a failure here is a loader bug, not user error.
  checkPlan(plan.curriculum);
  return plan;
}

/** Reads and validates a scenario file. Throws ScenarioReadError or ScenarioError. */
export function loadScenario(file: string, opts: LoadOptions = {}): RunPlan {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a scenario file" : String((err as Error).message);
    throw new ScenarioReadError(file, why, { cause: err });
  }
  return parseScenario(text, file, opts);
}
