// Role name → module that default-exports the actor definition. The supervisor spawns a child
// by role; built-in roles are registered in actors/roles.ts, others with registerRole().
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { checkToken } from "../../protocol/mod.js";
import { ActorDefinitionError } from "../errors.js";

const roles = new Map<string, string>();

/** Registers (or replaces) the module of a role: a file: URL, or an absolute path. */
export function registerRole(role: string, module: string | URL): void {
  checkToken("role", role);
  const m = String(module);
  if (!m.startsWith("file:") && !isAbsolute(m)) {
    throw new ActorDefinitionError(`module of role ${role} must be a file: URL or an absolute path, got ${m}`);
  }
  roles.set(role, m.startsWith("file:") ? m : pathToFileURL(m).href);
}

export function resolveRole(role: string): string {
  const m = roles.get(role);
  if (!m) {
    throw new ActorDefinitionError(
      `no module registered for role ${JSON.stringify(role)} (known: ${[...roles.keys()].sort().join(", ") || "none"}); ` +
        `add it to actors/roles.ts or pass module in the child spec`,
    );
  }
  return m;
}

export function registeredRoles(): string[] {
  return [...roles.keys()].sort();
}
