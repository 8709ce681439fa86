#!/usr/bin/env node
// The `minikafka` command. It runs the CLI bundled into one file (dist/minikafka.mjs, built from
// cli/main.ts by `npm run build`, which `npm ci` runs through the `prepare` script): one file
// loads in a fraction of the time of the hundreds of modules behind it, which is most of the
// broker's cold start. No TypeScript loader is needed at run time.
import { existsSync } from 'node:fs';

const bundled = new URL('../dist/minikafka.mjs', import.meta.url);
if (existsSync(bundled)) {
  const { main } = await import(bundled.href);
  await main(process.argv.slice(2));
} else {
  process.stderr.write('error: minikafka is not built yet: run `npm run build` in the repository root (it compiles cli/ into dist/)\n');
  process.exitCode = 1;
}
