/**
 * The broker core, with real files in a temporary directory and the real config layer.
 */

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../common/murmur2.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import type { BrokerCoreOptions, ProduceRecord } from '../../../broker/core/broker-core.ts';
import { BrokerCore } from '../../../broker/core/broker-core.ts';
import { ManualClock } from '../../../broker/storage/clock.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';
import { testTopicConfigs } from '../../helpers/test-topic-configs.ts';

function open(dataDir: string, options: Partial<BrokerCoreOptions> & { brokerConfigs?: string[] } = {}): Promise<BrokerCore> {
  return BrokerCore.open({ dataDir, topicConfigs: testTopicConfigs({ brokerConfigs: options.brokerConfigs }), autoCreateTopics: true, ...options });
}

const record = (key: string | null, value: string): ProduceRecord => ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(value), headers: [] });

function readAll(core: BrokerCore, topic: string, partition: number): Array<{ offset: number; key: string | null; value: string | null; timestamp: number }> {
  const { log } = core.topics.partition(topic, partition);
  const out: Array<{ offset: number; key: string | null; value: string | null; timestamp: number }> = [];
  for (let offset = log.logStartOffset; offset < log.nextOffset; ) {
    const read = log.read(offset, 1 << 20)!;
    for (const { position } of iterateRecordBatches(read.bytes)) {
      for (const r of decodeRecordBatch(read.bytes, position).records) out.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp });
    }
    offset = read.lastOffset + 1;
  }
  return out;
}

describe('BrokerCore topics', () => {
  it('creates, describes, alters, grows and deletes a topic, and keeps it across a restart', async () => {
    const dataDir = makeTempDir();
    let core = await open(dataDir);
    const created = await core.topics.create({ name: 'orders', partitions: 3, configs: { 'retention.ms': 60000, 'cleanup.policy': 'delete' } });
    expect(created!.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(created!.configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '60000', source: 'DYNAMIC_TOPIC_CONFIG' });
    await core.topics.alterConfigs('orders', { 'retention.ms': null, 'segment.bytes': '2000000' });
    await core.topics.addPartitions('orders', 5);
    await core.close();

    core = await open(dataDir);
    const described = core.topics.describe('orders');
    expect(described.partitions).toHaveLength(5);
    expect(described.configs.find((c) => c.name === 'retention.ms')!.source).toBe('DEFAULT_CONFIG');
    expect(described.configs.find((c) => c.name === 'segment.bytes')!.value).toBe('2000000');
    expect(core.topics.partition('orders', 4).log.config.segmentBytes).toBe(2_000_000);
    expect(core.topics.list()).toEqual(['orders']);
    await core.topics.delete('orders');
    expect(fs.readdirSync(dataDir).filter((n) => n.startsWith('orders-'))).toEqual([]);
    await expect(core.topics.addPartitions('orders', 9)).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await core.close();
  });

  it('refuses bad names, counts and configs with their catalogue codes, touching nothing on disk', async () => {
    const dataDir = makeTempDir();
    const core = await open(dataDir);
    await expect(core.topics.create({ name: '../evil' })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' });
    await expect(core.topics.create({ name: '..' })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' });
    await expect(core.topics.create({ name: 'x'.repeat(250) })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' });
    await expect(core.topics.create({ name: 't', partitions: 0 })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
    await expect(core.topics.create({ name: 't', replicationFactor: 3 })).rejects.toMatchObject({ code: 'INVALID_REPLICATION_FACTOR' });
    await expect(core.topics.create({ name: 't', configs: { 'retention.mss': '5' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(core.topics.create({ name: 't', configs: { 'segment.bytes': '-5' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await core.topics.create({ name: 't' });
    await expect(core.topics.create({ name: 't' })).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS' });
    await expect(core.topics.addPartitions('t', 1)).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
    expect(fs.readdirSync(dataDir).filter((n) => /-\d+$/.test(n))).toEqual(['t-0']);
    await core.close();
  });

  it('sweeps partition directories the topic list does not know (a deletion cut short)', async () => {
    const dataDir = makeTempDir();
    let core = await open(dataDir);
    await core.topics.create({ name: 'kept' });
    await core.close();
    fs.mkdirSync(path.join(dataDir, 'ghost-0'));
    fs.mkdirSync(path.join(dataDir, 'kept-7'));
    core = await open(dataDir);
    expect(fs.existsSync(path.join(dataDir, 'ghost-0'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'kept-7'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'kept-0'))).toBe(true);
    await core.close();
  });
});

describe('BrokerCore produce', () => {
  it('puts keyed records where Kafka’s murmur2 partitioner does and keeps per-partition order', async () => {
    const core = await open(makeTempDir());
    await core.topics.create({ name: 'keyed', partitions: 6 });
    const keys = ['', 'a', 'hello', 'kafka', 'user-123', 'order-42'];
    const results = await core.produceRecords('keyed', keys.flatMap((k) => [record(k, `${k}#1`), record(k, `${k}#2`)]), { acks: -1 });
    results.forEach((result, i) => expect(result.partition).toBe(partitionForKey(Buffer.from(keys[i >> 1]), 6)));
    // Fact sheet A.3: "hello" → 3 of 6, "order-42" → 0 of 6.
    expect(results[4].partition).toBe(3);
    expect(results[10].partition).toBe(0);
    const partition3 = readAll(core, 'keyed', 3).filter((r) => r.key === 'hello').map((r) => r.value);
    expect(partition3).toEqual(['hello#1', 'hello#2']);
    await core.close();
  });

  it('sends the keyless records of one request to one partition, and honours explicit partitions', async () => {
    const core = await open(makeTempDir());
    await core.topics.create({ name: 'loose', partitions: 4 });
    const results = await core.produceRecords('loose', Array.from({ length: 20 }, (_, i) => record(null, `v${i}`)), { acks: 1 });
    expect(new Set(results.map((r) => r.partition)).size).toBe(1);
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const explicit = await core.produceRecords('loose', [{ ...record('k', 'v'), partition: 2 }, { ...record('k', 'v'), partition: 9 }], { acks: 1 });
    expect(explicit[0]).toMatchObject({ partition: 2, error: null });
    expect(explicit[1]).toMatchObject({ partition: 9, offset: -1, error: expect.objectContaining({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }) });
    await core.close();
  });

  it('splits a large request into batches under max.message.bytes', async () => {
    const core = await open(makeTempDir());
    await core.topics.create({ name: 'big', configs: { 'max.message.bytes': '2000' } });
    const results = await core.produceRecords('big', Array.from({ length: 50 }, (_, i) => record(null, `${i}`.padEnd(200, '.'))), { acks: 1 });
    expect(results.every((r) => r.error === null)).toBe(true);
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(readAll(core, 'big', 0)).toHaveLength(50);
    await core.close();
  });

  it('auto-creates a topic on produce with num.partitions, or refuses when auto.create.topics.enable is off', async () => {
    const core = await open(makeTempDir(), { brokerConfigs: ['num.partitions=3'] });
    await core.produceRecords('fresh', [record('k', 'v')], { acks: 1 });
    expect(core.topics.partitionCount('fresh')).toBe(3);
    await core.close();
    const strict = await open(makeTempDir(), { autoCreateTopics: false });
    await expect(strict.produceRecords('nope', [record('k', 'v')], { acks: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await strict.close();
  });

  it('answers a retried idempotent batch with its original offsets, also after a restart', async () => {
    const dataDir = makeTempDir();
    let core = await open(dataDir);
    await core.topics.create({ name: 'idem' });
    const { producerId, producerEpoch } = await core.initProducerId();
    const batch = (sequence: number, value: string): Buffer => encodeRecordBatch({ producerId, producerEpoch, baseSequence: sequence, records: [{ value }, { value: value + '!' }] });
    const first = await core.produceBatch('idem', 0, batch(0, 'a'), -1);
    const second = await core.produceBatch('idem', 0, batch(2, 'b'), -1);
    expect((await core.produceBatch('idem', 0, batch(0, 'a'), -1))).toMatchObject({ baseOffset: first.baseOffset, isDuplicate: true });
    await expect(core.produceBatch('idem', 0, batch(7, 'gap'), -1)).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    await core.close();

    core = await open(dataDir);
    expect(await core.produceBatch('idem', 0, batch(2, 'b'), -1)).toMatchObject({ baseOffset: second.baseOffset, isDuplicate: true });
    expect(readAll(core, 'idem', 0).map((r) => r.value)).toEqual(['a', 'a!', 'b', 'b!']);
    // A bumped epoch fences the old one.
    const bumped = await core.initProducerId({ producerId, producerEpoch });
    expect(bumped).toEqual({ producerId, producerEpoch: producerEpoch + 1 });
    await core.produceBatch('idem', 0, encodeRecordBatch({ producerId, producerEpoch: bumped.producerEpoch, baseSequence: 0, records: [{ value: 'new' }] }), -1);
    await expect(core.produceBatch('idem', 0, batch(4, 'old'), -1)).rejects.toMatchObject({ code: 'INVALID_PRODUCER_EPOCH' });
    await core.close();
  });

  it('never hands out a producer id twice, across restarts', async () => {
    const dataDir = makeTempDir();
    let core = await open(dataDir);
    const before = await Promise.all(Array.from({ length: 5 }, () => core.initProducerId()));
    await core.close();
    core = await open(dataDir);
    const after = await core.initProducerId();
    expect(new Set([...before.map((p) => p.producerId), after.producerId]).size).toBe(6);
    await expect(core.initProducerId({ producerId: 1e9, producerEpoch: 0 })).rejects.toMatchObject({ code: 'UNKNOWN_PRODUCER_ID' });
    await core.close();
  });

  it('applies the topic rules: LogAppendTime, compaction keys, min.insync.replicas', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const core = await open(makeTempDir(), { clock });
    await core.topics.create({ name: 'appended', configs: { 'message.timestamp.type': 'LogAppendTime' } });
    await core.produceRecords('appended', [{ ...record('k', 'v'), timestamp: 5 }], { acks: 1 });
    expect(readAll(core, 'appended', 0)[0].timestamp).toBe(1_800_000_000_000);

    await core.topics.create({ name: 'compacted', configs: { 'cleanup.policy': 'compact' } });
    const [keyless] = await core.produceRecords('compacted', [record(null, 'v')], { acks: 1 });
    expect(keyless.error?.code).toBe('INVALID_RECORD');

    await core.topics.create({ name: 'strict', configs: { 'min.insync.replicas': '2' } });
    const [all] = await core.produceRecords('strict', [record('k', 'v')], { acks: -1 });
    expect(all.error?.code).toBe('NOT_ENOUGH_REPLICAS');
    const [leader] = await core.produceRecords('strict', [record('k', 'v')], { acks: 1 });
    expect(leader.error).toBeNull();
    await core.close();
  });
});

describe('BrokerCore fetch', () => {
  it('long-polls until an append arrives, then returns it', async () => {
    const core = await open(makeTempDir());
    await core.topics.create({ name: 'poll' });
    const waiting = core.fetch('poll', 0, { offset: 0, maxBytes: 1 << 20, maxWaitMs: 30_000 });
    await core.produceRecords('poll', [record('k', 'wake up')], { acks: 1 });
    const result = await waiting;
    expect(decodeRecordBatch(result.bytes).records[0].value!.toString()).toBe('wake up');
    expect(result.highWatermark).toBe(1);
    await core.close();
  });

  it('returns nothing after the wait, and ends waits at once on abort and on close', async () => {
    const core = await open(makeTempDir());
    await core.topics.create({ name: 'quiet' });
    expect((await core.fetch('quiet', 0, { offset: 0, maxBytes: 100, maxWaitMs: 20 })).bytes.length).toBe(0);
    const controller = new AbortController();
    const aborted = core.fetch('quiet', 0, { offset: 0, maxBytes: 100, maxWaitMs: 60_000, signal: controller.signal });
    controller.abort();
    expect((await aborted).bytes.length).toBe(0);
    const pending = core.fetch('quiet', 0, { offset: 0, maxBytes: 100, maxWaitMs: 60_000 });
    await core.close();
    expect((await pending).bytes.length).toBe(0);
    await expect(core.fetch('quiet', 0, { offset: 0, maxBytes: 100, maxWaitMs: 0 })).rejects.toMatchObject({ code: 'BROKER_SHUTTING_DOWN' });
  });

  it('answers OFFSET_OUT_OF_RANGE with the valid range, and offsets by time', async () => {
    const clock = new ManualClock(1000);
    const core = await open(makeTempDir(), { clock });
    await core.topics.create({ name: 'range' });
    await core.produceRecords('range', [{ ...record('a', '1'), timestamp: 100 }, { ...record('b', '2'), timestamp: 200 }], { acks: 1 });
    await expect(core.fetch('range', 0, { offset: 5, maxBytes: 100, maxWaitMs: 0 })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', details: expect.objectContaining({ logStartOffset: 0, nextOffset: 2 }) });
    expect(core.offsets('range', 0)).toEqual({ logStartOffset: 0, highWatermark: 2 });
    expect(core.offsetForTimestamp('range', 0, 150)).toEqual({ offset: 1, timestamp: 200 });
    expect(core.offsetForTimestamp('range', 0, 500)).toBeNull();
    await core.close();
  });
});
