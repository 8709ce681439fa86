/**
 * Consumer groups through the broker core: commits stored in `__consumer_offsets` and replayed
 * after a restart, fencing of zombie commits, lag, resets, deletion and offset retention. Timers
 * run on a ManualScheduler; the storage is real.
 */

import { describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../../common/record-batch.ts';
import { BrokerCore } from '../../../broker/core/broker-core.ts';
import { encodeSubscription } from '../../../broker/groups/consumer-protocol.ts';
import { ManualScheduler } from '../../../broker/groups/scheduler.ts';
import { OFFSETS_TOPIC, decodeGroupMetadataValue, encodeGroupMetadataValue, offsetsPartitionFor } from '../../../broker/groups/offsets-topic-records.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';
import { testTopicConfigs } from '../../helpers/test-topic-configs.ts';

const schedulers = new WeakMap<BrokerCore, ManualScheduler>();

async function open(dataDir: string, scheduler = new ManualScheduler(), offsetsTopicSegmentBytes = 104_857_600): Promise<BrokerCore> {
  const core = await BrokerCore.open({
    dataDir,
    topicConfigs: testTopicConfigs(),
    autoCreateTopics: true,
    scheduler,
    clock: { nowMs: () => scheduler.nowMs() },
    groups: { offsetsTopicPartitions: 5, offsetsTopicSegmentBytes, offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000, coordinator: { initialRebalanceDelayMs: 0 } },
  });
  schedulers.set(core, scheduler);
  return core;
}

async function fill(core: BrokerCore, topic: string, partitions: number, perPartition: number): Promise<void> {
  await core.topics.create({ name: topic, partitions });
  for (let p = 0; p < partitions; p++) await core.produceBatch(topic, p, encodeRecordBatch({ records: Array.from({ length: perPartition }, (_, i) => ({ value: `v${i}` })) }), 1);
}

/** One member joins and leads; the broker assigns with `roundrobin`. Returns its id and generation. */
async function joinAlone(core: BrokerCore, groupId: string, topics: string[]): Promise<{ memberId: string; generationId: number }> {
  const joining = core.groups.coordinator.joinGroup({
    groupId,
    memberId: '',
    clientId: 'test-client',
    clientHost: '127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: [{ name: 'roundrobin', metadata: encodeSubscription({ topics }) }],
    requireKnownMemberId: false,
  });
  schedulers.get(core)!.advance(0); // the (zero) initial rebalance delay
  const join = await joining;
  await core.groups.syncGroup({ groupId, memberId: join.memberId, generationId: join.generationId, assignments: [] }, 'roundrobin');
  return { memberId: join.memberId, generationId: join.generationId };
}

describe('consumer groups in the core', () => {
  it('places groups on Kafka’s __consumer_offsets partitions (fact sheet A.4)', () => {
    expect(offsetsPartitionFor('my-group', 50)).toBe(12);
    expect(offsetsPartitionFor('test-group', 50)).toBe(12);
    expect(offsetsPartitionFor('console-consumer-1', 50)).toBe(24);
    expect(offsetsPartitionFor('kafkajs-group', 50)).toBe(43);
  });

  it('round-trips group metadata through Kafka’s GroupMetadataValue layout', () => {
    const snapshot = {
      groupId: 'g',
      state: 'Stable' as const,
      protocolType: 'consumer',
      protocolName: 'range',
      generationId: 7,
      leaderId: 'm-1',
      stateTimestampMs: 1_700_000_000_123,
      members: [{ memberId: 'm-1', groupInstanceId: null, clientId: 'c', clientHost: '/127.0.0.1', rebalanceTimeoutMs: 300_000, sessionTimeoutMs: 45_000, subscription: Buffer.from([0, 0, 1]), assignment: Buffer.from([9]) }],
    };
    expect(decodeGroupMetadataValue('g', encodeGroupMetadataValue(snapshot))).toEqual(snapshot);
  });

  it('keeps commits and the group across a restart, replayed from __consumer_offsets', async () => {
    const dataDir = makeTempDir();
    let core = await open(dataDir);
    expect(core.topics.has(OFFSETS_TOPIC)).toBe(false); // created on first use, as in Kafka
    await fill(core, 'orders', 2, 10);
    const { memberId, generationId } = await joinAlone(core, 'billing', ['orders']);
    await core.groups.commitOffsets('billing', generationId, memberId, [
      { topic: 'orders', partition: 0, offset: 4, metadata: 'first' },
      { topic: 'orders', partition: 1, offset: 9, metadata: '' },
    ]);
    await core.groups.commitOffsets('billing', generationId, memberId, [{ topic: 'orders', partition: 0, offset: 6, metadata: 'second' }]);
    expect(core.topics.partitionCount(OFFSETS_TOPIC)).toBe(5);
    await core.close();

    core = await open(dataDir);
    expect(core.groups.fetchOffsets('billing', [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }, { topic: 'orders', partition: 7 }])).toEqual([
      { topic: 'orders', partition: 0, offset: 6, metadata: 'second' },
      { topic: 'orders', partition: 1, offset: 9, metadata: '' },
      { topic: 'orders', partition: 7, offset: -1, metadata: '' },
    ]);
    const described = core.groups.coordinator.describeGroup('billing');
    expect(described).toMatchObject({ state: 'Stable', generationId, protocolName: 'roundrobin' });
    expect(described.members.map((m) => m.memberId)).toEqual([memberId]);
    await core.close();
  });

  it('refuses a zombie’s commit (stale generation, unknown member) and accepts the current one', async () => {
    const core = await open(makeTempDir());
    await fill(core, 't', 1, 3);
    const first = await joinAlone(core, 'g', ['t']);
    await core.groups.coordinator.leaveGroup({ groupId: 'g', memberId: first.memberId });
    const second = await joinAlone(core, 'g', ['t']);
    expect(second.generationId).toBeGreaterThan(first.generationId);
    await expect(core.groups.commitOffsets('g', first.generationId, first.memberId, [{ topic: 't', partition: 0, offset: 1, metadata: '' }])).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    await expect(core.groups.commitOffsets('g', first.generationId, second.memberId, [{ topic: 't', partition: 0, offset: 1, metadata: '' }])).rejects.toMatchObject({ code: 'ILLEGAL_GENERATION' });
    await expect(core.groups.commitOffsets('g', second.generationId, second.memberId, [{ topic: 't', partition: 9, offset: 1, metadata: '' }])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await core.groups.commitOffsets('g', second.generationId, second.memberId, [{ topic: 't', partition: 0, offset: 2, metadata: '' }]);
    expect(core.groups.fetchOffsets('g')).toEqual([{ topic: 't', partition: 0, offset: 2, metadata: '' }]);
    await core.close();
  });

  it('describes lag per partition: high watermark minus committed offset, with the owner', async () => {
    const core = await open(makeTempDir());
    await fill(core, 'lagged', 3, 10);
    const { memberId, generationId } = await joinAlone(core, 'g', ['lagged']);
    await core.groups.commitOffsets('g', generationId, memberId, [
      { topic: 'lagged', partition: 0, offset: 10, metadata: '' },
      { topic: 'lagged', partition: 1, offset: 4, metadata: '' },
    ]);
    const { partitions, totalLag, description } = core.groups.describeWithLag('g');
    expect(description?.state).toBe('Stable');
    expect(partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag, p.memberId])).toEqual([
      [0, 10, 10, 0, memberId],
      [1, 4, 10, 6, memberId],
      [2, null, 10, null, memberId],
    ]);
    expect(totalLag).toBe(6);
    await core.close();
  });

  it('resets offsets only while the group has no live members, as a dry run unless told to execute', async () => {
    const scheduler = new ManualScheduler();
    const core = await open(makeTempDir(), scheduler);
    await fill(core, 'r', 2, 10);
    const { memberId, generationId } = await joinAlone(core, 'g', ['r']);
    await core.groups.commitOffsets('g', generationId, memberId, [{ topic: 'r', partition: 0, offset: 5, metadata: '' }]);
    await expect(core.groups.resetOffsets('g', [{ topic: 'r' }], { kind: 'earliest' }, true)).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' });
    await core.groups.coordinator.leaveGroup({ groupId: 'g', memberId });

    const dryRun = await core.groups.resetOffsets('g', [{ topic: 'r' }], { kind: 'shift', by: -3 }, false);
    expect(dryRun).toEqual([
      { topic: 'r', partition: 0, currentOffset: 5, newOffset: 2 },
      { topic: 'r', partition: 1, currentOffset: null, newOffset: 0 },
    ]);
    expect(core.groups.fetchOffsets('g', [{ topic: 'r', partition: 0 }])[0].offset).toBe(5);
    await core.groups.resetOffsets('g', [{ topic: 'r', partitions: [0] }], { kind: 'offset', offset: 999 }, true);
    expect(core.groups.fetchOffsets('g', [{ topic: 'r', partition: 0 }])[0].offset).toBe(10); // clamped to the high watermark
    await core.close();
  });

  it('deletes an Empty group with its offsets, for good, and expires groups empty past offsets.retention.minutes', async () => {
    const dataDir = makeTempDir();
    const scheduler = new ManualScheduler();
    let core = await open(dataDir, scheduler);
    await fill(core, 'd', 1, 5);
    await core.groups.commitOffsets('gone', -1, '', [{ topic: 'd', partition: 0, offset: 3, metadata: '' }]);
    await core.groups.commitOffsets('stale', -1, '', [{ topic: 'd', partition: 0, offset: 1, metadata: '' }]);
    await expect(core.groups.deleteGroup('nobody')).rejects.toMatchObject({ code: 'GROUP_ID_NOT_FOUND' });
    await core.groups.deleteGroup('gone');
    expect(core.groups.fetchOffsets('gone')).toEqual([]);
    // Past retention (60 s), one retention check (every 10 s) at a time, letting each finish.
    for (let step = 0; step < 8; step++) {
      scheduler.advance(10_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(core.groups.fetchOffsets('stale')).toEqual([]);
    expect(core.groups.listGroups()).toEqual([]);
    await core.close();
    core = await open(dataDir);
    expect(core.groups.fetchOffsets('gone')).toEqual([]);
    expect(core.groups.fetchOffsets('stale')).toEqual([]);
    expect(core.groups.listGroups()).toEqual([]);
    await core.close();
  });

  it('keeps clients from writing to or deleting __consumer_offsets', async () => {
    const core = await open(makeTempDir());
    await core.groups.commitOffsets('g', -1, '', []);
    await fill(core, 'x', 1, 1);
    await core.groups.commitOffsets('g', -1, '', [{ topic: 'x', partition: 0, offset: 1, metadata: '' }]);
    await expect(core.produceRecords(OFFSETS_TOPIC, [{ key: Buffer.from('k'), value: null, headers: [] }], { acks: 1 })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' });
    await expect(core.topics.delete(OFFSETS_TOPIC)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await core.close();
  });

  it('compacts __consumer_offsets down to the latest commit per partition, and replays it', async () => {
    const dataDir = makeTempDir();
    let core = await open(dataDir, new ManualScheduler(), 2_000);
    await fill(core, 'c', 2, 1);
    for (let i = 1; i <= 150; i++) await core.groups.commitOffsets('compactor', -1, '', [{ topic: 'c', partition: i % 2, offset: i, metadata: `commit ${i}` }]);
    const log = core.topics.partition(OFFSETS_TOPIC, offsetsPartitionFor('compactor', 5)).log;
    const before = log.sizeBytes;
    await log.flush(); // the cleaner only touches what an fsync covered
    const result = await core.logs.cleaner.cleanNow(log);
    expect(result.isComplete).toBe(true);
    expect(log.sizeBytes).toBeLessThan(before / 3);
    await core.close();
    core = await open(dataDir, new ManualScheduler(), 2_000);
    expect(core.groups.fetchOffsets('compactor')).toEqual([
      { topic: 'c', partition: 0, offset: 150, metadata: 'commit 150' },
      { topic: 'c', partition: 1, offset: 149, metadata: 'commit 149' },
    ]);
    await core.close();
  });

  it('describes a group whose leader handed out bytes that are not an Assignment, and answers a late leader sync with its assignment', async () => {
    const scheduler = new ManualScheduler();
    const core = await open(makeTempDir(), scheduler);
    await fill(core, 'b', 1, 1);
    const joining = core.groups.coordinator.joinGroup({ groupId: 'odd', memberId: '', clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: encodeSubscription({ topics: ['b'] }) }], requireKnownMemberId: false });
    scheduler.advance(0);
    const join = await joining;
    await core.groups.syncGroup({ groupId: 'odd', memberId: join.memberId, generationId: join.generationId, assignments: [{ memberId: join.memberId, assignment: Buffer.from([0xff, 0xff, 0xff]) }] });
    expect(core.groups.describeWithLag('odd').partitions).toEqual([]);
    // Stable now: a second sync from the leader asking for server assignment gets what it has.
    const again = await core.groups.syncGroup({ groupId: 'odd', memberId: join.memberId, generationId: join.generationId, assignments: [] }, 'range');
    expect(again.assignment.equals(Buffer.from([0xff, 0xff, 0xff]))).toBe(true);
    await expect(core.groups.syncGroup({ groupId: 'nobody', memberId: 'm', generationId: 1, assignments: [] }, 'range')).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    await core.close();
  });

  it('refuses a join field too long for a Kafka string, before it can break the group', async () => {
    const core = await open(makeTempDir());
    await expect(
      core.groups.coordinator.joinGroup({ groupId: 'g', memberId: '', clientId: 'x'.repeat(40_000), clientHost: 'h', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], requireKnownMemberId: false }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect(core.groups.listGroups()).toEqual([]);
    await core.close();
  });
});
