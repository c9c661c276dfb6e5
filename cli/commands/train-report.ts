// The report `troupe train` writes next to its checkpoints, like `troupe run` does:
// runs/<run>/report.json (what was trained on what, the result, the curves) and report.html
// (one self-contained page: the training loss per step and the validation loss at each
// evaluation drawn with the run report's SVG charts). Written at the end, and when Ctrl-C stops it.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

const MAX_POINTS = 2000;

export interface TrainCurves {
  onStep(step: number, loss: number): void;
  onProgress(p: { step: number; valLoss: number | null }): void;
  write(o: { dir: string; run: string; data: string; outcome: "done" | "interrupted"; result: Record<string, unknown>; flags: Record<string, unknown> }): Promise<{ json: string; html: string }>;
}

/** Keeps at most MAX_POINTS by dropping every other point when full (the shape survives). */
function thin(points: { x: number; y: number }[]): void {
  if (points.length <= MAX_POINTS) return;
  const kept = points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
  points.splice(0, points.length, ...kept);
}

export function trainCurves(): TrainCurves {
  const train: { x: number; y: number }[] = [];
  const val: { x: number; y: number }[] = [];
  let lastVal: number | null = null;
  let every = 1;
  let seen = 0;
  return {
    onStep(step, loss) {
      if (seen++ % every !== 0) return;
      train.push({ x: step, y: loss });
      if (train.length > MAX_POINTS) {
        thin(train);
        every *= 2;
      }
    },
    onProgress(p) {
      if (p.valLoss !== null && p.valLoss !== lastVal) val.push({ x: p.step, y: p.valLoss });
      lastVal = p.valLoss;
    },
    async write(o) {
      const R = await import("../../report/mod.js");
      await mkdir(o.dir, { recursive: true });
      const finite = (ps: { x: number; y: number }[]) => ps.filter((p) => Number.isFinite(p.y));
      const doc = {
        schema: "troupe.train-report/1", run: o.run, data: o.data, outcome: o.outcome, generated_at: new Date().toISOString(),
        flags: o.flags, result: o.result,
        curves: { train_loss: finite(train).map((p) => [p.x, p.y]), val_loss: finite(val).map((p) => [p.x, p.y]) },
      };
      const chart = R.lineChart({
        title: "loss (nats per token)",
        xLabel: "step",
        yLabel: "loss",
        lines: [
          { label: "train", color: "#1f77b4", points: finite(train), width: 1.2 },
          ...(val.length ? [{ label: "validation", color: "#d62728", points: finite(val), width: 2 }] : []),
        ],
      });
      const rows = Object.entries(o.result)
        .filter(([, v]) => v === null || typeof v !== "object")
        .map(([k, v]) => `<tr><th>${R.esc(k)}</th><td>${R.esc(v)}</td></tr>`).join("");
      const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>troupe train ${R.esc(o.run)}</title>` +
        `<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:960px}th{text-align:left;padding-right:1em;font-weight:500;color:#555}td{font-variant-numeric:tabular-nums}</style></head>` +
        `<body><h1>troupe train ${R.esc(o.run)}</h1><p>${R.esc(o.data)} · ${R.esc(o.outcome)} · ${R.esc(doc.generated_at)}</p>` +
        `${chart}<h2>Result</h2><table>${rows}</table></body></html>\n`;
      const paths = { json: join(o.dir, "report.json"), html: join(o.dir, "report.html") };
      await R.writeFileAtomic(paths.json, JSON.stringify(doc, null, 2) + "\n");
      await R.writeFileAtomic(paths.html, html);
      return paths;
    },
  };
}
