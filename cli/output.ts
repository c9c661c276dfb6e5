// How commands print. Results go to stdout (one JSON document with --json); logs and
// progress go to stderr so that stdout stays machine-readable.
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

export function printLine(line: string): void {
  process.stdout.write(line + "\n");
}

export function progress(line: string): void {
  process.stderr.write(line + "\n");
}
