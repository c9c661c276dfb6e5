// Reading config.json values with errors that name the file, the key and what was expected.
import { ModelFileError } from "../errors.js";

export type Json = Record<string, unknown>;

export class HfConfigReader {
  constructor(private readonly json: Json, private readonly file: string) {}

  fail(key: string, expected: string): never {
    throw new ModelFileError({ file: this.file }, `"${key}" should be ${expected}, got ${JSON.stringify(this.json[key])}`);
  }

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  int(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) this.fail(key, fallback === undefined ? "a positive integer (required)" : "a positive integer");
    return v as number;
  }

  num(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== "number" || !(v > 0)) this.fail(key, "a positive number");
    return v as number;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.json[key] ?? fallback;
    if (typeof v !== "boolean") this.fail(key, "true or false");
    return v as boolean;
  }

  str(key: string, fallback?: string): string {
    const v = this.json[key] ?? fallback;
    if (typeof v !== "string") this.fail(key, "a string");
    return v as string;
  }

  /** A key whose only supported value is `want` (absent is fine). */
  only(key: string, want: unknown, why: string): void {
    if (!this.has(key)) return;
    const v = this.json[key];
    const ok = Array.isArray(want) ? (want as unknown[]).includes(v) : v === want;
    if (!ok) throw new ModelFileError({ file: this.file }, `"${key}" is ${JSON.stringify(v)}; troupe supports ${Array.isArray(want) ? want.map((w) => JSON.stringify(w)).join(" or ") : JSON.stringify(want)} (${why})`);
  }

  obj(key: string): Json | null {
    const v = this.json[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== "object" || Array.isArray(v)) this.fail(key, "an object or null");
    return v as Json;
  }
}
