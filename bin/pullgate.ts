#!/usr/bin/env node
// The `pullgate` executable. Node >= 24 runs this TypeScript directly (type stripping); see README.
import { main } from '../cli/main.ts';

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`pullgate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
