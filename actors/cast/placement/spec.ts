// What the director needs to place a cast on hosts, as it sits in the run's spec in KV
// (RunSpec.placement): the declared hosts, the strategy and bounds, and every actor to place
// with its config, restart policy, hints and what happens to it when its host is lost. Built
// by the owner from the scenario's hosts:, placement: and cast: sections; generic per role, so
// a role added later (oracle, transfer encoder/decoder) is placed like any other.
import type { ActorDemand } from "../../../hosts/mod.js";

export const HOST_LOSS = ["replace", "stop"] as const;
export type HostLoss = (typeof HOST_LOSS)[number];

export interface PlacedActorSpec extends ActorDemand {
  /** the actor's config (JSON) */
  readonly config: unknown;
  readonly restart: "permanent" | "transient" | "temporary";
  readonly onHostLoss: HostLoss;
}

export interface CastPlacementSpec {
  readonly strategy: "spread" | "pack";
  /** how long the director waits for every declared host */
  readonly waitMs: number;
  /** a host silent this long is dead */
  readonly deadAfterMs: number;
  /** the declared hosts, in the scenario's order; `address` is where other hosts reach it for links */
  readonly hosts: readonly { readonly name: string; readonly address: string | null }[];
  readonly actors: readonly PlacedActorSpec[];
}

/** The parts of a scenario's RunPlan placement uses (structurally the scenarios layer's types). */
export interface PlacementPlanLike {
  readonly hostsDeclared?: boolean;
  readonly hosts?: readonly { readonly name: string; readonly address: string | null }[];
  readonly placement?: { readonly strategy: "spread" | "pack"; readonly waitMs: number; readonly deadAfterMs: number; readonly onHostLoss: HostLoss };
  readonly cast?: Partial<Record<string, {
    readonly on?: readonly string[];
    readonly tags?: readonly string[];
    readonly backend?: string | null;
    readonly cores?: number | null;
    readonly onHostLoss?: HostLoss | null;
  }>>;
}

export interface ChildLike {
  readonly role: string;
  readonly id: string;
  readonly config?: unknown;
  readonly restart?: "permanent" | "transient" | "temporary";
}

/** Cores an actor asks for when its role names none. */
export const DEFAULT_ACTOR_CORES = 1;

/**
 * The placement part of a run's spec: every child but the director (which runs with the owner)
 * with its role's hints. Null when the scenario declares no hosts (everything runs locally).
 */
export function placementSpecFrom(plan: PlacementPlanLike, children: readonly ChildLike[]): CastPlacementSpec | null {
  if (!plan.hostsDeclared || !plan.hosts || !plan.placement) return null;
  const p = plan.placement;
  return {
    strategy: p.strategy,
    waitMs: p.waitMs,
    deadAfterMs: p.deadAfterMs,
    hosts: plan.hosts.map((h) => ({ name: h.name, address: h.address })),
    actors: children
      .filter((c) => c.role !== "director")
      .map((c) => {
        const r = plan.cast?.[c.role];
        return {
          role: c.role,
          id: c.id,
          config: c.config ?? null,
          restart: c.restart ?? "permanent",
          on: [...(r?.on ?? [])],
          tags: [...(r?.tags ?? [])],
          backend: r?.backend ?? null,
          cores: r?.cores ?? DEFAULT_ACTOR_CORES,
          onHostLoss: r?.onHostLoss ?? p.onHostLoss,
        };
      }),
  };
}
