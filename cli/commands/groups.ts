// Command groups that several layers add subcommands to (`bench protocol` from the runtime,
// `bench kernels` from the kernels; `chaos kill-actor` … `chaos kill-director`). Whichever
// file registers first creates the group; the others join it.
import type { Command } from "commander";

const descriptions = {
  bench: "measure speed against a peer measured in the same run",
  chaos: "abuse the runtime and check that it keeps its promises",
} as const;

export type GroupName = keyof typeof descriptions;

export function commandGroup(program: Command, name: GroupName): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(descriptions[name]);
}
