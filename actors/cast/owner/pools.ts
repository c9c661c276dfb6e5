// The owner's side of pooled roles (scenario cast.teacher.pool / cast.evaluator.pool): local
// worker processes when the scenario asks for a number of them (each on an ephemeral port,
// restarted on its port if it dies, stopped with the run), the actor config that points the
// role at its workers, and the workers as members of the cast in the report. (The pools'
// metrics as report rows are the report layer's: report/pools.ts.)
import type { Logger } from "../../../hosts/mod.js";
import type { LocalPool } from "../../../hosts/pools/mod.js";
import type { PoolRoleConfig, PoolRoleSpec } from "../pools.js";
import type { CastMember } from "./report-input.js";

export const POOLED_ROLES = ["teacher", "evaluator"] as const;
export type PooledRole = (typeof POOLED_ROLES)[number];

export interface RolePools {
  /** The `pool` part of each pooled role's actor config. */
  readonly configs: Partial<Record<PooledRole, PoolRoleConfig>>;
  members(host: string): CastMember[];
  notes(): string[];
  stop(): Promise<void>;
}

export async function startRolePools(specs: Partial<Record<PooledRole, PoolRoleSpec | null>>, natsUrl: string, log: Logger): Promise<RolePools> {
  const local = new Map<PooledRole, LocalPool>();
  const configs: Partial<Record<PooledRole, PoolRoleConfig>> = {};
  const notes: string[] = [];
  try {
    for (const role of POOLED_ROLES) {
      const p = specs[role];
      if (!p) continue;
      let workers: readonly string[];
      let origin: string;
      if (p.spawn !== null) {
        const { startLocalPool } = await import("../../../hosts/pools/mod.js");
        const lp = await startLocalPool({ count: p.spawn, spec: { buckets: p.buckets, cores: p.cores, compileMs: p.compileMs, name: `${role}-pool` }, respawn: true, log });
        local.set(role, lp);
        workers = lp.addresses;
        origin = `${p.spawn} local worker${p.spawn === 1 ? "" : "s"} × ${p.cores} cores (troupe CPU workers emulating a compiled pool)`;
      } else {
        workers = p.workers ?? [];
        origin = `${workers.length} listed worker${workers.length === 1 ? "" : "s"}`;
      }
      configs[role] = { workers: [...workers], buckets: p.buckets.map((b) => ({ ...b })), policy: p.policy, deadlineMs: p.deadlineMs, natsUrl, origin };
      notes.push(`The ${role} runs on an accelerator pool: ${origin} at ${workers.join(", ")}; buckets ${p.buckets.map((b) => `${b.batch}x${b.seqLen}`).join(", ")}, ${p.policy} packing.`);
    }
  } catch (err) {
    await Promise.all([...local.values()].map((lp) => lp.stop()));
    throw err;
  }
  return {
    configs,
    members: (host) =>
      [...local].flatMap(([role, lp]) =>
        lp.addresses.map((address, i) => ({ role: `${role}-pool`, id: `${i} ${address}`, host, pid: lp.worker(i).pid, restarts: lp.restarts()[i]!, backend: "pool (troupe-cpu)", status: "running" })),
      ),
    notes: () => notes,
    async stop() {
      await Promise.all([...local.values()].map((lp) => lp.stop()));
    },
  };
}
