/**
 * Runs the benchmarks (storage engine, HTTP API): `npm run bench -- [--quick] [--json] [--save] [name…]`.
 *
 *   --quick   small totals and fewer rounds: the whole suite in under two minutes
 *   --json    print the results as JSON on stdout instead of tables (`npm run -s`, or npm's
 *             banner lands on stdout too)
 *   --save    also write them to bench/results/<selection>-<date>.json (commit-ready)
 *   name…     run only the benchmarks whose name contains one of these (`append`, `recovery`)
 *
 * Benchmarks run one after another, never beside each other or beside tests: each one measures
 * the disk and the CPU, and anything else running changes its figures. The results carry the
 * command, the machine and the filesystem they were measured on.
 */

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, Measurement } from './benchmark.ts';
import { formatTable } from './report.ts';
import { brokerStartup } from './broker-startup.ts';
import { writeComparisonChart } from './chart.ts';
import { compare, comparisonRows, formatComparison } from './compare.ts';
import { httpApi } from './http-api.ts';
import { storageAppend } from './storage-append.ts';
import { storageLookup } from './storage-lookup.ts';
import { storageRecords } from './storage-records.ts';
import { storageRecovery } from './storage-recovery.ts';
import { benchDataRoot, filesystemOf } from './tmp-dir.ts';

const benchmarks: readonly Benchmark[] = [storageAppend, storageRecords, storageRecovery, storageLookup, httpApi, brokerStartup, compare];

const USAGE = `usage: npm run bench -- [--quick] [--json] [--save] [name…]
benchmarks: ${benchmarks.map((b) => b.name).join(', ')}`;

interface Options {
  readonly isQuick: boolean;
  readonly isJson: boolean;
  readonly isSave: boolean;
  readonly filters: readonly string[];
}

function parseArgs(args: readonly string[]): Options {
  const filters: string[] = [];
  let isQuick = false;
  let isJson = false;
  let isSave = false;
  for (const arg of args) {
    if (arg === '--quick') isQuick = true;
    else if (arg === '--json') isJson = true;
    else if (arg === '--save') isSave = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('-')) {
      console.error(`unknown option ${arg}\n${USAGE}`);
      process.exit(2);
    } else filters.push(arg);
  }
  return { isQuick, isJson, isSave, filters };
}

/** The command as the person ran it, so the saved results say how to reproduce them. */
function commandLine(args: readonly string[]): string {
  const quoted = args.map((arg) => (/^[\w./=-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${quoted === '' ? '' : ` -- ${quoted}`}`;
  return `node --import tsx bench/run.ts ${quoted}`.trimEnd();
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null; // not a repository, or no commit yet
  }
}

function machine(): Record<string, string | number | null> {
  const dataRoot = benchDataRoot();
  return {
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    // Anything else running (a test suite) shows here, and in every figure.
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
    dataDir: dataRoot,
    filesystem: filesystemOf(dataRoot),
    gitCommit: gitCommit(),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const options = parseArgs(args);
  const selected = benchmarks.filter((b) => options.filters.length === 0 || options.filters.some((filter) => b.name.includes(filter)));
  if (selected.length === 0) {
    console.error(`no benchmark matches ${options.filters.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  const startedAt = new Date();
  const environment = machine();
  const progress = (message: string): void => void process.stderr.write(`· ${message}\n`);
  progress(`${options.isQuick ? 'quick' : 'full'} run on ${environment.cpu} ×${environment.cpus}, data in ${environment.dataDir} (${environment.filesystem})`);
  const measurements: Measurement[] = [];
  for (const benchmark of selected) {
    const startMs = performance.now();
    const results = await benchmark.run({ isQuick: options.isQuick, progress });
    measurements.push(...results);
    progress(`${benchmark.name} took ${((performance.now() - startMs) / 1000).toFixed(1)} s`);
    if (!options.isJson) console.log(benchmark === compare ? formatComparison(benchmark.title, results) : formatTable(benchmark.title, results));
  }
  const rows = comparisonRows(measurements);
  const report = {
    command: commandLine(args),
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    mode: options.isQuick ? 'quick' : 'full',
    machine: environment,
    // The comparison's rows (compare.ts), when it ran: the figures a script or the chart reads.
    ...(rows.length > 0 ? { rows } : {}),
    measurements,
  };
  const json = JSON.stringify(report, null, 2) + '\n';
  if (options.isJson) process.stdout.write(json);
  if (options.isSave) {
    // One file per selection and day: `storage-append-2026-11-24.json`, `all-2026-11-24-quick.json`.
    const selection = options.filters.length === 0 ? 'all' : options.filters.join('+');
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', `${selection}-${startedAt.toISOString().slice(0, 10)}${options.isQuick ? '-quick' : ''}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, json);
    progress(`results written to ${path.relative(process.cwd(), file)}`);
    if (rows.length > 0) progress(`chart written to ${path.relative(process.cwd(), writeComparisonChart(file))}`);
  }
}

await main();
