/**
 * Broker cold start: from `node` starting to `GET /healthz` answering 200, on a data directory
 * that holds a topic of 100 partitions with some records in each, after a clean stop and after
 * SIGKILL (recovery from the recovery point). Also startBroker() alone, inside a warm process.
 *
 * The child runs `node bin/minikafka.js broker start`, what `npx minikafka` runs: the CLI bundled
 * into dist/minikafka.mjs, so the figure includes loading Node, fastify and our code, but not
 * tsx. The benchmark runs `npm run build` first if the bundle is missing or older than a source.
 */

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../broker/broker.ts';
import { encodeRecordBatch } from '../common/record-batch.ts';
import type { Benchmark, Measurement } from './benchmark.ts';
import { createBenchDir } from './tmp-dir.ts';

const PARTITIONS = 100;
const RECORDS_PER_PARTITION = 1000;
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiledCli = path.join(repositoryRoot, 'bin', 'minikafka.js');
const bundle = path.join(repositoryRoot, 'dist', 'minikafka.mjs');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Spawns the broker and polls /healthz every millisecond; returns ms from spawn to the first 200. */
async function timeToReady(dataDir: string, kill: 'SIGTERM' | 'SIGKILL'): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [compiledCli, 'broker', 'start', '--data-dir', dataDir, '--http-port', String(port), '--log-level', 'warn'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let readyMs = -1;
  for (let attempt = 0; attempt < 30_000 && readyMs < 0; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.status === 200) readyMs = performance.now() - started;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  child.kill(kill);
  await exited;
  if (readyMs < 0) throw new Error('the broker never answered /healthz');
  return readyMs;
}

async function prepareDataDir(dataDir: string): Promise<void> {
  const broker = await startBroker({ dataDir });
  await broker.core.topics.create({ name: 'startup', partitions: PARTITIONS });
  for (let p = 0; p < PARTITIONS; p++) {
    await broker.core.produceBatch('startup', p, encodeRecordBatch({ records: Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(100) })) }), 1);
  }
  await broker.close();
}

function ensureBuilt(): void {
  const newestSource = Math.max(...['broker', 'common', 'cli'].flatMap((dir) => listTs(path.join(repositoryRoot, dir)).map((file) => fs.statSync(file).mtimeMs)));
  if (!fs.existsSync(bundle) || fs.statSync(bundle).mtimeMs < newestSource) {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: repositoryRoot, stdio: 'inherit' });
  }
}

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? listTs(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : []));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const brokerStartup: Benchmark = {
  name: 'broker-startup',
  title: `Broker cold start to ready, ${PARTITIONS} partitions`,
  async run(context) {
    ensureBuilt();
    const rounds = context.isQuick ? 3 : 7;
    const dir = createBenchDir('startup');
    const results: Measurement[] = [];
    const settings = { partitions: String(PARTITIONS), data: `${RECORDS_PER_PARTITION} records × 100 B per partition`, ready: 'GET /healthz answers 200' };
    try {
      context.progress('preparing a data directory with 100 partitions');
      await prepareDataDir(dir.path);
      for (const [label, kill] of [['after a clean stop', 'SIGTERM'], ['after SIGKILL (recovery runs)', 'SIGKILL']] as const) {
        const times: number[] = [];
        for (let round = 0; round < rounds; round++) {
          context.progress(`cold start ${label}, round ${round + 1}/${rounds}`);
          times.push(await timeToReady(dir.path, kill));
        }
        results.push({ benchmark: 'broker-startup', case: `process start → ready, ${label}`, settings: { ...settings, process: 'node bin/minikafka.js broker start' }, figures: [{ label: 'ms', value: median(times), min: Math.min(...times), max: Math.max(...times) }] });
      }
      const inProcess: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const started = performance.now();
        const broker = await startBroker({ dataDir: dir.path });
        inProcess.push(performance.now() - started);
        await broker.close();
      }
      results.push({ benchmark: 'broker-startup', case: 'startBroker() in a warm process', settings: { ...settings, process: 'in process, modules loaded' }, figures: [{ label: 'ms', value: median(inProcess), min: Math.min(...inProcess), max: Math.max(...inProcess) }] });
    } finally {
      dir.remove();
    }
    return results;
  },
};
