// Parsers for option values: a bad value is a UsageError (exit code 2) naming the option.
import { UsageError } from "./errors.js";

export function intArg(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

export function urlArg(name: string): (value: string) => string {
  return (value: string) => {
    for (const part of value.split(",")) {
      if (!/^(nats|tls|ws|wss):\/\/[^\s/]+$/.test(part.trim()) && !/^[^\s/:]+:\d+$/.test(part.trim())) {
        throw new UsageError(`${name} must look like nats://host:port (comma-separated for several), got ${JSON.stringify(value)}`);
      }
    }
    return value;
  };
}
