// Public surface of the host agent: `troupe host` registers a machine, heartbeats, and runs the
// actors directors place on it.
export { type HostAgent, type HostAgentOptions, startHostAgent } from "./agent.js";
export type { SupervisionSettings } from "./hosted.js";
export { type AgentProcess, type AgentProcessSpec, type SpawnAgentOptions, spawnHostAgent } from "./process.js";
