// The seed sweep: PyTorch writes many reference fixtures (scripts/dev/make_gpt_fixture.py, one
// python process for all of them) while troupe verifies each as soon as it is written, and the
// worst ratio of difference to bound of every check is kept, with the fixture it came from.
// `troupe verify --sweep` prints it; the seed-sweep test requires every fixture to pass.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ArgumentError, GeneratorError } from "../errors.js";
import { CheckKind } from "./compare.js";
import { type VerifyReport, verifyFixture } from "./verify.js";

/** A generator config (see make_gpt_fixture.py); the seed is added per fixture. */
export interface FixtureSpec {
  readonly vocab_size: number;
  readonly block_size: number;
  readonly n_embd: number;
  readonly n_head: number;
  readonly n_layer: number;
  readonly batch: number;
  readonly seq: number;
  readonly tied_lm_head: boolean;
  readonly ignore_frac: number;
}

/** The sweep's sizes: the shared fixture's config, odd shapes with ignored targets, a larger one. */
export const SWEEP_SIZES: Readonly<Record<string, FixtureSpec>> = {
  // ../shared/fixtures/gpt_reference: the rows fill the block
  shared: { vocab_size: 64, block_size: 16, n_embd: 32, n_head: 4, n_layer: 2, batch: 4, seq: 16, tied_lm_head: true, ignore_frac: 0 },
  // nothing a multiple of the vector width, head_dim 10, T < block_size, a quarter of the targets
  // ignored (-100), an untied lm_head (token rows that no input uses get no gradient)
  odd: { vocab_size: 37, block_size: 11, n_embd: 30, n_head: 3, n_layer: 3, batch: 3, seq: 9, tied_lm_head: false, ignore_frac: 0.25 },
  // longer reductions (B·T = 256, 4C = 256) and twice the depth
  large: { vocab_size: 128, block_size: 64, n_embd: 64, n_head: 4, n_layer: 4, batch: 4, seq: 64, tied_lm_head: true, ignore_frac: 0 },
};

export interface SweepOptions {
  /** A python with torch (e.g. /usr/bin/python3). */
  readonly python: string;
  /** scripts/dev/make_gpt_fixture.py */
  readonly generator: string;
  /** The seeds of each size (keys of SWEEP_SIZES), e.g. { shared: [1, ..., 50], large: [1, 2] }. */
  readonly seeds: Readonly<Record<string, readonly number[]>>;
  /** Called after each fixture is verified (progress). */
  readonly onFixture?: (name: string, report: VerifyReport | null, error: string | null) => void;
}

export interface SweepWorst {
  readonly worst_ratio: number;
  /** 1 / worst_ratio: how many times the worst difference fits in its bound. */
  readonly margin: number;
  readonly max_abs_diff: number;
  readonly fixture: string | null;
  readonly where: string | null;
}

export interface SweepReport {
  readonly ok: boolean;
  readonly fixtures: number;
  readonly passed: number;
  readonly failed: { readonly fixture: string; readonly reason: string }[];
  /** Each size's config and the seeds it ran. */
  readonly sizes: Readonly<Record<string, FixtureSpec & { readonly seeds: readonly number[] }>>;
  readonly worst: Record<CheckKind, SweepWorst>;
  /** Parameter elements whose reference gradient was below the floor, over all fixtures. */
  readonly small_grad_elements: number;
  readonly torch: string | null;
  readonly seconds: number;
}

/** Why `python` cannot run the generator (no such file, no torch), or null. Finds torch without importing it (fast); an empty torch/ folder is not torch. */
export function torchMissing(python: string): string | null {
  const r = spawnSync(python, ["-c", "import importlib.util as u, sys; s = u.find_spec('torch'); sys.exit(0 if s and s.origin else 3)"], { encoding: "utf8" });
  if (r.error) return `${python} cannot run: ${r.error.message}`;
  if (r.status === 3) return `${python} has no torch (Debian/Ubuntu: apt-get install python3-torch, which npm test's set-up does as root; elsewhere pip install torch and set TROUPE_PYTHON)`;
  if (r.status !== 0) return `${python} failed: ${r.stderr.trim().slice(-300)}`;
  return null;
}

/** One line the generator prints per fixture. */
interface Written {
  readonly wrote: string;
  readonly torch?: string;
}

export async function runSweep(options: SweepOptions): Promise<SweepReport> {
  const t0 = Date.now();
  const sizes = Object.keys(options.seeds);
  for (const s of sizes) if (!SWEEP_SIZES[s]) throw new ArgumentError({ op: "runSweep", arg: "seeds" }, `unknown sweep size ${JSON.stringify(s)} (known: ${Object.keys(SWEEP_SIZES).join(", ")})`);
  const specs = sizes.flatMap((size) => options.seeds[size]!.map((seed) => ({ name: `${size}-seed${seed}`, ...SWEEP_SIZES[size]!, seed })));
  const dir = mkdtempSync(join(tmpdir(), "troupe-sweep-"));
  const worst = Object.fromEntries(CheckKind.map((k) => [k, { worst_ratio: 0, margin: Infinity, max_abs_diff: 0, fixture: null, where: null }])) as Record<CheckKind, SweepWorst>;
  const failed: { fixture: string; reason: string }[] = [];
  let passed = 0;
  let small = 0;
  let torch: string | null = null;
  let stderr = "";
  try {
    const child = spawn(options.python, [options.generator, "--many", dir], { stdio: ["pipe", "pipe", "pipe"] });
    // resolves (never rejects) so that a failed spawn is reported below, not as an unhandled rejection
    const exited = new Promise<number | Error | null>((resolve) => {
      child.on("error", resolve);
      child.on("close", (code) => resolve(code));
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr = (stderr + d).slice(-4000); });
    child.stdin.end(JSON.stringify(specs));
    for await (const line of createInterface({ input: child.stdout })) {
      if (!line.startsWith("{")) continue;
      const w = JSON.parse(line) as Written;
      const name = w.wrote.split(/[\\/]/).pop()!.replace(/\.safetensors$/, "");
      torch ??= w.torch ?? null;
      let report: VerifyReport | null = null;
      let error: string | null = null;
      try {
        report = verifyFixture(w.wrote);
      } catch (err) {
        error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      rmSync(w.wrote, { force: true });
      if (report) {
        small += report.checks.after_small_grad.elements;
        for (const k of CheckKind) {
          const c = report.checks[k];
          const cur = worst[k];
          if (c.worst_ratio > cur.worst_ratio || (cur.fixture === null && c.elements > 0)) {
            worst[k] = { worst_ratio: c.worst_ratio, margin: c.worst_ratio > 0 ? 1 / c.worst_ratio : Infinity, max_abs_diff: Math.max(cur.max_abs_diff, c.max_abs_diff), fixture: name, where: c.worst };
          } else if (c.max_abs_diff > cur.max_abs_diff) {
            worst[k] = { ...cur, max_abs_diff: c.max_abs_diff };
          }
        }
        if (report.ok) passed++;
        else failed.push({ fixture: name, reason: CheckKind.filter((k) => !report!.checks[k].ok).map((k) => `${k} ${report!.checks[k].worst_ratio.toPrecision(3)}× its bound at ${report!.checks[k].worst}`).join("; ") });
      } else {
        failed.push({ fixture: name, reason: error! });
      }
      options.onFixture?.(name, report, error);
    }
    const code = await exited;
    if (code instanceof Error) throw new GeneratorError(`${options.python} ${options.generator} could not run: ${code.message}`, { cause: code });
    if (code !== 0) throw new GeneratorError(`the fixture generator exited with ${code}: ${stderr.trim().slice(-800)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const made = passed + failed.length;
  if (made !== specs.length) throw new GeneratorError(`the generator wrote ${made} of ${specs.length} fixtures: ${stderr.trim().slice(-800)}`);
  return {
    ok: failed.length === 0,
    fixtures: made,
    passed,
    failed,
    sizes: Object.fromEntries(sizes.map((s) => [s, { ...SWEEP_SIZES[s]!, seeds: options.seeds[s]! }])),
    worst,
    small_grad_elements: small,
    torch,
    seconds: (Date.now() - t0) / 1000,
  };
}
