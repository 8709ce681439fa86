/**
 * The comparison benchmark's own logic, without running a benchmark (tests never measure speed):
 * the JSON rows, the terminal tables, the chart, the produce driver's counting, and the server
 * lifecycle (start on a free port, stop by pid, data directory removed) with a real process.
 */

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Measurement } from '../../bench/benchmark.ts';
import { renderComparisonSvg } from '../../bench/chart.ts';
import { comparisonRows, formatComparison } from '../../bench/compare.ts';
import { produceRound } from '../../bench/peers/drivers.ts';
import { notRunMeasurement } from '../../bench/peers/measure.ts';
import { answersWith, startServer } from '../../bench/peers/setup.ts';
import type { GroupReader, StreamClient } from '../../bench/peers/stream-client.ts';
import type { ComparisonMeasurement } from '../../bench/peers/workload.ts';
import { QUICK_SIZES } from '../../bench/peers/workload.ts';

const produceRow: ComparisonMeasurement = {
  benchmark: 'compare',
  case: 'redis-streams produce (AOF everysec)',
  system: 'redis-streams',
  workload: 'produce',
  settings: { records: '200,000', 'ack means': 'page cache <AOF>', server: 'redis-server 7.0.15' },
  figures: [
    { label: 'records/s', value: 150_123.4 },
    { label: 'MB/s', value: 15.01234 },
    { label: 'p50 ms', value: 1.5 },
    { label: 'p99 ms', value: 3.25 },
    { label: 'p99.9 ms', value: 4.125 },
  ],
};
const consumeRow: ComparisonMeasurement = {
  benchmark: 'compare',
  case: 'redis-streams consume (XREADGROUP COUNT 1000)',
  system: 'redis-streams',
  workload: 'consume',
  settings: { records: '200,000', fetch: 'XREADGROUP COUNT 1000' },
  figures: [{ label: 'records/s', value: 250_000 }, { label: 'MB/s', value: 25 }, { label: 'fetch ms', value: 800 }, { label: 'join ms', value: 2 }],
};
const notRunRow = notRunMeasurement({ system: 'nats-jetstream', workload: 'produce-fsync', caseName: 'nats-jetstream produce-fsync' }, 'nats-server 2.9.10 has no fsync before the PubAck');
const e2eRow: ComparisonMeasurement = {
  benchmark: 'compare',
  case: 'loopback e2e-latency',
  system: 'loopback',
  workload: 'e2e-latency',
  settings: { records: '10,000/s for 3 s' },
  figures: [{ label: 'records/s', value: 10_000 }, { label: 'MB/s', value: 1 }, { label: 'p50 ms', value: 0.1 }, { label: 'p99 ms', value: 0.5 }, { label: 'p99.9 ms', value: 2.5 }],
};
const otherBenchmark: Measurement = { benchmark: 'storage-append', case: 'raw', settings: {}, figures: [{ label: 'MB/s', value: 1000 }] };

describe('comparisonRows()', () => {
  it('gives one row per comparison case with its settings, null where a workload has no latency or did not run', () => {
    const rows = comparisonRows([otherBenchmark, produceRow, consumeRow, notRunRow]);
    expect(rows).toEqual([
      { system: 'redis-streams', workload: 'produce', recordsPerSec: 150_123, mbPerSec: 15.01, p50Ms: 1.5, p99Ms: 3.25, p999Ms: 4.125, settings: produceRow.settings, case: produceRow.case },
      { system: 'redis-streams', workload: 'consume', recordsPerSec: 250_000, mbPerSec: 25, p50Ms: null, p99Ms: null, p999Ms: null, settings: consumeRow.settings, case: consumeRow.case },
      { system: 'nats-jetstream', workload: 'produce-fsync', recordsPerSec: null, mbPerSec: null, p50Ms: null, p99Ms: null, p999Ms: null, settings: { 'not run': 'nats-server 2.9.10 has no fsync before the PubAck' }, case: 'nats-jetstream produce-fsync' },
    ]);
  });

  it('is empty when the comparison did not run', () => {
    expect(comparisonRows([otherBenchmark])).toEqual([]);
  });
});

describe('formatComparison()', () => {
  it('prints one table per workload, the settings its rows share once above it', () => {
    const second = { ...produceRow, case: 'nats-jetstream produce', system: 'nats-jetstream' as const, settings: { records: '200,000', 'ack means': 'page cache', server: 'nats-server 2.9.10' } };
    const text = formatComparison('Comparison', [produceRow, second, consumeRow]);
    expect(text).toContain('## produce\n\nevery row: records 200,000\n');
    expect(text).toContain('## consume\n');
    expect(text).not.toContain('## e2e-latency');
    const produceTable = text.slice(text.indexOf('## produce'), text.indexOf('## consume'));
    expect(produceTable).toContain('nats-server 2.9.10');
    expect(produceTable.split('\n').find((line) => line.startsWith('case'))).not.toContain('records  ');
  });
});

describe('renderComparisonSvg()', () => {
  const report = { command: 'npm run bench -- compare', startedAt: '2026-11-24T07:00:00.000Z', mode: 'quick', machine: { cpu: 'AMD EPYC', cpus: 2 }, rows: comparisonRows([produceRow, consumeRow, notRunRow, e2eRow]) };

  it('draws a bar per row that ran, with its value, and says why a row did not run', () => {
    const svg = renderComparisonSvg(report);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('150k rec/s · 15.0 MB/s · p99 3.25 ms');
    expect(svg).toContain('250k rec/s · 25.0 MB/s');
    expect(svg).toContain('not run: nats-server 2.9.10 has no fsync before the PubAck');
    expect(svg).toContain('p99.9 2.50 ms');
    expect(svg).toContain('ack: page cache &lt;AOF&gt;');
  });

  it('leaves out the panel of a workload no row has', () => {
    const svg = renderComparisonSvg({ ...report, rows: comparisonRows([consumeRow]) });
    expect(svg).toContain('consume: records/s');
    expect(svg).not.toContain('produce: records/s');
    expect(svg).not.toContain('e2e-latency:');
  });
});

/** A stream held in memory: every send acknowledged at once. */
class MemoryStreamClient implements StreamClient {
  readonly sends: number[] = [];
  async createStream(): Promise<void> {}
  async send(_stream: string, values: readonly Buffer[]): Promise<void> {
    this.sends.push(values.length);
    await new Promise((resolve) => setImmediate(resolve));
  }
  joinGroup(): Promise<GroupReader> {
    return Promise.reject(new Error('not needed'));
  }
  async close(): Promise<void> {}
}

describe('produceRound()', () => {
  it('sends every record once in batches of batchRecords and counts each record in the latency histogram', async () => {
    const client = new MemoryStreamClient();
    const round = await produceRound(client, 's', 2500, { ...QUICK_SIZES, batchRecords: 1000, inFlightBatches: 2 });
    expect(client.sends).toEqual([1000, 1000, 500]);
    expect(round.recordCount).toBe(2500);
    expect(round.bytes).toBe(250_000);
    expect(round.latencies.count).toBe(2500);
  });
});

const listener = `
const net = require('node:net');
net.createServer((socket) => socket.end('hello\\n')).listen(Number(process.argv[1]), '127.0.0.1');
`;

describe('startServer()', () => {
  it('starts a server on a free loopback port, waits until it answers, and stop() ends it by pid and removes its data directory', async () => {
    const server = await startServer({ name: 'test listener', binary: process.execPath, label: 'test', args: (port) => ['-e', listener, String(port)], isReady: (port) => answersWith(port, null, 'hello') });
    expect(fs.existsSync(server.dataDir)).toBe(true);
    expect(() => process.kill(server.pid, 0)).not.toThrow();
    await server.stop();
    expect(() => process.kill(server.pid, 0)).toThrow();
    expect(fs.existsSync(server.dataDir)).toBe(false);
  });

  it('throws with the end of its output when the server exits instead of answering', async () => {
    const spec = { name: 'failing server', binary: process.execPath, label: 'test', args: () => ['-e', 'console.error("bad config: no such field"); process.exit(1)'], isReady: async () => false };
    await expect(startServer(spec)).rejects.toThrow(/failing server exited: .*bad config: no such field/);
  });
});
