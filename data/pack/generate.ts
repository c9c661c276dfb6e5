// The built-in prompt pack: deterministic from a seed, no downloads. For every selected
// (domain, difficulty) cell, one RNG derived from (seed, domain, difficulty) draws tasks;
// duplicates are dropped; the first `heldOutPerCell` distinct prompts are held out and the
// next `trainPerCell` are training. So train and held-out never share a prompt, a cell's
// records do not depend on which other domains are selected, and asking for more training
// records never changes the held-out ones.
import { DataConfigError } from "../errors.js";
import { DIFFICULTIES, type Difficulty, type PromptRecord, type Split } from "../records.js";
import { createRng, deriveSeed } from "../rng.js";
import { expectInt, expectKeys, expectStringList, isPlainObject, describe } from "../validate.js";
import { DOMAIN_NAMES, DOMAINS } from "./domains.js";

export interface PackOptions {
  seed?: number;
  /** Domains to include (default: all built-in domains). */
  domains?: string[];
  /** Domains to leave out (applied after `domains`). */
  exclude?: string[];
  difficulties?: Difficulty[];
  trainPerCell?: number;
  heldOutPerCell?: number;
}

export type ResolvedPackOptions = Required<Omit<PackOptions, "exclude">>;

export const DEFAULT_PACK_SEED = 1234;
export const DEFAULT_TRAIN_PER_CELL = 300;
export const DEFAULT_HELD_OUT_PER_CELL = 50;

export interface PackCell {
  readonly domain: string;
  readonly difficulty: Difficulty;
  readonly train: number;
  readonly heldOut: number;
}

export interface PromptPack {
  readonly options: ResolvedPackOptions;
  readonly train: PromptRecord[];
  readonly heldOut: PromptRecord[];
  readonly cells: PackCell[];
}

/** Validates a domain list against the built-in names (error names the key). */
export function checkDomains(key: string, value: unknown, known: readonly string[] = DOMAIN_NAMES): string[] {
  const list = expectStringList(key, value);
  for (const d of list) {
    if (!known.includes(d)) throw new DataConfigError(key, `unknown domain ${JSON.stringify(d)} (known: ${known.join(", ")})`);
  }
  return list;
}

export function checkDifficulties(key: string, value: unknown): Difficulty[] {
  const list = expectStringList(key, value);
  for (const d of list) {
    if (!(DIFFICULTIES as readonly string[]).includes(d)) {
      throw new DataConfigError(key, `expected "easy" and/or "hard", got ${describe(d)}`);
    }
  }
  return list as Difficulty[];
}

/** Validates plain pack options (e.g. a scenario's `data.source`), filling defaults. */
export function resolvePackOptions(raw: unknown = {}, key = "pack"): ResolvedPackOptions {
  if (!isPlainObject(raw)) throw new DataConfigError(key, `expected an object, got ${describe(raw)}`);
  expectKeys(key, raw, ["kind", "seed", "domains", "exclude", "difficulties", "trainPerCell", "heldOutPerCell"]);
  const seed = raw.seed === undefined ? DEFAULT_PACK_SEED : expectInt(`${key}.seed`, raw.seed, 0);
  const include = raw.domains === undefined ? [...DOMAIN_NAMES] : checkDomains(`${key}.domains`, raw.domains);
  const exclude = raw.exclude === undefined ? [] : checkDomains(`${key}.exclude`, raw.exclude);
  const domains = include.filter((d) => !exclude.includes(d));
  if (domains.length === 0) throw new DataConfigError(`${key}.domains`, "no domain left after exclude");
  const difficulties = raw.difficulties === undefined ? [...DIFFICULTIES] : checkDifficulties(`${key}.difficulties`, raw.difficulties);
  if (difficulties.length === 0) throw new DataConfigError(`${key}.difficulties`, "expected at least one difficulty");
  const trainPerCell = raw.trainPerCell === undefined ? DEFAULT_TRAIN_PER_CELL : expectInt(`${key}.trainPerCell`, raw.trainPerCell, 0, 100_000);
  const heldOutPerCell =
    raw.heldOutPerCell === undefined ? DEFAULT_HELD_OUT_PER_CELL : expectInt(`${key}.heldOutPerCell`, raw.heldOutPerCell, 0, 100_000);
  return { seed, domains, difficulties, trainPerCell, heldOutPerCell };
}

function record(
  domain: string,
  difficulty: Difficulty,
  split: Split,
  k: number,
  task: { prompt: string; response: string; labels: string[] },
): PromptRecord {
  return {
    prompt: task.prompt,
    response: task.response,
    metadata: { domain, difficulty, labels: [...task.labels], split, id: `${domain}/${difficulty}/${split}/${k}` },
  };
}

export function generatePack(opts: PackOptions = {}): PromptPack {
  const options = resolvePackOptions(opts);
  const train: PromptRecord[] = [];
  const heldOut: PromptRecord[] = [];
  const cells: PackCell[] = [];
  for (const domain of DOMAINS.filter((d) => options.domains.includes(d.name))) {
    for (const difficulty of DIFFICULTIES.filter((d) => options.difficulties.includes(d))) {
      const rng = createRng(deriveSeed(options.seed, "pack", domain.name, difficulty));
      const want = options.heldOutPerCell + options.trainPerCell;
      const seen = new Set<string>();
      let draws = 0;
      const maxDraws = 50 * want + 1000;
      while (seen.size < want) {
        if (++draws > maxDraws) {
          throw new DataConfigError(
            "trainPerCell",
            `${domain.name}/${difficulty} yields only ${seen.size} distinct prompts after ${maxDraws} draws; ask for fewer than ${want}`,
          );
        }
        const task = domain.make(rng, difficulty);
        if (seen.has(task.prompt)) continue;
        seen.add(task.prompt);
        const k = seen.size - 1;
        if (k < options.heldOutPerCell) heldOut.push(record(domain.name, difficulty, "heldout", k, task));
        else train.push(record(domain.name, difficulty, "train", k - options.heldOutPerCell, task));
      }
      cells.push({ domain: domain.name, difficulty, train: options.trainPerCell, heldOut: options.heldOutPerCell });
    }
  }
  train.forEach((r, i) => (r.line = i + 1));
  heldOut.forEach((r, i) => (r.line = i + 1));
  return { options, train, heldOut, cells };
}
