/**
 * The HTTP API under load: autocannon against the JSON produce route, the fetch route (JSON and
 * raw batches) and the raw-batch produce route, beside a bare fastify app on the same machine in
 * the same run (the floor: what fastify itself costs to parse a body and answer).
 *
 * The servers run in a child process each (http-server-child.ts); autocannon runs here. Both
 * share this machine's two cores, so every figure includes the load generator's own cost.
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Benchmark, BenchContext, Measurement } from './benchmark.ts';
import { encodeBatchOfBytes } from './workload.ts';
import { createBenchDir } from './tmp-dir.ts';

const CONNECTIONS = 16;
const VALUE_BYTES = 100;
const RECORDS_PER_JSON_REQUEST = 10;
const RAW_BATCH_BYTES = 64 * 1024;
const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'http-server-child.ts');

interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

async function startServer(args: string[]): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', childScript, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Load {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

async function load(context: BenchContext, load: Load): Promise<autocannon.Result> {
  const durationSeconds = context.isQuick ? 3 : 10;
  const result = await autocannon({ url: load.url, method: load.method ?? 'GET', headers: load.headers, body: load.body, connections: CONNECTIONS, duration: durationSeconds });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${load.method ?? 'GET'} ${load.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result;
}

/**
 * `recordsPerRequest` is null where a request carries no fixed number of records (fetches);
 * `bodyBytes` is the request body for produce cases, else MB/s counts what the server sent back.
 */
function measurement(name: string, result: autocannon.Result, recordsPerRequest: number | null, bodyBytes: number | null, settings: Record<string, string>): Measurement {
  const requestsPerSec = result.requests.average;
  const figures = [{ label: 'req/s', value: requestsPerSec }];
  if (recordsPerRequest !== null) figures.push({ label: 'records/s', value: requestsPerSec * recordsPerRequest });
  figures.push({ label: bodyBytes === null ? 'MB/s out' : 'MB/s in', value: bodyBytes === null ? result.throughput.average / 1e6 : (requestsPerSec * bodyBytes) / 1e6 });
  figures.push({ label: 'p50 ms', value: result.latency.p50 }, { label: 'p99 ms', value: result.latency.p99 });
  return { benchmark: 'http-api', case: name, settings: { connections: String(CONNECTIONS), ...settings }, figures };
}

export const httpApi: Benchmark = {
  name: 'http-api',
  title: 'HTTP API under autocannon, beside a bare fastify app',
  async run(context) {
    const results: Measurement[] = [];
    const jsonBody = JSON.stringify({ records: Array.from({ length: RECORDS_PER_JSON_REQUEST }, (_, i) => ({ key: `key-${i}`, value: 'v'.repeat(VALUE_BYTES) })) });

    const bare = await startServer(['bare']);
    try {
      context.progress('bare fastify: POST / with a JSON produce body');
      results.push(measurement('bare fastify POST (floor for JSON produce)', await load(context, { url: `${bare.url}/`, method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonBody }), RECORDS_PER_JSON_REQUEST, jsonBody.length, { body: `${RECORDS_PER_JSON_REQUEST} records × ${VALUE_BYTES} B JSON`, 'ack means': 'nothing stored' }));
      context.progress('bare fastify: GET /');
      results.push(measurement('bare fastify GET (floor for fetch)', await load(context, { url: `${bare.url}/` }), null, null, { body: '1 record JSON', 'ack means': '-' }));
    } finally {
      await bare.stop();
    }

    const dir = createBenchDir('http-api');
    const broker = await startServer(['broker', dir.path]);
    try {
      await fetch(`${broker.url}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', partitions: 1 }) });
      context.progress('minikafka: JSON produce');
      results.push(measurement('JSON produce POST /topics/bench', await load(context, { url: `${broker.url}/topics/bench?acks=1`, method: 'POST', headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, body: jsonBody }), RECORDS_PER_JSON_REQUEST, jsonBody.length, { body: `${RECORDS_PER_JSON_REQUEST} records × ${VALUE_BYTES} B JSON`, 'ack means': 'acks=1: appended to the page cache, no fsync' }));

      const { batch, recordCount } = encodeBatchOfBytes(RAW_BATCH_BYTES, VALUE_BYTES);
      context.progress('minikafka: raw batch produce');
      results.push(measurement('raw batch produce POST /topics/bench/partitions/0', await load(context, { url: `${broker.url}/topics/bench/partitions/0?acks=1`, method: 'POST', headers: { 'content-type': 'application/vnd.kafka.record-batch' }, body: batch }), recordCount, batch.length, { body: `1 batch of ${recordCount} records × ${VALUE_BYTES} B (${RAW_BATCH_BYTES / 1024} KiB)`, 'ack means': 'acks=1: appended to the page cache, no fsync' }));

      context.progress('minikafka: JSON fetch');
      results.push(measurement('JSON fetch GET …/records', await load(context, { url: `${broker.url}/topics/bench/partitions/0/records?offset=0&max_bytes=65536&timeout=0`, headers: { accept: 'application/vnd.kafka.json.v2+json' } }), null, null, { body: 'records from offset 0, max_bytes 64 KiB, decoded to JSON', 'ack means': '-' }));
      context.progress('minikafka: raw fetch');
      results.push(measurement('raw batch fetch GET …/records', await load(context, { url: `${broker.url}/topics/bench/partitions/0/records?offset=0&max_bytes=1048576&timeout=0`, headers: { accept: 'application/vnd.kafka.record-batch' } }), null, null, { body: 'batches from offset 0, max_bytes 1 MiB, as stored', 'ack means': '-' }));
    } finally {
      await broker.stop();
      dir.remove();
    }
    return results;
  },
};
