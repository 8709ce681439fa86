/**
 * `minikafka group list | describe | delete | reset-offsets`, in-process against a real broker.
 * Committed offsets are set and read back through the broker's HTTP API; a live member is a
 * `minikafka consume --group … --follow` running in the same process until it is stopped.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/broker.ts';
import { startBroker } from '../../broker/broker.ts';
import type { CliContext } from '../../cli/cli-io.ts';
import { consume } from '../../cli/consume.ts';
import { parseTopicScope, resetTarget } from '../../cli/group.ts';
import type { CliRun } from './cli-harness.ts';
import { runCapturing } from './cli-harness.ts';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
  await post('/topics', { name: 'orders', partitions: 3 });
  // Log end offsets 4, 2 and 0.
  const records = [0, 0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `r${i}`, timestamp: Date.parse('2026-02-01T00:00:00Z') + i * 60_000 }));
  const response = await fetch(`${broker.url}/topics/orders`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, body: JSON.stringify({ records }) });
  expect(response.status).toBe(200);
});

afterAll(async () => {
  await broker.close();
});

async function post(route: string, body: unknown): Promise<Response> {
  return fetch(`${broker.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Commits as an admin tool does (no member, generation -1): allowed while the group has no members. */
async function commit(group: string, offsets: Record<number, number>): Promise<void> {
  const response = await post(`/groups/${group}/offsets`, { offsets: Object.entries(offsets).map(([partition, offset]) => ({ topic: 'orders', partition: Number(partition), offset })) });
  expect(response.status).toBe(200);
}

async function committed(group: string): Promise<Record<number, number>> {
  const body = (await (await fetch(`${broker.url}/groups/${group}/offsets?topic=orders`)).json()) as { offsets: Array<{ partition: number; offset: number }> };
  return Object.fromEntries(body.offsets.filter((o) => o.offset >= 0).map((o) => [o.partition, o.offset]));
}

function run(...args: string[]): Promise<CliRun> {
  return runCapturing([...args, '--broker', broker.url]);
}

function rows(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/));
}

/** A live member of `group` (consume --follow in this process) until the returned function stops it. */
async function liveMember(group: string): Promise<() => Promise<void>> {
  const stop = new AbortController();
  const context: CliContext = { io: { writeOut: () => {}, writeErr: () => {} }, exitCode: 0 };
  const consuming = consume('orders', { broker: broker.url, format: 'text', group, follow: true }, context, stop.signal);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const body = (await (await fetch(`${broker.url}/groups/${group}`)).json()) as { state?: string };
    if (body.state === 'Stable') break;
    if (Date.now() > deadline) throw new Error(`group ${group} did not become Stable`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return async () => {
    stop.abort();
    await consuming;
  };
}

describe('minikafka group list', () => {
  it('lists the groups sorted, with their state, as a table and as JSON', async () => {
    await commit('list-b', { 0: 1 });
    await commit('list-a', { 0: 1 });
    const { exitCode, stdout } = await run('group', 'list');
    expect(exitCode).toBe(0);
    const table = rows(stdout);
    expect(table[0]).toEqual(['GROUP', 'STATE', 'PROTOCOL-TYPE']);
    expect(table.slice(1).filter((row) => row[0].startsWith('list-'))).toEqual([['list-a', 'Empty', '-'], ['list-b', 'Empty', '-']]);
    const json = JSON.parse((await run('group', 'list', '--json')).stdout) as Array<{ groupId: string; state: string }>;
    expect(json.filter((g) => g.groupId.startsWith('list-'))).toEqual([{ groupId: 'list-a', protocolType: '', state: 'Empty' }, { groupId: 'list-b', protocolType: '', state: 'Empty' }]);
  });
});

describe('minikafka group describe', () => {
  it("prints Kafka's columns with lag per partition, - where there is no commit or owner, and a note when no member is active", async () => {
    await commit('described', { 0: 1, 1: 2 });
    const { exitCode, stdout } = await run('group', 'describe', 'described');
    expect(exitCode).toBe(0);
    const [note, blank, ...table] = stdout.trimEnd().split('\n');
    expect(note).toBe("Consumer group 'described' has no active members.");
    expect(blank).toBe('');
    expect(rows(table.join('\n'))).toEqual([
      ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
      ['described', 'orders', '0', '1', '4', '3', '-', '-', '-'],
      ['described', 'orders', '1', '2', '2', '0', '-', '-', '-'],
    ]);
  });

  it('with --json prints the group with a partitions array whose items carry lag', async () => {
    const { stdout } = await run('--json', 'group', 'describe', 'described');
    const description = JSON.parse(stdout) as { groupId: string; state: string; totalLag: number; partitions: Array<Record<string, unknown>> };
    expect(description).toMatchObject({ groupId: 'described', state: 'Empty', totalLag: 3 });
    expect(description.partitions).toEqual([
      { topic: 'orders', partition: 0, committedOffset: 1, logEndOffset: 4, lag: 3, memberId: null, clientId: null, clientHost: null, metadata: '' },
      { topic: 'orders', partition: 1, committedOffset: 2, logEndOffset: 2, lag: 0, memberId: null, clientId: null, clientHost: null, metadata: '' },
    ]);
  });

  it('shows the owner of each partition while a member reads, and --members and --state views', async () => {
    const stop = await liveMember('watched');
    try {
      const table = rows((await run('group', 'describe', 'watched')).stdout);
      expect(table).toHaveLength(4);
      for (const row of table.slice(1)) {
        expect(row.slice(0, 2)).toEqual(['watched', 'orders']);
        expect(row[6]).toMatch(/^minikafka-cli-[0-9a-f-]{36}$/);
        expect(row.slice(7)).toEqual(['/127.0.0.1', 'minikafka-cli']);
      }
      const members = rows((await run('group', 'describe', 'watched', '--members')).stdout);
      expect(members[0]).toEqual(['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT']);
      expect(members[1].slice(2)).toEqual(['/127.0.0.1', 'minikafka-cli', '3', 'orders(0,1,2)']);
      const state = rows((await run('group', 'describe', 'watched', '--state')).stdout);
      expect(state[1]).toEqual(['watched', 'range', 'Stable', '1', expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
    } finally {
      await stop();
    }
  });

  it('says in one line that a group does not exist (exit 1)', async () => {
    expect(await run('group', 'describe', 'ghost')).toEqual({ exitCode: 1, stdout: '', stderr: 'error: group ghost does not exist (GROUP_ID_NOT_FOUND)\n' });
  });
});

describe('minikafka group delete', () => {
  it("deletes groups with Kafka's message, and refuses a group with a live member or an unknown one", async () => {
    await commit('doomed-1', { 0: 1 });
    await commit('doomed-2', { 0: 1 });
    expect(await run('group', 'delete', 'doomed-1', 'doomed-2')).toEqual({ exitCode: 0, stdout: "Deletion of requested consumer groups ('doomed-1', 'doomed-2') was successful.\n", stderr: '' });
    expect((await fetch(`${broker.url}/groups/doomed-1`)).status).toBe(404);
    const unknown = await run('group', 'delete', 'doomed-1');
    expect(unknown).toEqual({ exitCode: 1, stdout: '', stderr: 'error: group doomed-1 does not exist (GROUP_ID_NOT_FOUND)\n' });

    const stop = await liveMember('busy');
    try {
      const busy = await run('group', 'delete', 'busy');
      expect(busy.exitCode).toBe(1);
      expect(busy.stderr).toMatch(/^error: group busy is Stable with 1 members; only an Empty group can be deleted: stop its consumers first \(NON_EMPTY_GROUP\)\n$/);
    } finally {
      await stop();
    }
  });
});

describe('minikafka group reset-offsets', () => {
  it('prints the plan and changes nothing without --execute', async () => {
    await commit('resetting', { 0: 3, 1: 1 });
    const { exitCode, stdout } = await run('group', 'reset-offsets', 'resetting', '--topic', 'orders', '--to-earliest');
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(rows(lines.slice(0, -1).join('\n'))).toEqual([
      ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
      ['resetting', 'orders', '0', '3', '0'],
      ['resetting', 'orders', '1', '1', '0'],
      ['resetting', 'orders', '2', '-', '0'],
    ]);
    expect(lines.at(-1)).toBe('Dry run: nothing was changed. Add --execute to commit these offsets.');
    expect(await committed('resetting')).toEqual({ 0: 3, 1: 1 });
  });

  it('commits the plan with --execute, for the partitions named with topic:p,…', async () => {
    await commit('exec', { 0: 3, 1: 1 });
    const { exitCode, stdout } = await run('group', 'reset-offsets', 'exec', '--topic', 'orders:0,2', '--to-latest', '--execute', '--json');
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ groupId: 'exec', executed: true, plan: [
      { topic: 'orders', partition: 0, currentOffset: 3, newOffset: 4 },
      { topic: 'orders', partition: 2, currentOffset: null, newOffset: 0 },
    ] });
    expect(await committed('exec')).toEqual({ 0: 4, 1: 1, 2: 0 });
  });

  it('shifts by a negative number, goes to an offset (clamped into the log) and to a time', async () => {
    await commit('moves', { 0: 3, 1: 2 });
    // --all-topics covers every partition of the topics the group has offsets for; partition 2, without a commit, shifts from its log start.
    await run('group', 'reset-offsets', 'moves', '--all-topics', '--shift-by', '-2', '--execute');
    expect(await committed('moves')).toEqual({ 0: 1, 1: 0, 2: 0 });
    await run('group', 'reset-offsets', 'moves', '--topic', 'orders:0', '--shift-by=-5', '--execute');
    expect(await committed('moves')).toEqual({ 0: 0, 1: 0, 2: 0 });
    await run('group', 'reset-offsets', 'moves', '--topic', 'orders:0,1', '--to-offset', '3', '--execute');
    expect(await committed('moves')).toEqual({ 0: 3, 1: 2, 2: 0 });
    // Partition 0 holds records at 00:00, 00:01, 00:02, 00:03; partition 1 at 00:04, 00:05.
    await run('group', 'reset-offsets', 'moves', '--topic', 'orders:0,1', '--to-datetime', '2026-02-01T00:01:30Z', '--execute');
    expect(await committed('moves')).toEqual({ 0: 2, 1: 0, 2: 0 });
  });

  it('refuses while the group has a live member, with the broker’s advice', async () => {
    const stop = await liveMember('running');
    try {
      const result = await run('group', 'reset-offsets', 'running', '--topic', 'orders', '--to-earliest');
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/^error: group running is Stable: offsets can only be reset while it has no live members; stop its consumers first \(NON_EMPTY_GROUP\)\n$/);
    } finally {
      await stop();
    }
  });

  it('treats a missing or doubled strategy, a missing scope and a bad topic spec as command-line mistakes (exit 2)', async () => {
    const none = await run('group', 'reset-offsets', 'exec', '--topic', 'orders');
    expect(none).toEqual({ exitCode: 2, stdout: '', stderr: 'error: reset-offsets takes one of --to-earliest, --to-latest, --to-offset N, --to-datetime T, --shift-by N; none was given\n' });
    const two = await run('group', 'reset-offsets', 'exec', '--topic', 'orders', '--to-earliest', '--to-latest');
    expect(two.stderr).toBe('error: reset-offsets takes one of --to-earliest, --to-latest, --to-offset N, --to-datetime T, --shift-by N; --to-earliest and --to-latest were given\n');
    const scope = await run('group', 'reset-offsets', 'exec', '--to-earliest');
    expect(scope.exitCode).toBe(2);
    expect(scope.stderr).toMatch(/^error: say which offsets to reset: --topic T/);
    const spec = await run('group', 'reset-offsets', 'exec', '--topic', 'orders:x', '--to-earliest');
    expect(spec.exitCode).toBe(2);
    const time = await run('group', 'reset-offsets', 'exec', '--topic', 'orders', '--to-datetime', 'soon');
    expect(time.exitCode).toBe(2);
    expect(time.stderr).toMatch(/^error: --to-datetime: a time is an ISO 8601/);
  });
});

describe('parseTopicScope() and resetTarget()', () => {
  it("reads Kafka's topic:p,… spelling", () => {
    expect(parseTopicScope('orders')).toEqual({ topic: 'orders' });
    expect(parseTopicScope('orders:2,0,2')).toEqual({ topic: 'orders', partitions: [0, 2] });
    expect(() => parseTopicScope(':1')).toThrow(/topic:0,2/);
    expect(() => parseTopicScope('orders:')).toThrow(/topic:0,2/);
  });

  it('turns the one strategy into the admin call’s target', () => {
    expect(resetTarget({ toEarliest: true })).toBe('earliest');
    expect(resetTarget({ shiftBy: -3 })).toEqual({ shiftBy: -3 });
    expect(resetTarget({ toDatetime: '2026-01-31T12:00:00Z' })).toEqual({ timestamp: Date.parse('2026-01-31T12:00:00Z') });
  });
});
