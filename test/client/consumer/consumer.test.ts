/**
 * The consumer against a real broker in this process, one or two members at a time: order within
 * a partition, commits and resuming from them, auto.offset.reset, seek by offset and by time,
 * pause and resume, heartbeats during a slow handler, the next fetch in flight during the
 * handler, eachBatch, for await, manual commits, events, and what a handler's error does.
 * Conditions are waited for with bounded polling; nothing asserts how long anything took.
 */

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { ConsumerEvent } from '../../../client/consumer/consumer-events.ts';
import type { ConsumerMessage } from '../../../client/consumer/fetched-batch.ts';
import { ClientClosedError, InvalidArgumentError, MiniKafkaClientError } from '../../../client/errors.ts';
import { serializers } from '../../../client/serializers.ts';
import { requestCount } from '../client-harness.ts';
import type { ConsumerTestContext } from './consumer-harness.ts';
import { FAST_CONSUMER, ProcessedLog, startConsumerTest, waitFor } from './consumer-harness.ts';

let t: ConsumerTestContext;

afterEach(async () => {
  await t.cleanup();
});

async function committed(groupId: string, topic: string): Promise<number[]> {
  const response = await fetch(`${t.broker.url}/groups/${groupId}/offsets?topic=${topic}`);
  const body = (await response.json()) as { offsets: Array<{ partition: number; offset: number }> };
  return body.offsets.sort((a, b) => a.partition - b.partition).map((o) => o.offset);
}

describe('Consumer.run({ eachMessage })', () => {
  test('hands every record over once, in offset order within each partition, and commits the positions', async () => {
    t = await startConsumerTest();
    await t.createTopic('orders', 3);
    await t.produce('orders', 3000);
    const consumer = t.consumer({ groupId: 'order-check', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['orders'] });
    const log = new ProcessedLog();
    const values = new Map<string, string>();
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        expect(topic).toBe('orders');
        log.record(partition, message.offset);
        values.set(`${partition}:${message.offset}`, message.value!.toString());
      },
    });
    await waitFor(() => log.distinct === 3000, () => `${log.distinct} of 3000 processed`);
    const highWatermarks = consumer.lag().map((p) => p.highWatermark!);
    for (let partition = 0; partition < 3; partition++) {
      expect(log.offsets(partition)).toEqual(Array.from({ length: highWatermarks[partition] }, (_, i) => i));
    }
    expect(log.duplicates).toBe(0);
    expect(new Set(values.values()).size).toBe(3000);
    await consumer.close();
    expect(await committed('order-check', 'orders')).toEqual(highWatermarks);
  });

  test('close() from inside the handler commits what was processed; a new member of the group resumes at the next record', async () => {
    t = await startConsumerTest();
    await t.createTopic('ledger', 1);
    await t.produce('ledger', 200);
    const first = t.consumer({ groupId: 'ledger-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await first.subscribe({ topics: ['ledger'] });
    const firstOffsets: number[] = [];
    let stopped = false;
    first.on(first.events.STOP, () => (stopped = true));
    await first.run({
      eachMessage: async ({ message }) => {
        firstOffsets.push(Number(message.offset));
        if (firstOffsets.length === 120) await first.close(); // resolves at once inside a handler
      },
    });
    await waitFor(() => stopped, () => 'the first consumer to stop');
    expect(firstOffsets).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(await committed('ledger-readers', 'ledger')).toEqual([120]);

    const second = t.consumer({ groupId: 'ledger-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await second.subscribe({ topics: ['ledger'] });
    const secondOffsets: number[] = [];
    await second.run({ eachMessage: async ({ message }) => void secondOffsets.push(Number(message.offset)) });
    await waitFor(() => secondOffsets.length >= 80, () => `${secondOffsets.length} of 80`);
    expect(secondOffsets).toEqual(Array.from({ length: 80 }, (_, i) => 120 + i));
  });

  test('auto.offset.reset: earliest reads from the log start, latest only what is produced after joining, none refuses a group without commits', async () => {
    t = await startConsumerTest();
    await t.createTopic('resets', 1);
    await t.produce('resets', 10, { prefix: 'old' });

    const earliest = t.consumer({ groupId: 'from-earliest', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    const latest = t.consumer({ groupId: 'from-latest', ...FAST_CONSUMER, autoOffsetReset: 'latest' });
    const seen = { earliest: [] as string[], latest: [] as string[] };
    for (const [name, consumer] of [['earliest', earliest], ['latest', latest]] as const) {
      await consumer.subscribe({ topics: ['resets'] });
      await consumer.run({ eachMessage: async ({ message }) => void seen[name].push(message.value!.toString()) });
    }
    // run() resolved: both have their starting positions, so what is produced now comes after latest's.
    await t.produce('resets', 5, { prefix: 'new' });
    await waitFor(() => seen.earliest.length === 15 && seen.latest.length === 5, () => JSON.stringify(seen));
    expect(seen.earliest.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `old-${i}`));
    expect(seen.latest).toEqual(Array.from({ length: 5 }, (_, i) => `new-${i}`));

    const none = t.consumer({ groupId: 'from-nowhere', ...FAST_CONSUMER, autoOffsetReset: 'none' });
    await none.subscribe({ topics: ['resets'] });
    const error = await none.run({ eachMessage: async () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MiniKafkaClientError);
    expect((error as MiniKafkaClientError).code).toBe('OFFSET_OUT_OF_RANGE');
    expect((error as MiniKafkaClientError).details).toMatchObject({ groupId: 'from-nowhere', topic: 'resets', partition: 0 });

    // subscribe's fromBeginning (KafkaJS) overrides the consumer's autoOffsetReset for its topics.
    const fromBeginning = t.consumer({ groupId: 'from-beginning', ...FAST_CONSUMER, autoOffsetReset: 'none' });
    await fromBeginning.subscribe({ topics: ['resets'], fromBeginning: true });
    const fromStart: string[] = [];
    await fromBeginning.run({ eachMessage: async ({ message }) => void fromStart.push(message.value!.toString()) });
    await waitFor(() => fromStart.length === 15, () => `${fromStart.length} of 15`);
  });

  test('seek() moves a partition to an offset, or to the first record at or after a timestamp; records already fetched are not handed out', async () => {
    t = await startConsumerTest();
    await t.createTopic('history', 1);
    await t.produce('history', 100, { prefix: 'day1', timestamp: Date.parse('2026-01-01T00:00:00Z') });
    await t.produce('history', 100, { prefix: 'day2', timestamp: Date.parse('2026-01-02T00:00:00Z') });
    const consumer = t.consumer({ groupId: 'history-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['history'] });
    const seen: Array<{ offset: number; value: string }> = [];
    let hasSought = false;
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push({ offset: Number(message.offset), value: message.value!.toString() });
        // From inside the handler, at offset 10: the rest of this batch must not be handed out.
        if (!hasSought && message.offset === '10') {
          hasSought = true;
          await consumer.seek({ topic: 'history', partition: 0, offset: '150' });
        }
      },
    });
    await waitFor(() => seen.length >= 61, () => `${seen.length} of 61`);
    expect(seen.map((s) => s.offset)).toEqual([...Array.from({ length: 11 }, (_, i) => i), ...Array.from({ length: 50 }, (_, i) => 150 + i)]);

    seen.length = 0;
    await consumer.seek({ topic: 'history', partition: 0, timestamp: Date.parse('2026-01-01T12:00:00Z') });
    await waitFor(() => seen.length >= 100, () => `${seen.length} of 100`);
    expect(seen[0]).toEqual({ offset: 100, value: 'day2-0' });
    expect(seen.every((s, i) => s.offset === 100 + i)).toBe(true);

    seen.length = 0;
    await consumer.seek({ topic: 'history', partition: 0, timestamp: Date.parse('2030-01-01T00:00:00Z') }); // newer than every record: the log end
    await t.produce('history', 1, { prefix: 'later' });
    await waitFor(() => seen.length >= 1, () => 'the record produced after the seek');
    expect(seen).toEqual([{ offset: 200, value: 'later-0' }]);

    await expect(consumer.seek({ topic: 'history', partition: 0, offset: -1 })).rejects.toBeInstanceOf(MiniKafkaClientError);
  });

  test('pause() stops handing out a partition until resume(), which continues where it stopped; the other partitions go on', async () => {
    t = await startConsumerTest();
    await t.createTopic('lanes', 2);
    const consumer = t.consumer({ groupId: 'lane-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['lanes'] });
    const log = new ProcessedLog();
    await consumer.run({ eachMessage: async ({ partition, message }) => log.record(partition, message.offset) });
    consumer.pause([{ topic: 'lanes', partitions: [0] }]);
    expect(consumer.paused()).toEqual([{ topic: 'lanes', partitions: [0] }]);
    await t.produce('lanes', 50, { partition: 0 });
    await t.produce('lanes', 50, { partition: 1 });
    await waitFor(() => log.offsets(1).length === 50, () => `${log.offsets(1).length} of partition 1's 50`);
    await waitFor(() => consumer.lag().find((p) => p.partition === 1)?.highWatermark === 50, () => 'partition 1 fetched to its end');
    // Partition 0's fetch loop is stopped: none of its records can have been handed out.
    expect(log.offsets(0)).toEqual([]);

    consumer.resume([{ topic: 'lanes' }]);
    expect(consumer.paused()).toEqual([]);
    await waitFor(() => log.offsets(0).length === 50, () => `${log.offsets(0).length} of partition 0's 50`);
    expect(log.offsets(0)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(log.duplicates).toBe(0);
  });

  test('a handler that runs longer than the session timeout keeps its partitions: heartbeats have their own timer', async () => {
    t = await startConsumerTest();
    await t.createTopic('slow', 1);
    await t.produce('slow', 3);
    const consumer = t.consumer({ groupId: 'slow-readers', ...FAST_CONSUMER, sessionTimeoutMs: 600, heartbeatIntervalMs: 100, rebalanceTimeoutMs: 10_000, autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['slow'] });
    const joins: number[] = [];
    let heartbeatsDuringHandler = 0;
    let isInHandler = false;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => joins.push(payload.generationId));
    consumer.on(consumer.events.HEARTBEAT, () => {
      if (isInHandler) heartbeatsDuringHandler++;
    });
    const offsets: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.offset === '0') {
          isInHandler = true;
          // Three session timeouts without returning: only the heartbeat timer keeps the member in the group.
          await new Promise((resolve) => setTimeout(resolve, 1800));
          isInHandler = false;
        }
        offsets.push(message.offset);
      },
    });
    await waitFor(() => offsets.length === 3, () => `${offsets.length} of 3`);
    expect(heartbeatsDuringHandler).toBeGreaterThan(3);
    expect(joins).toHaveLength(1);
    const group = (await (await fetch(`${t.broker.url}/groups/slow-readers`)).json()) as { generation_id: number; state: string; members: Array<{ member_id: string }> };
    expect(group).toMatchObject({ state: 'Stable', generation_id: joins[0] });
    expect(group.members.map((m) => m.member_id)).toEqual([consumer.memberId]);
  });

  test('the next fetch of a partition is in flight while the handler processes the previous result', async () => {
    t = await startConsumerTest();
    await t.createTopic('pipelined', 1);
    await t.produce('pipelined', 10);
    const consumer = t.consumer({ groupId: 'pipeline', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['pipelined'] });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    const fetchRoute = '/topics/:topic/partitions/:partition/records';
    const fetchesBefore = await requestCount(t.broker, fetchRoute);
    await consumer.run({
      eachMessage: async () => {
        if (handled++ === 0) await released;
      },
    });
    // The handler holds the first record; the first fetch's answer was whole (10 records), so a
    // second fetch, from offset 10, long-polls meanwhile: answered after fetchMaxWaitMs, and sent again.
    await waitFor(async () => (await requestCount(t.broker, fetchRoute)) >= fetchesBefore + 2, () => 'a second fetch during the handler');
    expect(handled).toBe(1);
    release();
    await waitFor(() => handled === 10, () => `${handled} of 10`);
  });

  test('an error thrown by eachMessage stops the consumer (consumer.crash); what was processed is committed, the failed record is the next one', async () => {
    t = await startConsumerTest();
    await t.createTopic('fragile', 1);
    await t.produce('fragile', 20);
    const consumer = t.consumer({ groupId: 'fragile-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['fragile'] });
    const crashes: Array<ConsumerEvent<'consumer.crash'>> = [];
    const stops: string[] = [];
    consumer.on(consumer.events.CRASH, (event) => crashes.push(event));
    consumer.on(consumer.events.STOP, (event) => stops.push(event.type));
    consumer.on(consumer.events.DISCONNECT, (event) => stops.push(event.type));
    const failure = new Error('cannot handle record 7');
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.offset === '7') throw failure;
      },
    });
    await waitFor(() => stops.length === 2, () => 'the consumer to stop');
    expect(crashes.map((c) => c.payload)).toEqual([{ groupId: 'fragile-readers', error: failure, restart: false }]);
    expect(stops).toEqual(['consumer.stop', 'consumer.disconnect']);
    expect(await committed('fragile-readers', 'fragile')).toEqual([7]);
    const group = (await (await fetch(`${t.broker.url}/groups/fragile-readers`)).json()) as { state: string };
    expect(group.state).toBe('Empty'); // it left
    await expect(consumer.commitOffsets([{ topic: 'fragile', partition: 0, offset: 1 }])).rejects.toBeInstanceOf(ClientClosedError);
  });

  test('a batch damaged on disk stops the consumer with CORRUPT_MESSAGE after the batches before it; nothing of it is handed out', async () => {
    t = await startConsumerTest();
    await t.createTopic('damaged', 1);
    // Three batches of 10 records (one send each), then a byte of the third one's records flipped in the segment file.
    for (let i = 0; i < 3; i++) await t.produce('damaged', 10, { prefix: `b${i}` });
    const segment = path.join(t.broker.dataDir, 'damaged-0', '00000000000000000000.log');
    const bytes = fs.readFileSync(segment);
    const fd = fs.openSync(segment, 'r+');
    fs.writeSync(fd, Buffer.from([bytes[bytes.length - 3] ^ 0xff]), 0, 1, bytes.length - 3);
    fs.closeSync(fd);
    const consumer = t.consumer({ groupId: 'damage-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest', maxPartitionFetchBytes: bytes.length / 3 });
    await consumer.subscribe({ topics: ['damaged'] });
    const crashes: Array<ConsumerEvent<'consumer.crash'>> = [];
    consumer.on(consumer.events.CRASH, (event) => crashes.push(event));
    const offsets: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void offsets.push(message.offset) });
    await waitFor(() => crashes.length === 1, () => 'the consumer to crash');
    expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(crashes[0].payload.error).toMatchObject({ code: 'CORRUPT_MESSAGE', details: { topic: 'damaged', partition: 0, offset: 20 } });
    expect(await committed('damage-readers', 'damaged')).toEqual([20]);
  });

  test('a handler that pauses its own partition and throws has not processed the record, which comes again after resume (KafkaJS pattern)', async () => {
    t = await startConsumerTest();
    await t.createTopic('throttled', 1);
    await t.produce('throttled', 5);
    const consumer = t.consumer({ groupId: 'throttled-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['throttled'] });
    const offsets: string[] = [];
    let resumeLater: (() => void) | null = null;
    await consumer.run({
      eachMessage: async ({ message, pause }) => {
        if (message.offset === '2' && resumeLater === null) {
          resumeLater = pause();
          throw new Error('429: try again later');
        }
        offsets.push(message.offset);
      },
    });
    await waitFor(() => resumeLater !== null, () => 'the pause');
    expect(offsets).toEqual(['0', '1']);
    resumeLater!();
    await waitFor(() => offsets.length === 5, () => `${offsets.length} of 5`);
    expect(offsets).toEqual(['0', '1', '2', '3', '4']);
  });
});

describe('Consumer.run({ eachBatch })', () => {
  test("gets one partition's fetched records with KafkaJS's batch helpers; resolveOffset() moves the position that is committed", async () => {
    t = await startConsumerTest();
    await t.createTopic('batches', 1);
    await t.produce('batches', 40);
    const consumer = t.consumer({ groupId: 'batch-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['batches'] });
    const seen: Array<{ first: string | null; last: string; hw: string; lag: string; count: number; isStale: boolean; isRunning: boolean }> = [];
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isStale, isRunning, uncommittedOffsets, commitOffsetsIfNecessary }) => {
        seen.push({ first: batch.firstOffset(), last: batch.lastOffset(), hw: batch.highWatermark, lag: batch.offsetLag(), count: batch.messages.length, isStale: isStale(), isRunning: isRunning() });
        resolveOffset(batch.messages[24].offset);
        expect(uncommittedOffsets()).toEqual({ topics: [{ topic: 'batches', partitions: [{ partition: 0, offset: '25' }] }] });
        await commitOffsetsIfNecessary([{ topic: 'batches', partition: 0, offset: '25' }]);
        await consumer.close();
      },
    });
    await waitFor(async () => (await committed('batch-readers', 'batches'))[0] === 25, () => 'the commit of offset 25');
    expect(seen).toEqual([{ first: '0', last: '39', hw: '40', lag: '0', count: 40, isStale: false, isRunning: true }]);
  });
});

describe('for await (const message of consumer)', () => {
  test('yields the records in order; leaving the loop closes the consumer and commits only what the loop body finished', async () => {
    t = await startConsumerTest();
    await t.createTopic('stream', 1);
    await t.produce('stream', 30);
    const consumer = t.consumer({ groupId: 'stream-readers', ...FAST_CONSUMER, autoOffsetReset: 'earliest', valueDeserializer: serializers.string });
    await consumer.subscribe({ topics: ['stream'] });
    const values: string[] = [];
    let last: ConsumerMessage<Buffer, string> | undefined;
    for await (const message of consumer) {
      last = message;
      if (message.offset === '20') break; // record 20's loop body did not finish
      values.push(message.value!);
    }
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => `v-${i}`));
    expect(last).toMatchObject({ topic: 'stream', partition: 0, offset: '20', key: Buffer.from('key-20'), value: 'v-20', headers: {} });
    expect(await committed('stream-readers', 'stream')).toEqual([20]);
    await expect(consumer.subscribe({ topics: ['stream'] })).rejects.toBeInstanceOf(ClientClosedError);

    const next = t.consumer({ groupId: 'stream-readers', ...FAST_CONSUMER, valueDeserializer: serializers.string });
    await next.subscribe({ topics: ['stream'] });
    for await (const message of next) {
      expect(message.value).toBe('v-20');
      break;
    }
  });

  test('ends when the consumer is closed from elsewhere, and throws when it crashes', async () => {
    t = await startConsumerTest();
    await t.createTopic('ending', 1);
    await t.produce('ending', 3);
    const closed = t.consumer({ groupId: 'closers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await closed.subscribe({ topics: ['ending'] });
    const offsets: string[] = [];
    for await (const message of closed) {
      offsets.push(message.offset);
      if (offsets.length === 3) setTimeout(() => void closed.close(), 50);
    }
    expect(offsets).toEqual(['0', '1', '2']);

    // close() awaited inside the loop body: the body's record goes back unprocessed, the loop ends.
    const selfClosing = t.consumer({ groupId: 'self-closers', ...FAST_CONSUMER, autoOffsetReset: 'earliest' });
    await selfClosing.subscribe({ topics: ['ending'] });
    const selfOffsets: string[] = [];
    for await (const message of selfClosing) {
      selfOffsets.push(message.offset);
      if (message.offset === '1') await selfClosing.close();
    }
    expect(selfOffsets).toEqual(['0', '1']);
    expect(await committed('self-closers', 'ending')).toEqual([1]);

    const crashing = t.consumer({ groupId: 'crashers', ...FAST_CONSUMER, autoOffsetReset: 'earliest', valueDeserializer: serializers.json });
    await crashing.subscribe({ topics: ['ending'] });
    const error = await (async () => {
      for await (const message of crashing) void message;
    })().catch((e: unknown) => e);
    // The records are not JSON: the json deserializer refuses the first one.
    expect(error).toBeInstanceOf(MiniKafkaClientError);
    expect((error as MiniKafkaClientError).code).toBe('INVALID_RECORD');
    expect((error as MiniKafkaClientError).details).toMatchObject({ topic: 'ending', partition: 0, offset: 0, field: 'value', deserializer: 'json' });
  });
});

describe('Consumer commits and events', () => {
  test('with autoCommit off nothing is committed until commitOffsets(); events report the join, the commit and the rebalance a second member causes', async () => {
    t = await startConsumerTest();
    await t.createTopic('manual', 2);
    await t.produce('manual', 10, { partition: 0 });
    const consumer = t.consumer({ groupId: 'manual-commits', ...FAST_CONSUMER, autoOffsetReset: 'earliest', autoCommit: false });
    const events: Array<ConsumerEvent<'consumer.group_join'> | ConsumerEvent<'consumer.commit_offsets'> | ConsumerEvent<'consumer.rebalancing'>> = [];
    consumer.on(consumer.events.GROUP_JOIN, (e) => events.push(e));
    consumer.on(consumer.events.COMMIT_OFFSETS, (e) => events.push(e));
    const removeRebalancing = consumer.on(consumer.events.REBALANCING, (e) => events.push(e));
    await consumer.subscribe({ topic: 'manual' });
    let count = 0;
    await consumer.run({ eachMessage: async () => void count++ });
    await waitFor(() => count === 10, () => `${count} of 10`);
    await waitFor(() => consumer.lag()[0].highWatermark === 10 && consumer.lag()[1].highWatermark !== null, () => 'a fetch answer for each partition');
    expect(await committed('manual-commits', 'manual')).toEqual([-1, -1]);
    expect(consumer.lag()).toEqual([
      { topic: 'manual', partition: 0, offset: 10, committedOffset: null, highWatermark: 10, lag: 0 },
      { topic: 'manual', partition: 1, offset: 0, committedOffset: null, highWatermark: 0, lag: 0 },
    ]);
    await consumer.commitOffsets([{ topic: 'manual', partition: 0, offset: '10' }]);
    expect(await committed('manual-commits', 'manual')).toEqual([10, -1]);

    const second = t.consumer({ groupId: 'manual-commits', ...FAST_CONSUMER, autoCommit: false });
    await second.subscribe({ topics: ['manual'] });
    const secondJoined = second.run({ eachMessage: async () => undefined });
    await secondJoined;
    await waitFor(() => events.filter((e) => e.type === 'consumer.group_join').length === 2, () => 'the first member to rejoin');
    removeRebalancing();

    const [join1, commit, rebalancing, join2] = events;
    expect(join1.type).toBe('consumer.group_join');
    expect(join1.payload).toMatchObject({ groupId: 'manual-commits', generationId: 1, isLeader: true, groupProtocol: 'range', memberAssignment: { manual: [0, 1] } });
    expect(commit).toMatchObject({ type: 'consumer.commit_offsets', payload: { groupId: 'manual-commits', groupGenerationId: 1, topics: [{ topic: 'manual', partitions: [{ partition: 0, offset: '10' }] }] } });
    expect(rebalancing).toMatchObject({ type: 'consumer.rebalancing', payload: { groupId: 'manual-commits', memberId: consumer.memberId } });
    expect(join2.payload).toMatchObject({ generationId: 2 });
    const assigned = [...Object.values((join2 as ConsumerEvent<'consumer.group_join'>).payload.memberAssignment).flat(), ...second.assignment().flatMap((a) => a.partitions)];
    expect(assigned.sort()).toEqual([0, 1]);
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
  });

  test('refuses options that do not go together, and calls out of order', async () => {
    t = await startConsumerTest();
    expect(() => t.client.consumer({ groupId: '' })).toThrow(InvalidArgumentError);
    expect(() => t.client.consumer({ groupId: 'g', sessionTimeoutMs: 3000, heartbeatIntervalMs: 3000 })).toThrow(/must be below sessionTimeoutMs/);
    expect(() => t.client.consumer({ groupId: 'g', maxPartitionFetchBytes: 2000, fetchMaxBytes: 1000 })).toThrow(/fetchMaxBytes \(1000\) must be at least maxPartitionFetchBytes/);
    expect(() => t.client.consumer({ groupId: 'g', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 })).toThrow(/at least sessionTimeoutMs/);
    expect(() => t.client.consumer({ groupId: 'g', autoOffsetReset: 'smallest' as never })).toThrow(/'earliest', 'latest' or 'none'/);
    expect(() => t.client.consumer({ groupId: 'g', assignors: ['cooperative-sticky' as never] })).toThrow(/assignors/);
    const consumer = t.consumer({ groupId: 'g', ...FAST_CONSUMER });
    await expect(consumer.run({ eachMessage: async () => undefined })).rejects.toThrow(/subscribe/);
    await expect(consumer.seek({ topic: 'x', partition: 0, offset: 0 })).rejects.toThrow(/after run/);
    await expect(consumer.run({} as never)).rejects.toThrow(/exactly one of eachMessage or eachBatch/);
    await expect(consumer.subscribe({ topics: [] })).rejects.toThrow(/at least one topic/);
    const noCreate = t.consumer({ groupId: 'g', ...FAST_CONSUMER, allowAutoTopicCreation: false });
    await expect(noCreate.subscribe({ topics: ['does-not-exist'] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });
});
