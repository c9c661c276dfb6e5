// Running the built CLI as a child process, for the end-to-end tests.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
export const root = fileURLToPath(new URL("../../../", import.meta.url));

export function troupe(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
