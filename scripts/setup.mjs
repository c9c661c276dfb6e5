#!/usr/bin/env node
// Idempotent set-up run before `npm test`, `npm run demo` and `npm run troupe`.
// Each step checks a content hash and does nothing when nothing changed:
//   1. nats-server on PATH (Debian/Ubuntu: apt-get as root; macOS: tells you to brew install)
//   2. OpenBLAS headers for the native GEMM (optional: the portable kernel is used without it)
//   3. PyTorch for the reference-fixture tests and peers (Debian/Ubuntu as root: python3-torch;
//      elsewhere a hint; without it those tests skip, or fail when CI is set)
//   4. npm ci when package-lock.json changed
//   5. the native addon (node-gyp) when kernels/native sources changed
//   6. the TypeScript build (tsc) when any source changed
// Everything is logged to stderr so commands that print JSON keep stdout clean.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, platform } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptError, scriptTools } from "./lib/run.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const quiet = args.has("--quiet");
const force = args.has("--force-build");
const stateDir = join(root, ".troupe");
const t0 = Date.now();

const SetupError = scriptError("SetupError");
const { say, run } = scriptTools("setup", root, SetupError);
const note = (msg) => { if (!quiet) say(msg); };

function onPath(bin) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return null;
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const hasApt = platform() === "linux" && onPath("apt-get") !== null;

function aptInstall(pkgs) {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const base = ["install", "-y", "--no-install-recommends", ...pkgs];
  if (run("apt-get", base, { env }) === 0) return true;
  run("apt-get", ["update"], { env });
  return run("apt-get", base, { env }) === 0;
}

// 1. nats-server --------------------------------------------------------------------------
function ensureNatsServer() {
  if (onPath("nats-server")) return;
  if (platform() === "darwin") {
    throw new SetupError("nats-server is not on PATH. Install it with: brew install nats-server");
  }
  if (hasApt && isRoot) {
    say("nats-server is missing; installing it from the OS packages");
    if (aptInstall(["nats-server"]) && onPath("nats-server")) return;
    throw new SetupError("apt-get could not install nats-server; install it by hand (apt-get install nats-server)");
  }
  if (hasApt) {
    throw new SetupError("nats-server is not on PATH. Install it with: sudo apt-get install -y nats-server");
  }
  throw new SetupError(
    "nats-server is not on PATH. Install nats-server 2.9 or newer from your OS packages " +
      "or from https://github.com/nats-io/nats-server/releases and put it on PATH.",
  );
}

// 2. OpenBLAS (optional) ------------------------------------------------------------------
function cblasHeader() {
  const dirs = ["/usr/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu",
    "/usr/include/openblas", "/usr/local/include", "/opt/homebrew/opt/openblas/include"];
  return dirs.find((d) => existsSync(join(d, "cblas.h"))) ?? null;
}

function ensureBlas() {
  if (platform() !== "linux" || cblasHeader()) return; // macOS uses Accelerate
  if (hasApt && isRoot) {
    say("OpenBLAS headers are missing; installing libopenblas-dev for the fast GEMM");
    if (aptInstall(["libopenblas-dev"])) return;
  }
  say("warning: no cblas.h found; the native addon will use its portable blocked GEMM");
}

// 3. PyTorch (optional outside CI) ----------------------------------------------------------
// The python the tests and peers use: $TROUPE_PYTHON, else Debian's /usr/bin/python3.
const python = process.env.TROUPE_PYTHON ?? "/usr/bin/python3";
const inCI = !["", "0", "false"].includes((process.env.CI ?? "").trim().toLowerCase());

function hasTorch() {
  // Debian's package is one file check away; any other python is asked (without importing torch)
  if (python === "/usr/bin/python3" && existsSync("/usr/lib/python3/dist-packages/torch/__init__.py")) return true;
  const r = spawnSync(python, ["-c", "import importlib.util as u, sys; s = u.find_spec('torch'); sys.exit(0 if s and s.origin else 3)"], { stdio: "ignore" });
  return r.status === 0;
}

function ensureTorch() {
  if (hasTorch()) return;
  const consequence = inCI ? "the PyTorch reference tests will fail (CI is set)" : "the PyTorch reference tests will be skipped";
  if (platform() === "darwin") {
    say(`hint: ${python} has no torch, so ${consequence}. Install it with: pip3 install torch, and set TROUPE_PYTHON to that python3`);
    return;
  }
  if (hasApt && isRoot && python === "/usr/bin/python3") {
    // one attempt per set-up state unless forced or in CI, so a machine without the package
    // does not pay for apt-get on every command
    if (!force && !inCI && stamp("torch-attempt") !== "") {
      note(`warning: python3-torch could not be installed earlier; ${consequence} (npm run build tries again)`);
      return;
    }
    say("PyTorch is missing; installing python3-torch for the reference-fixture tests");
    if (aptInstall(["python3-torch"]) && hasTorch()) return;
    setStamp("torch-attempt", new Date().toISOString());
    say(`warning: apt-get could not install python3-torch; ${consequence}`);
    return;
  }
  const fix = python === "/usr/bin/python3" && hasApt
    ? "Install it with: sudo apt-get install -y python3-torch"
    : `Install PyTorch for it (pip install torch)${process.env.TROUPE_PYTHON ? ", or unset TROUPE_PYTHON to use /usr/bin/python3" : ""}`;
  say(`warning: ${python} has no torch, so ${consequence}. ${fix}`);
}

// hashing ---------------------------------------------------------------------------------
function walk(dir, accept, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    if (name === "node_modules" || name === "build" || name === "dist" || name.startsWith(".")) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, accept, out);
    else if (accept(p)) out.push(p);
  }
  return out;
}

function hashFiles(files, extra = "") {
  const h = createHash("sha256");
  h.update(extra);
  for (const f of files) {
    h.update(relative(root, f));
    h.update("\0");
    h.update(readFileSync(f));
    h.update("\0");
  }
  return h.digest("hex");
}

function stamp(name) {
  const p = join(stateDir, name);
  return existsSync(p) ? readFileSync(p, "utf8").trim() : "";
}
function setStamp(name, value) {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, name), value + "\n");
}

// 4. npm ci -------------------------------------------------------------------------------
function ensureDeps() {
  const lock = join(root, "package-lock.json");
  const want = hashFiles([lock, join(root, "package.json")], process.version);
  if (!force && stamp("deps") === want && existsSync(join(root, "node_modules", ".package-lock.json"))) return;
  note("dependencies changed; running npm ci");
  if (run(process.platform === "win32" ? "npm.cmd" : "npm", ["ci", "--no-audit", "--no-fund"]) !== 0) {
    throw new SetupError("npm ci failed (see above)");
  }
  setStamp("deps", want);
}

// 5. native addon -------------------------------------------------------------------------
function nodeHeadersDir() {
  // Build against the headers of the node that runs us (no download): <prefix>/include/node.
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, "include", "node", "node_api.h")) ? prefix : null;
}

function ensureNative() {
  const dir = join(root, "kernels", "native");
  if (!existsSync(join(dir, "binding.gyp"))) return;
  const files = walk(dir, () => true);
  const blas = process.env.TROUPE_BUILD_NO_BLAS === "1" ? "noblas" : (cblasHeader() ?? "noblas");
  const want = hashFiles(files, `${process.version} ${process.arch} ${blas}`);
  const built = existsSync(join(dir, "build", "Release"));
  if (!force && built && stamp("native") === want) return;
  note("native sources changed; building the addon with node-gyp");
  const gyp = join(root, "node_modules", "node-gyp", "bin", "node-gyp.js");
  const argv = [gyp, "rebuild", `--directory=${dir}`, `--jobs=${Math.max(1, cpus().length)}`];
  const nodedir = process.env.npm_config_nodedir || nodeHeadersDir();
  if (nodedir) argv.push(`--nodedir=${nodedir}`);
  if (run(process.execPath, argv) !== 0) {
    throw new SetupError(
      "the native addon failed to build. Possible fixes: install a C++17 compiler (g++ or clang) " +
        "and make, python3 for node-gyp; on macOS run `xcode-select --install`.",
    );
  }
  setStamp("native", want);
}

// 6. TypeScript ---------------------------------------------------------------------------
const layers = ["cli", "report", "scenarios", "actors", "hosts", "models", "data", "kernels", "protocol", "deploy", "tests", "bench"];

function ensureBuild() {
  const files = layers.flatMap((l) => walk(join(root, l), (p) => p.endsWith(".ts")));
  files.push(join(root, "tsconfig.json"));
  const want = hashFiles(files, process.version);
  if (!force && stamp("tsc") === want && existsSync(join(root, "dist", "cli", "main.js"))) return;
  note("sources changed; compiling TypeScript");
  // tsc --incremental only re-emits files whose sources changed; a forced build must also
  // replace outputs that were edited or damaged in dist/, so it starts without the build info
  if (force) rmSync(join(root, "dist", ".tsbuildinfo"), { force: true });
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  if (run(process.execPath, [tsc, "-p", join(root, "tsconfig.json")]) !== 0) {
    throw new SetupError("TypeScript compilation failed (see above)");
  }
  setStamp("tsc", want);
}

try {
  ensureNatsServer();
  ensureBlas();
  ensureTorch();
  ensureDeps();
  ensureNative();
  ensureBuild();
  note(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} catch (err) {
  say(err instanceof SetupError ? `error: ${err.message}` : `error: ${err?.stack ?? err}`);
  process.exit(1);
}
