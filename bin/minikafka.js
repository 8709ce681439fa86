#!/usr/bin/env node
// The `minikafka` command. It runs the compiled CLI (cli/main.ts built into dist/ by `npm run
// build`, which `npm ci` runs through the `prepare` script), so no TypeScript loader is needed.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  const { main } = await import(compiled.href);
  await main(process.argv.slice(2));
} else {
  process.stderr.write('error: minikafka is not built yet: run `npm run build` in the repository root (it compiles cli/ into dist/)\n');
  process.exitCode = 1;
}
