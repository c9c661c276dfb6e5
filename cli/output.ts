// How commands print. Results go to stdout (one JSON document with --json); logs and
// progress go to stderr so that stdout stays machine-readable. Every --json document has one key
// casing (snake_case) and says what it is: "schema": "troupe.<command>/1" (e.g. troupe.train/1,
// troupe.artifacts.pull/1), set from the command that runs (program.ts) unless the document
// names its own.
let schemaCommand = "troupe";

/** Called before a command's action: `["artifacts", "pull"]` → schema troupe.artifacts.pull/1. */
export function setJsonCommand(path: readonly string[]): void {
  schemaCommand = ["troupe", ...path].join(".");
}

export function schemaTag(): string {
  return `${schemaCommand}/1`;
}

/** camelCase → snake_case; other keys (snake_case, codes like MALFORMED, "h.0.attn") stay. */
export function snakeKey(key: string): string {
  if (!/^[a-z][A-Za-z0-9]*$/.test(key) || !/[a-z0-9][A-Z]/.test(key)) return key;
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2").toLowerCase();
}

/** A copy with every object key in snake_case (values untouched). */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[snakeKey(k)] = snakeKeys(v);
    return out;
  }
  return value;
}

export function printJson(value: unknown): void {
  const doc = snakeKeys(value);
  const tagged = doc && typeof doc === "object" && !Array.isArray(doc) && !("schema" in doc) ? { schema: schemaTag(), ...doc } : doc;
  process.stdout.write(JSON.stringify(tagged) + "\n");
}

export function printLine(line: string): void {
  process.stdout.write(line + "\n");
}

export function progress(line: string): void {
  process.stderr.write(line + "\n");
}
