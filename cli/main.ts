#!/usr/bin/env node
// Entry point of the `troupe` command.
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
