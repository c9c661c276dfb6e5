// Placing a cast on hosts: which host runs each actor. Pure and deterministic, so a restarted
// director places the same way, and every refusal says why in words.
//
// An actor may run on a host when the host is in its `on` list (empty: any host), carries all
// its `tags`, and offers its `backend`. Among those:
//   spread  the host with the fewest actors of the same role (replicas apart), then the lowest
//           load after placing it (cores asked / cores offered), then the host's order
//   pack    the first host in order where it still fits (load + its cores ≤ cores offered);
//           when none has room, the least oversubscribed one
// Actors already placed on a live host (`keep`) stay where they are and count as load; only the
// others are placed — re-placing the actors of a lost host moves nothing else.
// Load also counts `load` a host reports for other runs.

export const STRATEGIES = ["spread", "pack"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** One actor to place and what it needs. */
export interface ActorDemand {
  readonly role: string;
  readonly id: string;
  /** hosts it may run on; empty = any */
  readonly on: readonly string[];
  /** tags a host must carry (all of them) */
  readonly tags: readonly string[];
  /** a backend the host must offer; null = any */
  readonly backend: string | null;
  /** cores it asks for (load accounting); 0 = negligible */
  readonly cores: number;
}

/** A live host as placement sees it. */
export interface PlacementHost {
  readonly name: string;
  readonly tags: readonly string[];
  readonly backends: readonly string[];
  readonly cores: number;
  /** cores already asked for by actors of other runs */
  readonly load: number;
}

export interface Placed {
  readonly role: string;
  readonly id: string;
  readonly host: string;
}

export interface Unplaced {
  /** role/id */
  readonly actor: string;
  readonly why: string;
}

export interface PlacementResult {
  /** every actor that has a host: the kept ones first, then the new ones in demand order */
  readonly placed: readonly Placed[];
  readonly unplaced: readonly Unplaced[];
}

export const actorKey = (a: { role: string; id: string }): string => `${a.role}/${a.id}`;

/** Why `actor` may not run on `host`, or null when it may. */
export function ineligible(actor: ActorDemand, host: PlacementHost): string | null {
  if (actor.on.length > 0 && !actor.on.includes(host.name)) return `not in its on: [${actor.on.join(", ")}]`;
  const lacking = actor.tags.filter((t) => !host.tags.includes(t));
  if (lacking.length > 0) return `lacks tag${lacking.length > 1 ? "s" : ""} ${lacking.join(", ")} (has ${host.tags.length ? host.tags.join(", ") : "none"})`;
  if (actor.backend !== null && !host.backends.includes(actor.backend)) return `offers ${host.backends.join(", ")}, not ${actor.backend}`;
  return null;
}

function refusal(actor: ActorDemand, hosts: readonly PlacementHost[], gone: readonly string[]): string {
  const named = actor.on.filter((n) => !hosts.some((h) => h.name === n));
  const parts = hosts.map((h) => `${h.name} ${ineligible(actor, h)}`);
  if (named.length > 0) parts.push(`${named.join(", ")} ${named.length > 1 ? "are" : "is"} not up${named.some((n) => gone.includes(n)) ? " (lost)" : ""}`);
  if (hosts.length === 0) return "no host is up";
  return `no host it may run on is up: ${parts.join("; ")}`;
}

export function placeActors(actors: readonly ActorDemand[], hosts: readonly PlacementHost[], o: { strategy: Strategy; keep?: readonly Placed[]; gone?: readonly string[] }): PlacementResult {
  const order = new Map(hosts.map((h, i) => [h.name, i]));
  const load = new Map(hosts.map((h) => [h.name, h.load]));
  const roleCount = new Map<string, number>();
  const actorCount = new Map<string, number>();
  const demand = new Map(actors.map((a) => [actorKey(a), a]));
  const placed: Placed[] = [];
  const count = (host: string, role: string) => roleCount.get(`${host}\u0000${role}`) ?? 0;
  const add = (p: Placed, cores: number) => {
    placed.push(p);
    load.set(p.host, (load.get(p.host) ?? 0) + cores);
    roleCount.set(`${p.host}\u0000${p.role}`, count(p.host, p.role) + 1);
    actorCount.set(p.host, (actorCount.get(p.host) ?? 0) + 1);
  };
  const kept = new Set<string>();
  for (const k of o.keep ?? []) {
    const d = demand.get(actorKey(k));
    if (!d || !order.has(k.host)) continue; // not wanted any more, or its host is gone
    add({ role: k.role, id: k.id, host: k.host }, d.cores);
    kept.add(actorKey(k));
  }
  const unplaced: Unplaced[] = [];
  for (const a of actors) {
    if (kept.has(actorKey(a))) continue;
    const eligible = hosts.filter((h) => ineligible(a, h) === null);
    if (eligible.length === 0) {
      unplaced.push({ actor: actorKey(a), why: refusal(a, hosts, o.gone ?? []) });
      continue;
    }
    const after = (h: PlacementHost) => ((load.get(h.name) ?? 0) + a.cores) / h.cores;
    const byOrder = (x: PlacementHost, y: PlacementHost) => order.get(x.name)! - order.get(y.name)!;
    let best: PlacementHost;
    if (o.strategy === "spread") {
      best = [...eligible].sort((x, y) => count(x.name, a.role) - count(y.name, a.role) || after(x) - after(y) || (actorCount.get(x.name) ?? 0) - (actorCount.get(y.name) ?? 0) || byOrder(x, y))[0]!;
    } else {
      const fits = [...eligible].sort(byOrder).find((h) => after(h) <= 1 + 1e-9);
      best = fits ?? [...eligible].sort((x, y) => after(x) - after(y) || byOrder(x, y))[0]!;
    }
    add({ role: a.role, id: a.id, host: best.name }, a.cores);
  }
  return { placed, unplaced };
}
