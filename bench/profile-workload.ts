/**
 * Profiles one minikafka workload of the comparison on both sides: the broker runs in its own
 * process under `node --cpu-prof`, the client (the SDK, driven by the comparison's own drivers)
 * in this one, which you start under `--cpu-prof` too. This is how bench/README.md's "where the
 * time goes" sections were measured:
 *
 *   node --cpu-prof --cpu-prof-dir=bench/results/tmp/client --import tsx bench/profile-workload.ts consume
 *   node --import tsx bench/cpu-profile-summary.ts bench/results/tmp/broker/*.cpuprofile
 *   node --import tsx bench/cpu-profile-summary.ts bench/results/tmp/client/*.cpuprofile
 *
 * Workloads: produce (SDK, batch.size 128 KiB), produce-large (SDK, batch.size 1 MiB), produce-raw
 * (one pre-encoded 1 MiB batch POSTed again and again), consume (after a produce of the same
 * records), e2e (10,000 records/s). Options:
 *
 * - `--records=N` (default 1,000,000) records to produce;
 * - `--rounds=R` (consume, default 5): new groups reading the same records, so the reads
 *   outweigh the produce in the broker's profile;
 * - `--seconds=S` (e2e, default 10);
 * - `--linger-ms=L`: the producer's linger.ms, as in the comparison by default (0 for e2e, 1 for
 *   the rest);
 * - `--broker-prof-dir=DIR` (default bench/results/tmp/broker), or `--no-broker-prof`;
 * - `--client-prof=FILE`: a profile of this process during the consume rounds or the e2e run
 *   only, taken with the inspector (no produce before them in it); each consume round prints how busy this process's event loop was.
 *
 * Figures printed here are for orientation: a profiled process runs slower, so the comparison's
 * figures come from `npm run bench -- compare`, not from this.
 */

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MiniKafkaStreamClient, RawBatchClient, brokerArgs } from './peers/minikafka.ts';
import { consumeRound, e2eLatencyRun, produceRound } from './peers/drivers.ts';
import type { RecordLatencies } from './peers/drivers.ts';
import { answersWith, startServer } from './peers/setup.ts';
import { QUICK_SIZES } from './peers/workload.ts';
import type { WorkloadSizes } from './peers/workload.ts';

const MiB = 2 ** 20;
const WORKLOADS = ['produce', 'produce-large', 'produce-raw', 'consume', 'e2e'] as const;
type Workload = (typeof WORKLOADS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    records: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    'broker-prof-dir': { type: 'string', default: 'bench/results/tmp/broker' },
    'no-broker-prof': { type: 'boolean', default: false },
    'client-prof': { type: 'string' },
    'linger-ms': { type: 'string' },
  },
});
const workload = positionals[0] as Workload;
if (!WORKLOADS.includes(workload)) {
  console.error(`usage: profile-workload.ts <${WORKLOADS.join('|')}> [--records=N] [--seconds=S] [--broker-prof-dir=DIR] [--no-broker-prof]`);
  process.exit(2);
}
const recordCount = Number(values.records);
const profDir = path.resolve(values['broker-prof-dir']!);
const nodeArgs = values['no-broker-prof'] ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`];

const server = await startServer({
  name: 'minikafka broker',
  binary: process.execPath,
  label: 'minikafka-profile',
  args: (port, dataDir) => [...nodeArgs, ...brokerArgs(port, dataDir)],
  isReady: (port) => answersWith(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', ' 200 '),
});
const url = `http://127.0.0.1:${server.port}`;
const sizes: WorkloadSizes = { ...QUICK_SIZES, recordCount, e2eDurationMs: Number(values.seconds) * 1000 };

function printLatencies(latencies: RecordLatencies): string {
  return `p50 ${latencies.percentileMs(50).toFixed(3)} ms, p99 ${latencies.percentileMs(99).toFixed(3)} ms, p99.9 ${latencies.percentileMs(99.9).toFixed(3)} ms`;
}

/** With --client-prof=FILE: profiles this process from here on (the consume rounds only, not the produce before them). */
async function startClientProfile(): Promise<Session | null> {
  if (values['client-prof'] === undefined) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return session;
}

async function stopClientProfile(session: Session): Promise<void> {
  const { profile } = await session.post('Profiler.stop');
  fs.writeFileSync(values['client-prof']!, JSON.stringify(profile));
  session.disconnect();
  console.log(`client profile: ${values['client-prof']}`);
}

try {
  if (workload === 'produce-raw') {
    const client = new RawBatchClient(url, MiB);
    try {
      await client.createStream('p');
      const batches = Math.ceil(recordCount / client.recordCount);
      const round = await produceRound(client, 'p', batches * client.recordCount, { ...sizes, batchRecords: client.recordCount });
      const mbPerSec = (batches * client.batch.length) / 1e6 / (round.elapsedMs / 1000);
      console.log(`produce-raw: ${batches} batches of ${client.batch.length} B in ${round.elapsedMs.toFixed(0)} ms: ${mbPerSec.toFixed(0)} MB/s of batch bytes; ${printLatencies(round.latencies)}`);
    } finally {
      await client.close();
    }
  } else {
    const isLarge = workload === 'produce-large';
    // As the comparison: linger.ms 0 for e2e, 1 for the throughput rows (unless --linger-ms says otherwise).
    const lingerMs = Number(values['linger-ms'] ?? (workload === 'e2e' ? 0 : 1));
    const client = new MiniKafkaStreamClient(url, { batchBytes: isLarge ? MiB : 128 * 1024, maxRequestBytes: isLarge ? 2 * MiB : MiB, lingerMs }, []);
    try {
      if (workload === 'e2e') {
        const session = await startClientProfile();
        const run = await e2eLatencyRun(client, 'e2e', 'e2e', sizes);
        if (session !== null) await stopClientProfile(session);
        console.log(`e2e: ${run.measuredRecordCount} records measured: ${printLatencies(run.latencies)}`);
      } else {
        await client.createStream('p');
        const round = await produceRound(client, 'p', recordCount, isLarge ? { ...sizes, batchRecords: 10_000 } : sizes);
        console.log(`produce: ${(recordCount / (round.elapsedMs / 1000)).toFixed(0)} records/s; ${printLatencies(round.latencies)}`);
        const session = workload === 'consume' ? await startClientProfile() : null;
        for (let round = 0; workload === 'consume' && round < Number(values.rounds); round++) {
          const eluBefore = performance.eventLoopUtilization();
          const consumed = await consumeRound(client, 'p', `g${round}`, recordCount);
          console.log(`client event loop busy ${(100 * performance.eventLoopUtilization(eluBefore).utilization).toFixed(0)} % of the round (join included)`);
          console.log(`consume: ${(consumed.recordCount / (consumed.fetchMs / 1000)).toFixed(0)} records/s over ${consumed.fetchMs.toFixed(0)} ms (join ${consumed.joinMs.toFixed(0)} ms)`);
        }
        if (session !== null) await stopClientProfile(session);
      }
    } finally {
      await client.close();
    }
  }
} finally {
  await server.stop();
}
