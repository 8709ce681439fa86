/**
 * `minikafka consume`: without a group (partitions read directly) and with one (the SDK's
 * consumer), in-process against a real broker; and as real child processes stopped by SIGTERM
 * and SIGINT. Records are written through the broker's HTTP API in the binary format (exact
 * bytes), not by the code under test; a group's commits are read back through the HTTP API.
 */

import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/broker.ts';
import { startBroker } from '../../broker/broker.ts';
import type { CliContext } from '../../cli/cli-io.ts';
import type { ConsumeOptions } from '../../cli/consume.ts';
import { consume } from '../../cli/consume.ts';
import { formatRecordJson, formatRecordText } from '../../cli/record-format.ts';
import type { ConsumedRecord } from '../../cli/record-format.ts';
import type { CliRun } from './cli-harness.ts';
import { runCapturing } from './cli-harness.ts';

const cliMain = path.resolve(import.meta.dirname, '../../cli/main.ts');
let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
});

afterAll(async () => {
  await broker.close();
});

function run(...args: string[]): Promise<CliRun> {
  return runCapturing([...args, '--broker', broker.url]);
}

async function createTopic(topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${broker.url}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: topic, partitions, configs }) });
  expect(response.status).toBe(201);
}

interface RawRecord {
  partition: number;
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Array<{ key: string; value: string }>;
  timestamp?: number;
}

/** Writes records through the HTTP API's binary format, so the bytes are exactly these. */
async function produceRaw(topic: string, records: RawRecord[]): Promise<void> {
  const base64 = (bytes: string | Buffer | null | undefined): string | null => (bytes === null || bytes === undefined ? null : Buffer.from(bytes).toString('base64'));
  const body = {
    records: records.map((r) => ({
      partition: r.partition, key: base64(r.key), value: base64(r.value), timestamp: r.timestamp,
      headers: (r.headers ?? []).map((h) => ({ key: h.key, value: base64(h.value) })),
    })),
  };
  const response = await fetch(`${broker.url}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.binary.v2+json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

/** The group's committed offsets per partition, from the HTTP API. */
async function committed(group: string, topic: string): Promise<Record<number, number>> {
  const body = (await (await fetch(`${broker.url}/groups/${group}/offsets?topic=${topic}`)).json()) as { offsets: Array<{ partition: number; offset: number }> };
  return Object.fromEntries(body.offsets.map((o) => [o.partition, o.offset]));
}

async function groupState(group: string): Promise<{ state: string; members: unknown[] }> {
  return (await (await fetch(`${broker.url}/groups/${group}`)).json()) as { state: string; members: unknown[] };
}

function defaults(overrides: Partial<ConsumeOptions>): ConsumeOptions {
  return { broker: broker.url, format: 'text', ...overrides };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('minikafka consume without a group', () => {
  it('prints every value from the beginning, partition by partition in offset order, and the count on stderr', async () => {
    await createTopic('values', 2);
    await produceRaw('values', [{ partition: 1, value: 'b0' }, { partition: 0, value: 'a0' }, { partition: 1, value: 'b1' }, { partition: 0, value: 'a1' }]);
    expect(await run('consume', 'values', '--from-beginning')).toEqual({ exitCode: 0, stdout: 'a0\na1\nb0\nb1\n', stderr: 'Processed a total of 4 messages\n' });
  });

  it("prints the fields Kafka's formatter prints, in its order, tab-separated, with null and NO_HEADERS", async () => {
    await createTopic('fields', 1);
    await produceRaw('fields', [
      { partition: 0, key: 'alice', value: 'v1', timestamp: 1_700_000_000_000, headers: [{ key: 'trace', value: 'abc' }, { key: 'trace', value: 'def' }] },
      { partition: 0, key: null, value: null, timestamp: 1_700_000_000_001 },
    ]);
    const { stdout } = await run('consume', 'fields', '--from-beginning', '--print-timestamp', '--print-partition', '--print-offset', '--print-headers', '--print-key');
    expect(stdout).toBe(
      'CreateTime:1700000000000\tPartition:0\tOffset:0\ttrace:abc,trace:def\talice\tv1\n' +
      'CreateTime:1700000000001\tPartition:0\tOffset:1\tNO_HEADERS\tnull\tnull\n');
  });

  it('prints LogAppendTime for a topic whose broker stamps the time', async () => {
    await createTopic('stamped', 1, { 'message.timestamp.type': 'LogAppendTime' });
    await produceRaw('stamped', [{ partition: 0, value: 'x', timestamp: 1 }]);
    const { stdout } = await run('consume', 'stamped', '--from-beginning', '--print-timestamp');
    expect(stdout).toMatch(/^LogAppendTime:(\d+)\tx\n$/);
    expect(Number(/LogAppendTime:(\d+)/.exec(stdout)?.[1])).toBeGreaterThan(1_700_000_000_000);
  });

  it('prints one JSON object per record with --format json and with --json: text as text, other bytes as base64', async () => {
    await createTopic('jsonout', 1);
    const binary = Buffer.from([0xff, 0x00, 0xfe]);
    await produceRaw('jsonout', [
      { partition: 0, key: 'k', value: '{"total":12}', timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: 'v' }] },
      { partition: 0, key: binary, value: binary, timestamp: 1_700_000_000_001 },
    ]);
    const { exitCode, stdout, stderr } = await run('consume', 'jsonout', '--from-beginning', '--format', 'json');
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toEqual({ topic: 'jsonout', partition: 0, offset: 0, key: 'k', value: '{"total":12}', timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: 'v' }] });
    expect(Object.keys(lines[0])).toEqual(['topic', 'partition', 'offset', 'key', 'value', 'timestamp', 'headers']);
    expect(lines[1]).toMatchObject({ key: '/wD+', value: '/wD+', keyEncoding: 'base64', valueEncoding: 'base64' });
    expect((await run('--json', 'consume', 'jsonout', '--from-beginning')).stdout).toBe(stdout);
  });

  it('starts at the end of the log by default: prints nothing, exits 0, and says how to read what is there', async () => {
    await createTopic('latest', 1);
    await produceRaw('latest', [{ partition: 0, value: 'old' }]);
    const { exitCode, stdout, stderr } = await run('consume', 'latest');
    expect(exitCode).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Processed a total of 0 messages \(without --from-beginning, consume starts at the end of the log: add --from-beginning/);
  });

  it('starts at --partition P --offset N, earliest or latest, and refuses an offset outside the log', async () => {
    await createTopic('seek', 2);
    await produceRaw('seek', ['s0', 's1', 's2', 's3'].map((value) => ({ partition: 1, value })));
    expect((await run('consume', 'seek', '--partition', '1', '--offset', '2')).stdout).toBe('s2\ns3\n');
    expect((await run('consume', 'seek', '--partition', '1', '--offset', 'earliest', '--max-messages', '1')).stdout).toBe('s0\n');
    expect((await run('consume', 'seek', '--partition', '1', '--offset', 'latest')).stdout).toBe('');
    const outside = await run('consume', 'seek', '--partition', '1', '--offset', '9');
    expect(outside.exitCode).toBe(1);
    expect(outside.stderr).toBe('error: --offset 9 is outside partition 1 of seek: its offsets run from 0 to 4 (the log end offset, where the next record goes) (OFFSET_OUT_OF_RANGE)\n');
    const noPartition = await run('consume', 'seek', '--partition', '5', '--from-beginning');
    expect(noPartition.exitCode).toBe(1);
    expect(noPartition.stderr).toMatch(/^error: topic seek has no partition 5: it has partitions 0 to 1/);
  });

  it('starts at the first record at or after --from-time in each partition', async () => {
    await createTopic('timed', 2);
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    await produceRaw('timed', [
      { partition: 0, value: 'early', timestamp: t0 }, { partition: 0, value: 'late', timestamp: t0 + 60_000 },
      { partition: 1, value: 'only-early', timestamp: t0 - 60_000 },
    ]);
    expect((await run('consume', 'timed', '--from-time', '2026-03-01T00:00:30Z')).stdout).toBe('late\n');
    expect((await run('consume', 'timed', '--from-time', String(t0 - 120_000))).stdout).toBe('early\nlate\nonly-early\n');
  });

  it('stops after --max-messages', async () => {
    await createTopic('capped', 1);
    await produceRaw('capped', ['1', '2', '3', '4'].map((value) => ({ partition: 0, value })));
    expect(await run('consume', 'capped', '--from-beginning', '--max-messages', '3')).toEqual({ exitCode: 0, stdout: '1\n2\n3\n', stderr: 'Processed a total of 3 messages\n' });
  });

  it('refuses options that do not go together, and a topic that does not exist, in one line each', async () => {
    const both = await run('consume', 'capped', '--from-beginning', '--from-time', '2026-01-01');
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toBe('error: --from-beginning and --from-time both say where to start: give one\n');
    const offsetAlone = await run('consume', 'capped', '--offset', '1');
    expect(offsetAlone.exitCode).toBe(2);
    expect(offsetAlone.stderr).toBe('error: --offset needs --partition: an offset is a position in one partition\n');
    const groupPartition = await run('consume', 'capped', '--group', 'g', '--partition', '0');
    expect(groupPartition.exitCode).toBe(2);
    const badFormat = await run('consume', 'capped', '--format', 'xml');
    expect(badFormat.exitCode).toBe(2);
    const missing = await run('consume', 'no-such-topic', '--from-beginning');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe('error: topic no-such-topic does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n');
  });

  it('follows with --follow: prints records produced after it started, on every partition, until stopped', async () => {
    await createTopic('followed', 3);
    await produceRaw('followed', [{ partition: 0, value: 'before' }]);
    let stdout = '';
    const context: CliContext = { io: { writeOut: (text) => void (stdout += text), writeErr: () => {} }, exitCode: 0 };
    const stop = new AbortController();
    const consuming = consume('followed', defaults({ follow: true, fromBeginning: true, printPartition: true }), context, stop.signal);
    // Once the old record is out, every partition is being long-polled at its log end.
    await waitFor(() => stdout === 'Partition:0\tbefore\n', 'the record produced before');
    await produceRaw('followed', [{ partition: 2, value: 'new-2' }, { partition: 0, value: 'new-0' }]);
    await waitFor(() => stdout.split('\n').length === 4, 'the two new records');
    stop.abort();
    await consuming;
    expect(stdout.trimEnd().split('\n').sort()).toEqual(['Partition:0\tbefore', 'Partition:0\tnew-0', 'Partition:2\tnew-2']);
  });

  it('stops following at --max-messages, ending the long polls of the other partitions', async () => {
    await createTopic('followcap', 4);
    let stdout = '';
    const context: CliContext = { io: { writeOut: (text) => void (stdout += text), writeErr: () => {} }, exitCode: 0 };
    // From the beginning of an empty topic: the record below is read whenever the consumer starts.
    const consuming = consume('followcap', defaults({ follow: true, fromBeginning: true, maxMessages: 1 }), context, new AbortController().signal);
    await produceRaw('followcap', [{ partition: 3, value: 'one' }]);
    await consuming;
    expect(stdout).toBe('one\n');
  });
});

describe('minikafka consume --group', () => {
  it('reads from the beginning for a new group, commits what it printed, and a second run prints only what came after', async () => {
    await createTopic('billing-orders', 3);
    await produceRaw('billing-orders', [{ partition: 0, value: 'a' }, { partition: 1, value: 'b' }, { partition: 1, value: 'c' }]);
    const first = await run('consume', 'billing-orders', '--group', 'billing', '--from-beginning');
    expect(first.exitCode).toBe(0);
    expect(first.stdout.trimEnd().split('\n').sort()).toEqual(['a', 'b', 'c']);
    expect(first.stderr).toBe('Processed a total of 3 messages\n');
    expect(await committed('billing', 'billing-orders')).toEqual({ 0: 1, 1: 2, 2: 0 });
    expect((await groupState('billing')).members).toEqual([]);

    await produceRaw('billing-orders', [{ partition: 2, value: 'd' }]);
    expect((await run('consume', 'billing-orders', '--group', 'billing', '--from-beginning')).stdout).toBe('d\n');
    expect(await committed('billing', 'billing-orders')).toEqual({ 0: 1, 1: 2, 2: 1 });
  });

  it('starts a new group at the end of the log without --from-beginning, and commits that position', async () => {
    await createTopic('audit', 1);
    await produceRaw('audit', [{ partition: 0, value: 'old' }]);
    const { exitCode, stdout } = await run('consume', 'audit', '--group', 'auditors');
    expect(exitCode).toBe(0);
    expect(stdout).toBe('');
    expect(await committed('auditors', 'audit')).toEqual({ 0: 1 });
  });

  it('commits only the records it printed when --max-messages stops it', async () => {
    await createTopic('partial', 1);
    await produceRaw('partial', ['1', '2', '3', '4', '5'].map((value) => ({ partition: 0, value })));
    expect((await run('consume', 'partial', '--group', 'halfway', '--from-beginning', '--max-messages', '2')).stdout).toBe('1\n2\n');
    expect(await committed('halfway', 'partial')).toEqual({ 0: 2 });
    expect((await run('consume', 'partial', '--group', 'halfway', '--max-messages', '2', '--format', 'json')).stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { value: string }).value)).toEqual(['3', '4']);
  });

  it('refuses --from-time with a group and points to reset-offsets', async () => {
    const result = await run('consume', 'partial', '--group', 'g', '--from-time', '2026-01-01');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: --group and --from-time do not go together: .*minikafka group reset-offsets/);
  });
});

describe('minikafka consume as a child process', () => {
  function spawnConsume(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => { stdout: string; stderr: string }; exited: Promise<number | string> } {
    const child = spawn(process.execPath, ['--import', 'tsx', cliMain, 'consume', ...args, '--broker', broker.url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    return { child, output: () => ({ stdout, stderr }), exited };
  }

  it('on SIGTERM while following as a group member: commits what it printed, leaves the group, exits 0', async () => {
    await createTopic('sigterm', 2);
    const consumer = spawnConsume(['sigterm', '--group', 'stoppers', '--follow', '--from-beginning']);
    await waitFor(async () => (await groupState('stoppers').catch(() => ({ state: '' }))).state === 'Stable', 'the member to join');
    await produceRaw('sigterm', [{ partition: 0, value: 'x' }, { partition: 1, value: 'y' }, { partition: 1, value: 'z' }]);
    await waitFor(() => consumer.output().stdout.split('\n').length === 4, 'three records printed');
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
    expect(consumer.output().stderr).toBe('Processed a total of 3 messages\n');
    expect(await committed('stoppers', 'sigterm')).toEqual({ 0: 1, 1: 2 });
    const after = await groupState('stoppers');
    expect(after.state).toBe('Empty');
    expect(after.members).toEqual([]);
  });

  it('on Ctrl-C (SIGINT) while following without a group: exits 0 with the count', async () => {
    await createTopic('sigint', 1);
    await produceRaw('sigint', [{ partition: 0, value: 'first' }]);
    const consumer = spawnConsume(['sigint', '--follow', '--from-beginning']);
    await waitFor(() => consumer.output().stdout === 'first\n', 'the first record printed');
    await produceRaw('sigint', [{ partition: 0, value: 'second' }]);
    await waitFor(() => consumer.output().stdout === 'first\nsecond\n', 'the record produced while following');
    consumer.child.kill('SIGINT');
    expect(await consumer.exited).toBe(0);
    expect(consumer.output().stderr).toBe('Processed a total of 2 messages\n');
  });

  it('exits non-zero with one line when the topic does not exist', async () => {
    const consumer = spawnConsume(['missing-topic', '--from-beginning']);
    expect(await consumer.exited).toBe(1);
    expect(consumer.output().stderr).toBe('error: topic missing-topic does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n');
  });
});

describe('record formatting', () => {
  const record: ConsumedRecord = {
    topic: 't', partition: 3, offset: 9, timestamp: 5, timestampType: 'CreateTime', key: Buffer.from('k'), value: Buffer.from('line one\nline two'), headers: [{ key: 'a', value: null }],
  };

  it('prints text values as they are, line breaks included, and a null header value as null', () => {
    expect(formatRecordText(record, { printTimestamp: false, printPartition: false, printOffset: false, printHeaders: true, printKey: true })).toBe('a:null\tk\tline one\nline two\n');
  });

  it('keeps a JSON record on one line and a null header value as null', () => {
    const line = formatRecordJson(record);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd().includes('\n')).toBe(false);
    expect(JSON.parse(line)).toMatchObject({ value: 'line one\nline two', headers: [{ key: 'a', value: null }] });
  });
});
