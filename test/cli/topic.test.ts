/**
 * `minikafka topic create | list | describe | alter | delete`, run in-process against a real
 * broker (port 0, a temporary data directory), and what every broker command shares: where the
 * broker is (--broker, MINIKAFKA_BROKER), one error line for a broker's refusal or an unreachable
 * broker, exit code 2 for a malformed option.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/broker.ts';
import { startBroker } from '../../broker/broker.ts';
import { BROKER_ENV_VARIABLE, DEFAULT_BROKER_URL, resolveBrokerUrl } from '../../cli/broker-client.ts';
import { formatTable } from '../../cli/table.ts';
import type { CliRun } from './cli-harness.ts';
import { runCapturing } from './cli-harness.ts';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
});

afterAll(async () => {
  await broker.close();
});

function run(...args: string[]): Promise<CliRun> {
  return runCapturing(args);
}

/** The command, against the test's broker. */
function topic(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return run('topic', ...args, '--broker', broker.url);
}

/** The topics as the broker's HTTP API lists them: checked without the code under test. */
async function brokerTopics(): Promise<string[]> {
  return (await (await fetch(`${broker.url}/topics`)).json()) as string[];
}

function expectOneErrorLine(stderr: string, pattern: RegExp): void {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr.trimEnd()).toMatch(pattern);
}

describe('minikafka topic create', () => {
  it('creates a topic with the partitions and config overrides given, and says so', async () => {
    const created = await topic('create', 'orders', '--partitions', '3', '--config', 'retention.ms=86400000', '--config', 'cleanup.policy=delete');
    expect(created).toEqual({ exitCode: 0, stdout: 'Created topic orders with 3 partitions.\n', stderr: '' });
    expect(await brokerTopics()).toContain('orders');
    const { stdout } = await topic('describe', 'orders', '--json');
    const description = JSON.parse(stdout) as { partitions: unknown[]; configs: Array<{ name: string; value: string; source: string }> };
    expect(description.partitions).toHaveLength(3);
    expect(description.configs.find((c) => c.name === 'retention.ms')).toEqual({ name: 'retention.ms', value: '86400000', source: 'DYNAMIC_TOPIC_CONFIG' });
  });

  it('refuses a topic that exists with one error line and exit 1, unless --if-not-exists', async () => {
    await topic('create', 'twice');
    const again = await topic('create', 'twice');
    expect(again.exitCode).toBe(1);
    expectOneErrorLine(again.stderr, /^error: topic twice already exists \(TOPIC_ALREADY_EXISTS\); add --if-not-exists/);
    const quiet = await topic('create', 'twice', '--if-not-exists');
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stdout).toMatch(/^Topic twice already exists \(\d+ partitions?\); nothing changed\.\n$/);
  });

  it("passes the broker's refusal of a bad config on as one line with its code", async () => {
    const result = await topic('create', 'badconfig', '--config', 'retention.ms=soon');
    expect(result.exitCode).toBe(1);
    expectOneErrorLine(result.stderr, /^error: .*retention\.ms.*\(INVALID_CONFIG\)$/);
  });

  it('treats a --config that is not name=value, or a partition count of 0, as a command-line mistake (exit 2)', async () => {
    const noEquals = await topic('create', 'x1', '--config', 'retention.ms');
    expect(noEquals.exitCode).toBe(2);
    expectOneErrorLine(noEquals.stderr, /^error: --config: --config is written name=value/);
    const zero = await topic('create', 'x1', '--partitions', '0');
    expect(zero.exitCode).toBe(2);
    expectOneErrorLine(zero.stderr, /^error: option '--partitions <n>' argument '0' is invalid\. a partition count is a whole number ≥ 1\.$/);
  });

  it('prints the created topic as JSON with --json, created true', async () => {
    const { exitCode, stdout } = await run('--json', 'topic', 'create', 'jsoncreate', '--partitions', '2', '--broker', broker.url);
    expect(exitCode).toBe(0);
    const document = JSON.parse(stdout) as { created: boolean; name: string; partitions: Array<{ partition: number; highWatermark: number }> };
    expect(document.created).toBe(true);
    expect(document.name).toBe('jsoncreate');
    expect(document.partitions.map((p) => p.partition)).toEqual([0, 1]);
  });
});

describe('minikafka topic list', () => {
  it('prints the topic names sorted, one per line, and a JSON array with --json', async () => {
    await topic('create', 'list-b');
    await topic('create', 'list-a');
    const { exitCode, stdout } = await topic('list');
    expect(exitCode).toBe(0);
    const names = stdout.trimEnd().split('\n');
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['list-a', 'list-b']));
    const json = JSON.parse((await topic('list', '--json')).stdout) as string[];
    expect(json).toEqual(names);
  });
});

describe('minikafka topic describe', () => {
  it("prints Kafka's topic line with the overrides, then a row per partition with offsets, size and segments", async () => {
    await topic('create', 'described', '--partitions', '2', '--config', 'retention.ms=3600000');
    await fetch(`${broker.url}/topics/described/partitions/1`, {
      method: 'POST', headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, body: JSON.stringify({ records: [{ value: 'a' }, { value: 'b' }] }),
    });
    const { exitCode, stdout } = await topic('describe', 'described');
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Topic: described {2}TopicId: [0-9a-f-]{36} {2}PartitionCount: 2 {2}ReplicationFactor: 1 {2}Configs: retention\.ms=3600000$/);
    expect(lines[1].split(/\s+/)).toEqual(['PARTITION', 'LEADER', 'LOG-START-OFFSET', 'HIGH-WATERMARK', 'SIZE-BYTES', 'SEGMENTS']);
    expect(lines[2].split(/\s+/)).toEqual(['0', '0', '0', '0', '0', '1']);
    const row1 = lines[3].split(/\s+/);
    expect(row1.slice(0, 4)).toEqual(['1', '0', '0', '2']);
    expect(Number(row1[4])).toBeGreaterThan(0);
  });

  it('says a topic does not exist in one line, exit 1', async () => {
    const result = await topic('describe', 'nothing-here');
    expect(result.exitCode).toBe(1);
    expectOneErrorLine(result.stderr, /^error: topic nothing-here does not exist \(UNKNOWN_TOPIC_OR_PARTITION\)$/);
  });
});

describe('minikafka topic alter', () => {
  it('sets and removes overrides and grows the partition count', async () => {
    await topic('create', 'altered', '--partitions', '1', '--config', 'cleanup.policy=compact');
    const result = await topic('alter', 'altered', '--config', 'retention.ms=1000', '--delete-config', 'cleanup.policy', '--partitions', '3');
    expect(result).toEqual({ exitCode: 0, stdout: 'Updated topic altered: 3 partitions, retention.ms=1000, cleanup.policy removed.\n', stderr: '' });
    const description = JSON.parse((await topic('describe', 'altered', '--json')).stdout) as { partitions: unknown[]; configs: Array<{ name: string; source: string; value: string }> };
    expect(description.partitions).toHaveLength(3);
    expect(description.configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '1000', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(description.configs.find((c) => c.name === 'cleanup.policy')?.source).not.toBe('DYNAMIC_TOPIC_CONFIG');
  });

  it('asks for something to change when given nothing (exit 2)', async () => {
    const result = await topic('alter', 'altered');
    expect(result.exitCode).toBe(2);
    expectOneErrorLine(result.stderr, /^error: topic alter needs something to change/);
  });

  it('refuses to shrink a topic with the broker error', async () => {
    await topic('create', 'shrink', '--partitions', '3');
    const result = await topic('alter', 'shrink', '--partitions', '2');
    expect(result.exitCode).toBe(1);
    expectOneErrorLine(result.stderr, /\(INVALID_PARTITIONS\)$/);
  });
});

describe('minikafka topic delete', () => {
  it('deletes a topic, and refuses an unknown one unless --if-exists', async () => {
    await topic('create', 'doomed');
    expect(await topic('delete', 'doomed')).toEqual({ exitCode: 0, stdout: 'Deleted topic doomed.\n', stderr: '' });
    expect(await brokerTopics()).not.toContain('doomed');
    const again = await topic('delete', 'doomed');
    expect(again.exitCode).toBe(1);
    expectOneErrorLine(again.stderr, /^error: topic doomed does not exist \(UNKNOWN_TOPIC_OR_PARTITION\)$/);
    const quiet = await topic('delete', 'doomed', '--if-exists', '--json');
    expect(quiet.exitCode).toBe(0);
    expect(JSON.parse(quiet.stdout)).toEqual({ topic: 'doomed', deleted: false });
  });
});

describe('where the broker is', () => {
  it('takes --broker first, then MINIKAFKA_BROKER, then the default address', () => {
    expect(resolveBrokerUrl({ broker: 'http://a:1' }, { [BROKER_ENV_VARIABLE]: 'http://b:2' })).toBe('http://a:1');
    expect(resolveBrokerUrl({}, { [BROKER_ENV_VARIABLE]: ' http://b:2 ' })).toBe('http://b:2');
    expect(resolveBrokerUrl({}, { [BROKER_ENV_VARIABLE]: '' })).toBe(DEFAULT_BROKER_URL);
    expect(DEFAULT_BROKER_URL).toBe('http://127.0.0.1:8082');
  });

  it('uses MINIKAFKA_BROKER when no --broker is given', async () => {
    const before = process.env[BROKER_ENV_VARIABLE];
    process.env[BROKER_ENV_VARIABLE] = broker.url;
    try {
      await run('topic', 'create', 'from-env');
      const { exitCode, stdout } = await run('topic', 'list');
      expect(exitCode).toBe(0);
      expect(stdout.split('\n')).toContain('from-env');
    } finally {
      if (before === undefined) delete process.env[BROKER_ENV_VARIABLE];
      else process.env[BROKER_ENV_VARIABLE] = before;
    }
  });

  it('says in one line that no broker answers, and how to start one, when nothing listens there', async () => {
    const result = await run('topic', 'list', '--broker', 'http://127.0.0.1:1');
    expect(result.exitCode).toBe(1);
    expectOneErrorLine(result.stderr, /^error: cannot reach a broker at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): start one with `minikafka broker start`, or give its address with --broker or MINIKAFKA_BROKER$/);
  });

  it('treats a --broker that is not an http address as a command-line mistake (exit 2)', async () => {
    const result = await run('topic', 'list', '--broker', 'ftp://somewhere');
    expect(result.exitCode).toBe(2);
    expectOneErrorLine(result.stderr, /^error: --broker: broker address "ftp:\/\/somewhere" uses ftp:/);
  });
});

describe('formatTable()', () => {
  it('pads every column but the last to its widest cell, two spaces apart, and shows null as -', () => {
    expect(formatTable(['GROUP', 'LAG', 'CONSUMER-ID'], [['billing', 0, 'c-1'], ['a', null, null]])).toBe(
      'GROUP    LAG  CONSUMER-ID\n' +
      'billing  0    c-1\n' +
      'a        -    -\n');
  });

  it('keeps a cell with a line break on its row', () => {
    expect(formatTable(['A', 'B'], [['x\ny', 'z']])).toBe('A     B\nx\\ny  z\n');
  });
});
