// The statechart as data, for `troupe run FILE --export-chart OUT.(json|mmd)`: a walk over the
// machine's state nodes (not a hand-kept copy), so the picture is always the chart that runs.
// JSON is a neutral graph; Mermaid is a flowchart with one subgraph per stage (flowcharts,
// unlike Mermaid state diagrams, allow edges out of a subgraph, e.g. failed → stopped).
import type { AnyStateMachine } from "xstate";
import { DIRECTOR_CHART_VERSION } from "./context.js";
import { ChartFormatError } from "./errors.js";
import { directorMachine } from "./machine.js";
import { isStageId, stageInfo } from "./stages.js";

export interface ChartTransition {
  /** Event type; "" for an eventless (always) transition. */
  readonly event: string;
  readonly targets: readonly string[];
  readonly guard: string | null;
  readonly actions: readonly string[];
}

export interface ChartState {
  /** Dotted path from the root, e.g. "stage1.training" ("" for the root). */
  readonly path: string;
  readonly type: "atomic" | "compound" | "parallel" | "final" | "history";
  readonly initial: string | null;
  readonly invokes: readonly { readonly id: string; readonly src: string }[];
  readonly transitions: readonly ChartTransition[];
  readonly states: readonly ChartState[];
}

export interface ChartDocument {
  readonly format: "troupe.director-chart";
  readonly version: number;
  readonly root: ChartState;
}

export const CHART_FORMATS = ["json", "mermaid"] as const;
export type ChartFormat = (typeof CHART_FORMATS)[number];

interface NodeLike {
  id: string;
  type: ChartState["type"];
  states: Record<string, NodeLike>;
  initial?: { target?: { id: string }[] };
  invoke: { id: string; src: unknown }[];
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
}
interface TransitionLike {
  target?: { id: string }[];
  guard?: unknown;
  actions: unknown[];
}

const pathOf = (id: string): string => id.split(".").slice(1).join(".");

function nameOf(x: unknown): string {
  if (typeof x === "string") return x;
  if (x && typeof x === "object" && "type" in x) return String((x as { type: unknown }).type);
  if (typeof x === "function") return x.name || "inline";
  return String(x);
}

function transitionOf(event: string, t: TransitionLike): ChartTransition {
  return {
    event,
    targets: (t.target ?? []).map((n) => pathOf(n.id)),
    guard: t.guard === undefined ? null : nameOf(t.guard),
    actions: t.actions.map(nameOf),
  };
}

function walk(node: NodeLike): ChartState {
  const transitions: ChartTransition[] = [];
  for (const t of node.always ?? []) transitions.push(transitionOf("", t));
  for (const [event, ts] of node.transitions) for (const t of ts) transitions.push(transitionOf(event, t));
  const initial = node.initial?.target?.[0];
  return {
    path: pathOf(node.id),
    type: node.type,
    initial: initial ? pathOf(initial.id) : null,
    invokes: node.invoke.map((i) => ({ id: i.id, src: typeof i.src === "string" ? i.src : "inline" })),
    transitions,
    states: Object.values(node.states).map(walk),
  };
}

export function chartDocument(machine: AnyStateMachine = directorMachine): ChartDocument {
  return { format: "troupe.director-chart", version: DIRECTOR_CHART_VERSION, root: walk(machine.root as unknown as NodeLike) };
}

// ---- Mermaid --------------------------------------------------------------------------

const idOf = (path: string): string => (path === "" ? "root" : path.replace(/\./g, "_"));

function label(t: ChartTransition, isElse: boolean): string {
  let ev = t.event;
  const m = /^xstate\.(done|error)\.actor\.(.+)$/.exec(ev);
  if (m) ev = `${m[2]} ${m[1]}`;
  else if (ev.startsWith("xstate.done.state.")) ev = "stage done";
  const guard = t.guard ? `[${t.guard}]` : isElse ? "[else]" : "";
  return [ev, guard].filter(Boolean).join(" ");
}

function stateTitle(s: ChartState): string {
  const key = s.path.split(".").pop()!;
  const m = /^stage(\d)$/.exec(s.path);
  if (m && isStageId(Number(m[1]))) return `stage ${m[1]} · ${stageInfo(Number(m[1]) as 0).name}`;
  const invoked = s.invokes.filter((i) => i.src !== "wait" || key === "backoff").map((i) => i.src);
  return invoked.length > 0 ? `${key}<br/><i>${invoked.join(", ")}</i>` : key;
}

export function chartToMermaid(doc: ChartDocument = chartDocument()): string {
  const out: string[] = ["flowchart TD"];
  const edges: string[] = [];
  const emit = (s: ChartState, indent: string) => {
    const id = idOf(s.path);
    if (s.states.length > 0) {
      if (s.path !== "") out.push(`${indent}subgraph ${id}["${stateTitle(s)}"]`, `${indent}  direction TB`);
      const inner = s.path === "" ? indent : indent + "  ";
      if (s.initial) {
        out.push(`${inner}${id}__start(( ))`);
        edges.push(`  ${id}__start --> ${idOf(s.initial)}`);
      }
      for (const c of s.states) emit(c, inner);
      if (s.path !== "") out.push(`${indent}end`);
    } else if (s.type === "final") {
      out.push(`${indent}${id}((("${s.path.split(".").pop()}")))`);
    } else {
      out.push(`${indent}${id}["${stateTitle(s)}"]`);
    }
    // The root's own transitions (the run time limit) apply in any state.
    const from = s.path === "" ? "anyState" : id;
    if (s.path === "" && s.transitions.some((t) => t.targets.length > 0)) out.push(`${indent}anyState(["any state"])`);
    for (const t of s.transitions) {
      if (t.targets.length === 0) continue; // actions only (progress, resume): not an edge
      const siblings = s.transitions.filter((o) => o.event === t.event);
      const text = label(t, t.guard === null && siblings.length > 1);
      for (const target of t.targets) {
        edges.push(text ? `  ${from} -->|"${text}"| ${idOf(target)}` : `  ${from} --> ${idOf(target)}`);
      }
    }
  };
  emit(doc.root, "  ");
  return [...out, ...edges, ""].join("\n");
}

export function formatChart(format: ChartFormat, doc: ChartDocument = chartDocument()): string {
  switch (format) {
    case "json":
      return JSON.stringify(doc, null, 2) + "\n";
    case "mermaid":
      return chartToMermaid(doc);
    default:
      throw new ChartFormatError(`unknown chart format "${String(format)}"; use one of: ${CHART_FORMATS.join(", ")}`);
  }
}

/** The format a file name asks for: .json → json, .mmd/.mermaid → mermaid. */
export function chartFormatForPath(file: string): ChartFormat {
  if (/\.json$/i.test(file)) return "json";
  if (/\.(mmd|mermaid)$/i.test(file)) return "mermaid";
  throw new ChartFormatError(`cannot tell the chart format from "${file}": name it *.json or *.mmd`);
}
