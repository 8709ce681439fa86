/**
 * `minikafka bench [--quick] [--json]`: the comparison benchmark (bench/compare.ts) on this
 * machine: minikafka beside Redis Streams, NATS JetStream, the raw disk and loopback TCP, with
 * every setting beside its figures, results and chart saved under bench/results/.
 *
 * The benchmark is not part of the CLI bundle: it lives in the repository's bench/ folder and
 * needs the dev dependencies (tsx, the Redis and NATS clients, hdr-histogram-js). This command
 * runs it as `node --import tsx bench/run.ts compare --save` from the repository root, in a child
 * process whose output it passes through, so `npx minikafka bench` and `npm run bench -- compare
 * --save` are the same run. Outside a checkout it says what is missing.
 */

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliUserError } from './cli-errors.ts';
import type { CliContext } from './cli-io.ts';
import { EXIT_FAILURE } from './cli-io.ts';

export interface BenchOptions {
  readonly quick: boolean;
  readonly json: boolean;
}

const examples = `
Examples:
  $ minikafka bench --quick          under 3 minutes, one round of each workload
  $ minikafka bench                  the full comparison, three rounds: several minutes
  $ minikafka bench --quick --json   the results as JSON on stdout: { "rows": [ … ], … }

Redis and NATS come from Debian's redis-server and nats-server packages: a missing one is
installed with apt-get when running as root, or left out with a row saying why. Results and the
chart go to bench/results/compare-<date>[-quick].json and .svg. See bench/README.md.`;

export function registerBench(program: Command, context: CliContext): void {
  program
    .command('bench')
    .description('compare this broker with Redis Streams, NATS JetStream, the raw disk and loopback TCP on this machine (run from the repository)')
    .option('--quick', 'small totals and one round: under 3 minutes')
    .addHelpText('after', examples)
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ quick?: boolean; json?: boolean }>();
      await runBench({ quick: options.quick === true, json: options.json === true }, context);
    });
}

/** The runner's command line, from the repository root. */
export function benchRunnerArgs(options: BenchOptions): string[] {
  return ['--import', 'tsx', 'bench/run.ts', 'compare', '--save', ...(options.quick ? ['--quick'] : []), ...(options.json ? ['--json'] : [])];
}

/**
 * The checkout this CLI runs from: the first directory above this file with bench/run.ts and a
 * package.json named minikafka (cli/ when run as TypeScript, dist/ when bundled).
 */
export function findRepositoryRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (let depth = 0; depth < 4; depth++) {
    const packageFile = path.join(dir, 'package.json');
    if (fs.existsSync(path.join(dir, 'bench', 'run.ts')) && fs.existsSync(packageFile)) {
      const { name } = JSON.parse(fs.readFileSync(packageFile, 'utf8')) as { name?: string };
      if (name === 'minikafka') return dir;
    }
    dir = path.dirname(dir);
  }
  return null;
}

async function runBench(options: BenchOptions, context: CliContext): Promise<void> {
  const root = findRepositoryRoot();
  if (root === null) throw new CliUserError('minikafka bench runs from a checkout of the minikafka repository (it needs bench/): clone it, run npm ci, then npx minikafka bench');
  if (!fs.existsSync(path.join(root, 'node_modules', 'tsx'))) throw new CliUserError(`minikafka bench needs the dev dependencies: run npm ci in ${root}`);
  const child = spawn(process.execPath, benchRunnerArgs(options), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => void context.io.writeOut(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => context.io.writeErr(chunk.toString()));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  if (exitCode !== 0) {
    context.io.writeErr(`error: the benchmark stopped with exit code ${exitCode ?? 'null (killed)'}\n`);
    context.exitCode = EXIT_FAILURE;
  }
}
