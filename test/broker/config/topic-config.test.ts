import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveBrokerConfig } from '../../../broker/config/broker-config.ts';
import { topicConfigDefinitions } from '../../../broker/config/config-definitions.ts';
import type { TopicConfigName } from '../../../broker/config/config-definitions.ts';
import { alterTopicConfigOverrides, describeTopicConfig, resolveTopicConfig, validateTopicConfigOverrides } from '../../../broker/config/topic-config.ts';
import type { TopicConfigDescription } from '../../../broker/config/topic-config.ts';
import { PartitionLog } from '../../../broker/storage/partition-log.ts';
import { NEVER, resolveLogConfig } from '../../../broker/storage/log-config.ts';
import { isMiniKafkaError } from '../../../common/errors.ts';
import { encodeRecordBatch } from '../../../common/record-batch.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

const line = (described: TopicConfigDescription[], name: string): TopicConfigDescription => described.find((entry) => entry.name === name)!;

describe('resolveTopicConfig', () => {
  it('resolveTopicConfig() takes an override over a static broker synonym over a default', () => {
    const broker = resolveBrokerConfig({ configArgs: ['log.segment.bytes=5000', 'log.retention.hours=24'] });
    const overrides = validateTopicConfigOverrides({ 'retention.ms': '60000' });
    const config = resolveTopicConfig(broker, overrides);
    expect(config.log.retentionMs).toBe(60_000);
    expect(config.log.segmentBytes).toBe(5000);
    expect(config.log.indexIntervalBytes).toBe(4096);

    const described = describeTopicConfig(broker, overrides);
    expect(line(described, 'retention.ms')).toMatchObject({
      value: '60000',
      source: 'DYNAMIC_TOPIC_CONFIG',
      synonyms: [
        { name: 'retention.ms', value: '60000', source: 'DYNAMIC_TOPIC_CONFIG' },
        { name: 'log.retention.hours', value: '24', source: 'STATIC_BROKER_CONFIG' },
        { name: 'log.retention.hours', value: '168', source: 'DEFAULT_CONFIG' },
      ],
    });
    expect(line(described, 'segment.bytes')).toMatchObject({ value: '5000', source: 'STATIC_BROKER_CONFIG' });
    expect(line(described, 'index.interval.bytes')).toMatchObject({ value: '4096', source: 'DEFAULT_CONFIG' });
  });

  it('resolveTopicConfig() converts an hours or minutes synonym to milliseconds and a negative one to -1', () => {
    const hours = resolveBrokerConfig({ configArgs: ['log.retention.hours=24', 'log.roll.hours=2'] });
    expect(resolveTopicConfig(hours).log).toMatchObject({ retentionMs: 86_400_000, segmentMs: 7_200_000 });
    expect(line(describeTopicConfig(hours), 'retention.ms').value).toBe('86400000');
    const forever = resolveBrokerConfig({ configArgs: ['log.retention.minutes=-1'] });
    expect(resolveTopicConfig(forever).log.retentionMs).toBe(-1);
  });

  it('resolveTopicConfig() lists a flush.ms with no synonym set as the default with no synonyms, as Kafka does', () => {
    const described = line(describeTopicConfig(resolveBrokerConfig()), 'flush.ms');
    expect(described).toMatchObject({ value: String(NEVER), source: 'DEFAULT_CONFIG', synonyms: [] });
    const set = line(describeTopicConfig(resolveBrokerConfig({ configArgs: ['log.flush.interval.ms=1000'] })), 'flush.ms');
    expect(set).toMatchObject({ value: '1000', source: 'STATIC_BROKER_CONFIG', synonyms: [{ name: 'log.flush.interval.ms', value: '1000', source: 'STATIC_BROKER_CONFIG' }] });
  });

  it('resolveTopicConfig() gives the topic-level extras their typed values', () => {
    const broker = resolveBrokerConfig({ configArgs: ['log.message.timestamp.type=LogAppendTime', 'min.insync.replicas=2'] });
    const config = resolveTopicConfig(broker, validateTopicConfigOverrides({ 'cleanup.policy': 'delete,compact', 'delete.retention.ms': 1000 }));
    expect(config).toMatchObject({ cleanupPolicy: 'compact,delete', messageTimestampType: 'LogAppendTime', minInsyncReplicas: 2, deleteRetentionMs: 1000 });
  });

  it('resolveTopicConfig() turns time and size retention off in the LogConfig of a compact-only topic, while describe shows the configured values', () => {
    const broker = resolveBrokerConfig({ configArgs: ['log.retention.bytes=1000000'] });
    const compacted = validateTopicConfigOverrides({ 'cleanup.policy': 'compact', 'retention.ms': 1000 });
    expect(resolveTopicConfig(broker, compacted).log).toMatchObject({ retentionMs: -1, retentionBytes: -1 });
    expect(line(describeTopicConfig(broker, compacted), 'retention.ms').value).toBe('1000');
    const both = validateTopicConfigOverrides({ 'cleanup.policy': 'compact,delete', 'retention.ms': 1000 });
    expect(resolveTopicConfig(broker, both).log).toMatchObject({ retentionMs: 1000, retentionBytes: 1_000_000 });
  });

  it('resolveTopicConfig() rejects a stored override that was edited into an invalid value', () => {
    const broker = resolveBrokerConfig();
    expect(() => resolveTopicConfig(broker, { 'segment.bytes': 'big' }, 'orders')).toThrow(/Invalid value "big" for configuration segment\.bytes \(topic orders\)/);
  });

  it('resolveTopicConfig() and describeTopicConfig() reject an unknown name in unvalidated overrides rather than ignore it', () => {
    const broker = resolveBrokerConfig();
    const raw: Record<string, string> = { 'retention.hours': '1' };
    expect(() => resolveTopicConfig(broker, raw, 'orders')).toThrow(/Unknown topic configuration "retention\.hours" \(topic orders\)/);
    expect(() => describeTopicConfig(broker, raw)).toThrow(/Unknown topic configuration "retention\.hours"/);
  });

  it('resolveTopicConfig() turns any valid overrides into a LogConfig the storage engine accepts, carrying each value to its field', () => {
    const broker = resolveBrokerConfig();
    const fieldOf = {
      'segment.bytes': 'segmentBytes', 'segment.ms': 'segmentMs', 'segment.index.bytes': 'segmentIndexBytes', 'index.interval.bytes': 'indexIntervalBytes',
      'retention.ms': 'retentionMs', 'retention.bytes': 'retentionBytes', 'flush.messages': 'flushMessages', 'flush.ms': 'flushMs',
      'max.message.bytes': 'maxMessageBytes', 'min.insync.replicas': 'minInsyncReplicas', 'delete.retention.ms': 'deleteRetentionMs',
    } as const;
    const numericOverride = fc.constantFrom(...[...topicConfigDefinitions.values()].filter((definition) => definition.validator.kind === 'range'))
      .chain((definition) => {
        const { min, max } = definition.validator as { min: number; max: number };
        return fc.tuple(fc.constant(definition.name), fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 40) }));
      });
    fc.assert(fc.property(fc.array(numericOverride, { maxLength: 8 }), fc.constantFrom('delete', 'compact', 'compact,delete'), (pairs, policy) => {
      const requested: Record<string, number> = Object.fromEntries(pairs);
      const config = resolveTopicConfig(broker, validateTopicConfigOverrides({ ...requested, 'cleanup.policy': policy }));
      expect(resolveLogConfig(config.log)).toEqual(config.log);
      const isDeleteEnabled = policy !== 'compact';
      const effective: Record<string, number> = { ...config.log, minInsyncReplicas: config.minInsyncReplicas, deleteRetentionMs: config.deleteRetentionMs };
      for (const [name, value] of Object.entries(requested)) {
        const field = fieldOf[name as keyof typeof fieldOf];
        const isRetention = name === 'retention.ms' || name === 'retention.bytes';
        expect(effective[field], name).toBe(isRetention && !isDeleteEnabled ? -1 : value);
      }
    }), { numRuns: 300 });
  });
});

describe('validateTopicConfigOverrides', () => {
  it('validateTopicConfigOverrides() stores each value in canonical text', () => {
    expect(validateTopicConfigOverrides({ 'retention.ms': ' 86400000 ', 'segment.bytes': 1048576, 'cleanup.policy': 'delete, compact', 'flush.messages': '9223372036854775807' }))
      .toEqual({ 'retention.ms': '86400000', 'segment.bytes': '1048576', 'cleanup.policy': 'compact,delete', 'flush.messages': String(NEVER) });
  });

  it('validateTopicConfigOverrides() reports every unknown name, broker name, bad value and null at once, naming the topic', () => {
    try {
      validateTopicConfigOverrides({ 'retention.m': '1', 'log.retention.hours': '1', 'segment.bytes': '10', 'max.message.bytes': null }, 'orders');
      expect.unreachable();
    } catch (error) {
      expect(isMiniKafkaError(error, 'INVALID_CONFIG')).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/^4 problems in the configuration of topic orders:\n/);
      expect(message).toContain('Unknown topic configuration "retention.m" (topic orders): did you mean retention.ms?');
      expect(message).toContain('log.retention.hours is a broker config that sets the default for all topics; the topic config is retention.ms');
      expect(message).toContain('Invalid value "10" for configuration segment.bytes (topic orders): must be an integer in [73, 2147483647]');
      expect(message).toContain('Null value for configuration max.message.bytes (topic orders)');
    }
  });
});

describe('alterTopicConfigOverrides', () => {
  it('alterTopicConfigOverrides() sets and deletes overrides, falling back to the broker after a delete', () => {
    const broker = resolveBrokerConfig({ configArgs: ['log.retention.hours=1'] });
    const created = validateTopicConfigOverrides({ 'retention.ms': 1000, 'segment.bytes': 2000 });
    const altered = alterTopicConfigOverrides(created, [
      { name: 'retention.ms', op: 'DELETE' },
      { name: 'segment.bytes', op: 'SET', value: '3000' },
      { name: 'flush.messages', op: 'SET', value: 1 },
      { name: 'segment.ms', op: 'DELETE' },
    ]);
    expect(altered).toEqual({ 'segment.bytes': '3000', 'flush.messages': '1' });
    expect(resolveTopicConfig(broker, altered).log).toMatchObject({ retentionMs: 3_600_000, segmentBytes: 3000, flushMessages: 1 });
    expect(created).toEqual({ 'retention.ms': '1000', 'segment.bytes': '2000' });
  });

  it('alterTopicConfigOverrides() changes nothing when any alteration is invalid', () => {
    const current = validateTopicConfigOverrides({ 'segment.bytes': 2000 });
    expect(() => alterTopicConfigOverrides(current, [
      { name: 'segment.bytes', op: 'SET', value: 4000 },
      { name: 'retention.ms', op: 'SET', value: 'soon' },
    ], 'orders')).toThrow(/Invalid value "soon" for configuration retention\.ms \(topic orders\)/);
    expect(current).toEqual({ 'segment.bytes': '2000' });
    expect(() => alterTopicConfigOverrides(current, [{ name: 'segment.bytes', op: 'APPEND' as never, value: 1 }])).toThrow(/use SET or DELETE/);
    expect(() => alterTopicConfigOverrides(current, [{ name: 'segment.bytes', op: 'SET' }])).toThrow(/Null value/);
  });
});

describe('topic config reaching the storage engine', () => {
  const batch = (value: string): Buffer => encodeRecordBatch({ records: [{ value }], baseTimestamp: 1_700_000_000_000 });

  it('a partition log opened with a resolved config rolls at segment.bytes, refuses batches over max.message.bytes and fsyncs per flush.messages', async () => {
    const broker = resolveBrokerConfig({ configArgs: ['log.segment.bytes=300'] });
    const overrides = validateTopicConfigOverrides({ 'max.message.bytes': 120, 'flush.messages': 1 });
    const config = resolveTopicConfig(broker, overrides, 'orders');
    const log = PartitionLog.open({ dir: path.join(makeTempDir(), 'orders-0'), config: config.log });
    try {
      const appended = [];
      for (let i = 0; i < 10; i++) appended.push(log.append(batch(`value-${i}`)));
      for (const result of appended) expect(result.flushed).not.toBeNull();
      await Promise.all(appended.map((result) => result.flushed));
      expect(log.segments.length).toBeGreaterThan(1);
      for (const segment of log.segments) expect(segment.sizeBytes).toBeLessThanOrEqual(300);
      expect(log.recoveryPoint).toBe(10);
      expect(() => log.append(batch('x'.repeat(200)))).toThrow(/larger than max\.message\.bytes \(120\)/);
    } finally {
      await log.close();
    }
  });

  it('with the default flush settings an append does not wait for an fsync', async () => {
    const config = resolveTopicConfig(resolveBrokerConfig());
    const log = PartitionLog.open({ dir: path.join(makeTempDir(), 'events-0'), config: config.log });
    try {
      expect(log.append(batch('hello')).flushed).toBeNull();
      expect(log.recoveryPoint).toBe(0);
    } finally {
      await log.close();
    }
  });
});

// Keeps the TopicConfigName type honest: every catalogue topic name is resolvable.
const everyTopicName: TopicConfigName[] = [...topicConfigDefinitions.keys()];
it('describeTopicConfig() lists every topic config once, in catalogue order', () => {
  expect(describeTopicConfig(resolveBrokerConfig()).map((entry) => entry.name)).toEqual(everyTopicName);
});
