/**
 * `minikafka offsets TOPIC [--time …] [--partition P]`, in-process against a real broker whose
 * records have known timestamps (produced through the HTTP API, not the code under test).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/broker.ts';
import { startBroker } from '../../broker/broker.ts';
import { parseOffsetTime } from '../../cli/offsets.ts';
import type { CliRun } from './cli-harness.ts';
import { runCapturing } from './cli-harness.ts';

let broker: RunningBroker;
const T0 = Date.parse('2026-01-01T00:00:00Z');

beforeAll(async () => {
  broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
  await fetch(`${broker.url}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'clicks', partitions: 2 }) });
  // Partition 0: offsets 0, 1, 2 at T0, T0 + 1 min, T0 + 2 min; partition 1: one record at T0 + 10 min.
  const records = [0, 1, 2].map((minute) => ({ value: `p0-${minute}`, partition: 0, timestamp: T0 + minute * 60_000 }));
  records.push({ value: 'p1', partition: 1, timestamp: T0 + 10 * 60_000 });
  const response = await fetch(`${broker.url}/topics/clicks`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, body: JSON.stringify({ records }) });
  expect(response.status).toBe(200);
});

afterAll(async () => {
  await broker.close();
});

function offsets(...args: string[]): Promise<CliRun> {
  return runCapturing(['offsets', ...args, '--broker', broker.url]);
}

describe('minikafka offsets', () => {
  it("prints each partition's earliest and latest offsets as a table", async () => {
    expect(await offsets('clicks')).toEqual({
      exitCode: 0,
      stderr: '',
      stdout: 'TOPIC   PARTITION  EARLIEST  LATEST\nclicks  0          0         3\nclicks  1          0         1\n',
    });
  });

  it('prints the same as JSON with --json, offsets as numbers', async () => {
    const { stdout } = await offsets('clicks', '--json');
    expect(JSON.parse(stdout)).toEqual({ topic: 'clicks', partitions: [{ partition: 0, earliest: 0, latest: 3 }, { partition: 1, earliest: 0, latest: 1 }] });
  });

  it('prints the first offset at or after a time, and the latest offset where no record is that recent', async () => {
    const { exitCode, stdout } = await offsets('clicks', '--time', '2026-01-01T00:01:30Z', '--json');
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ topic: 'clicks', time: T0 + 90_000, partitions: [{ partition: 0, offset: 2 }, { partition: 1, offset: 0 }] });
    const late = JSON.parse((await offsets('clicks', '--time', String(T0 + 20 * 60_000), '--json')).stdout) as { partitions: unknown[] };
    expect(late.partitions).toEqual([{ partition: 0, offset: 3 }, { partition: 1, offset: 1 }]);
  });

  it('takes --time earliest and latest, and shows one partition with --partition', async () => {
    expect((await offsets('clicks', '--time', 'latest', '--partition', '0')).stdout).toBe('TOPIC   PARTITION  OFFSET (latest)\nclicks  0          3\n');
    expect((await offsets('clicks', '--time', 'EARLIEST')).stdout).toBe('TOPIC   PARTITION  OFFSET (earliest)\nclicks  0          0\nclicks  1          0\n');
  });

  it('refuses a time it cannot read (exit 2), a partition the topic lacks and an unknown topic (exit 1), in one line each', async () => {
    const badTime = await offsets('clicks', '--time', 'yesterday');
    expect(badTime.exitCode).toBe(2);
    expect(badTime.stderr).toMatch(/^error: --time: a time is an ISO 8601 date or date-time .* got "yesterday"\.\n$/);
    const badPartition = await offsets('clicks', '--partition', '7');
    expect(badPartition.exitCode).toBe(1);
    expect(badPartition.stderr).toBe('error: topic clicks has no partition 7: it has partitions 0 to 1 (UNKNOWN_TOPIC_OR_PARTITION)\n');
    const unknown = await offsets('nope');
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toBe('error: topic nope does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n');
  });
});

describe('parseOffsetTime()', () => {
  it('reads earliest, latest, milliseconds, a date (UTC midnight) and a date-time with a zone', () => {
    expect(parseOffsetTime(' Latest ')).toBe('latest');
    expect(parseOffsetTime('1700000000000')).toEqual({ timestampMs: 1_700_000_000_000 });
    expect(parseOffsetTime('2026-01-31')).toEqual({ timestampMs: Date.parse('2026-01-31T00:00:00Z') });
    expect(parseOffsetTime('2026-01-31T12:00:00+02:00')).toEqual({ timestampMs: Date.parse('2026-01-31T10:00:00Z') });
    expect(() => parseOffsetTime('31/01/2026')).toThrow(/ISO 8601/);
  });
});
