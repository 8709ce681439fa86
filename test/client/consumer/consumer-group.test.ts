/**
 * Consumers sharing a group against a real broker: three members split 100k records with none
 * lost and none processed twice; a member that closes hands its partitions over at once (a new
 * generation long before its session could time out); a handler call longer than the rebalance
 * timeout gives its partitions up; a member killed with SIGKILL in a child process loses
 * nothing: its partitions move after its session timeout and the survivors process everything
 * from the last commit (duplicates are allowed there, and reported).
 */

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Consumer } from '../../../client/consumer/consumer.ts';
import type { ConsumerTestContext } from './consumer-harness.ts';
import { FAST_CONSUMER, ProcessedLog, startConsumerTest, waitFor } from './consumer-harness.ts';

let t: ConsumerTestContext;
const tempDirs: string[] = [];

afterEach(async () => {
  await t.cleanup();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function highWatermarks(topic: string): Promise<number[]> {
  const response = await fetch(`${t.broker.url}/topics/${topic}/partitions`);
  const partitions = (await response.json()) as Array<{ partition: number; high_watermark: number }>;
  return partitions.sort((a, b) => a.partition - b.partition).map((p) => p.high_watermark);
}

async function committedOffsets(groupId: string, topic: string): Promise<number[]> {
  const response = await fetch(`${t.broker.url}/groups/${groupId}/offsets?topic=${topic}`);
  const body = (await response.json()) as { offsets: Array<{ partition: number; offset: number }> };
  return body.offsets.sort((a, b) => a.partition - b.partition).map((o) => o.offset);
}

async function describeGroup(groupId: string): Promise<{ generation_id: number; state: string; members: Array<{ member_id: string; assignment: Array<{ topic: string; partitions: number[] }> }> }> {
  return (await (await fetch(`${t.broker.url}/groups/${groupId}`)).json()) as never;
}

describe('a group of consumers', () => {
  test('three members process 100k records with none lost and none processed twice, each partition in order, through the rebalances as they join', async () => {
    t = await startConsumerTest();
    const recordCount = 100_000;
    await t.createTopic('events', 6);
    await t.produce('events', recordCount, { batchSize: 20_000 });
    const log = new ProcessedLog();
    const members: Consumer[] = [];
    const processedAtRebalances: number[] = [];
    for (let i = 0; i < 3; i++) {
      const member = t.consumer({ groupId: 'event-processors', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
      member.on(member.events.REBALANCING, () => processedAtRebalances.push(log.distinct));
      await member.subscribe({ topics: ['events'] });
      members.push(member);
    }
    // Started one after the other while records are being processed, so partitions change hands mid-stream.
    for (const [index, member] of members.entries()) {
      await waitFor(() => log.distinct >= index * 15_000, () => `${log.distinct} processed before member ${index} starts`);
      await member.run({
        eachMessage: async ({ partition, message }) => {
          log.record(partition, message.offset);
          // Yield now and then, as a handler doing I/O would, so the other members get the CPU too.
          if (log.total % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
        },
      });
    }
    await waitFor(() => log.distinct === recordCount, () => `${log.distinct} of ${recordCount} processed`, 60_000);
    const ends = await highWatermarks('events');
    await waitFor(async () => (await committedOffsets('event-processors', 'events')).join() === ends.join(), () => 'every partition committed to its end');
    expect(log.total).toBe(recordCount);
    expect(log.duplicates).toBe(0);
    // Partitions changed hands while records were being processed: the commits on revocation did their job.
    expect(processedAtRebalances.some((count) => count > 0 && count < recordCount), `processed at each rebalance: ${processedAtRebalances.join()}`).toBe(true);
    for (let partition = 0; partition < 6; partition++) {
      expect(log.offsets(partition)).toEqual(Array.from({ length: ends[partition] }, (_, i) => i));
    }
    const group = await describeGroup('event-processors');
    expect(group.state).toBe('Stable');
    expect(group.members).toHaveLength(3);
    expect(group.members.flatMap((m) => m.assignment.flatMap((a) => a.partitions)).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('close() leaves the group: the others get its partitions in a new generation at once, not after its session timeout', async () => {
    t = await startConsumerTest();
    await t.createTopic('handover', 4);
    // A session timeout far above the wait below: only LeaveGroup can move the partitions in time.
    const options = { groupId: 'handover-group', ...FAST_CONSUMER, sessionTimeoutMs: 120_000, rebalanceTimeoutMs: 120_000, autoOffsetReset: 'earliest' as const };
    const staying = t.consumer(options);
    const leaving = t.consumer(options);
    const joins: Array<{ generationId: number; partitions: number[] }> = [];
    staying.on(staying.events.GROUP_JOIN, ({ payload }) => joins.push({ generationId: payload.generationId, partitions: payload.memberAssignment.handover ?? [] }));
    const log = new ProcessedLog();
    for (const member of [staying, leaving]) {
      await member.subscribe({ topics: ['handover'] });
      await member.run({ eachMessage: async ({ partition, message }) => log.record(partition, message.offset) });
    }
    await waitFor(() => staying.assignment().length > 0 && leaving.assignment().length > 0 && staying.generationId === leaving.generationId, () => 'both members to share the partitions');
    const sharedGeneration = staying.generationId;
    expect(staying.assignment()[0].partitions.length).toBe(2);
    await t.produce('handover', 400);
    await waitFor(() => log.distinct === 400, () => `${log.distinct} of 400`);

    await leaving.close();
    await waitFor(() => joins.some((j) => j.generationId > sharedGeneration), () => `a generation after ${sharedGeneration}: ${JSON.stringify(joins)}`, 20_000);
    expect(joins.at(-1)!.partitions).toEqual([0, 1, 2, 3]);
    const group = await describeGroup('handover-group');
    expect(group.members.map((m) => m.member_id)).toEqual([staying.memberId]);
    await t.produce('handover', 400, { prefix: 'after' });
    await waitFor(() => log.distinct === 800, () => `${log.distinct} of 800`);
    expect(log.duplicates).toBe(0);
  });

  test('a handler call longer than the rebalance timeout (max.poll.interval.ms) gives its partitions up; the member rejoins as a new one once it returns', async () => {
    t = await startConsumerTest();
    await t.createTopic('jobs', 2);
    const slow = t.consumer({ groupId: 'workers', ...FAST_CONSUMER, sessionTimeoutMs: 600, heartbeatIntervalMs: 100, rebalanceTimeoutMs: 1000, autoOffsetReset: 'earliest' });
    const fast = t.consumer({ groupId: 'workers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let isSlowHandling = false;
    const byFast: string[] = [];
    await slow.subscribe({ topics: ['jobs'] });
    await fast.subscribe({ topics: ['jobs'] });
    await slow.run({
      eachMessage: async () => {
        isSlowHandling = true;
        await released;
      },
    });
    await fast.run({ eachMessage: async ({ partition, message }) => void byFast.push(`${partition}:${message.offset}`) });
    await waitFor(() => slow.assignment().length === 1 && fast.assignment().length === 1 && slow.generationId === fast.generationId, () => 'both members to share the partitions');
    const slowPartition = slow.assignment()[0].partitions[0];
    const slowMemberId = slow.memberId;
    await t.produce('jobs', 1, { partition: slowPartition });
    await waitFor(() => isSlowHandling, () => 'the slow handler to start');
    // Still inside the handler: the member left, and the other took its partition and the record.
    await waitFor(() => byFast.includes(`${slowPartition}:0`), () => `the other member to process the record: ${JSON.stringify(byFast)}`);
    expect(fast.assignment()).toEqual([{ topic: 'jobs', partitions: [0, 1] }]);
    expect(isSlowHandling).toBe(true);
    release();
    await waitFor(() => slow.memberId !== '' && slow.memberId !== slowMemberId && slow.assignment().length === 1, () => 'the slow member to rejoin as a new member');
    const group = await describeGroup('workers');
    expect(group.members.map((m) => m.member_id).sort()).toEqual([slow.memberId, fast.memberId].sort());
  });

  test('a member killed with SIGKILL loses nothing: after its session timeout the survivors process everything from the last commit', async () => {
    t = await startConsumerTest();
    const recordCount = 30_000;
    await t.createTopic('payments', 6);
    await t.produce('payments', recordCount);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minikafka-consumer-kill-'));
    tempDirs.push(dir);
    const processedFile = path.join(dir, 'killed-member.txt');
    fs.writeFileSync(processedFile, '');
    const options = { ...FAST_CONSUMER, autoOffsetReset: 'earliest' as const };

    const child = spawn(process.execPath, [
      '--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'group-member.ts'),
      t.broker.url, 'payment-processors', 'payments', processedFile, JSON.stringify(options),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let childOutput = '';
    child.stdout.on('data', (chunk: Buffer) => (childOutput += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (childOutput += chunk.toString()));
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? String(code))));

    const log = new ProcessedLog();
    const survivors: Consumer[] = [];
    for (let i = 0; i < 2; i++) {
      const member = t.consumer({ groupId: 'payment-processors', ...options });
      await member.subscribe({ topics: ['payments'] });
      survivors.push(member);
    }
    await waitFor(() => childOutput.includes('joined'), () => `the child to join: ${childOutput}`);
    await Promise.all(survivors.map((member) => member.run({
      eachMessage: async ({ partition, message }) => {
        log.record(partition, message.offset);
        if (log.total % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      },
    })));
    // Kill it while it holds partitions and has processed part of them.
    await waitFor(() => fs.readFileSync(processedFile, 'utf8').split('\n').length > 2000, () => `the child to process records: ${childOutput}`);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killedLines = fs.readFileSync(processedFile, 'utf8').split('\n').filter((line) => line !== '');

    const ends = await highWatermarks('payments');
    await waitFor(async () => (await committedOffsets('payment-processors', 'payments')).join() === ends.join(), () => `every partition committed to its end (${log.distinct} processed by the survivors)`, 30_000);
    const byKilled = new ProcessedLog();
    for (const line of killedLines) {
      const [partition, offset] = line.split(' ').map(Number);
      byKilled.record(partition, offset);
    }
    let lost = 0;
    let processedTwice = 0;
    for (let partition = 0; partition < 6; partition++) {
      for (let offset = 0; offset < ends[partition]; offset++) {
        const inKilled = byKilled.has(partition, offset);
        const inSurvivors = log.has(partition, offset);
        if (!inKilled && !inSurvivors) lost++;
        if (inKilled && inSurvivors) processedTwice++;
      }
    }
    console.log(`killed member processed ${byKilled.distinct} records; survivors ${log.distinct} (${log.duplicates} twice among themselves); ${processedTwice} records processed by both (duplicates from the kill); lost ${lost}`);
    expect(lost).toBe(0);
    expect(byKilled.distinct).toBeGreaterThan(0);
    expect(log.duplicates).toBe(0);
    const group = await describeGroup('payment-processors');
    expect(group.members.map((m) => m.member_id).sort()).toEqual(survivors.map((s) => s.memberId).sort());
  });
});
