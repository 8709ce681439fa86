/**
 * The admin client against a real broker: topics (create, list, describe, metadata, alter configs,
 * add partitions, delete), offsets (earliest, latest, by time), typed errors from the broker, and
 * a closed admin.
 */

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { RunningBroker } from '../../../broker/broker.ts';
import type { Admin } from '../../../client/admin/admin.ts';
import { MiniKafka } from '../../../client/client.ts';
import { BrokerError, ClientClosedError } from '../../../client/errors.ts';
import { startTestBroker } from '../client-harness.ts';

let broker: RunningBroker;
let client: MiniKafka;
let admin: Admin;

beforeEach(async () => {
  broker = await startTestBroker({ 'num.partitions': 2 });
  client = new MiniKafka({ brokers: [`127.0.0.1:${broker.httpPort}`], clientId: 'admin-test' });
  admin = client.admin();
});
afterEach(async () => {
  await admin.close();
  await broker.close();
});

async function produce(topic: string, partition: number, records: Array<{ value: string; timestamp?: number }>): Promise<void> {
  const response = await fetch(`${broker.url}/topics/${topic}/partitions/${partition}`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, body: JSON.stringify({ records }) });
  expect(response.status).toBe(200);
}

describe('Admin topics', () => {
  test('createTopics() creates topics with partitions and configs; false when one already existed', async () => {
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '86400000' }] }, { topic: 'plain' }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'orders' }, { topic: 'more' }] })).toBe(false);
    expect((await admin.listTopics()).sort()).toEqual(['more', 'orders', 'plain']);
    const described = await admin.describeTopic('orders');
    expect(described.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(described.configs.find((c) => c.name === 'retention.ms')).toEqual({ name: 'retention.ms', value: '86400000', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect((await admin.describeTopic('plain')).partitions).toHaveLength(2);
  });

  test('createTopics() with validateOnly checks and creates nothing; bad settings are typed broker errors', async () => {
    expect(await admin.createTopics({ topics: [{ topic: 'dry', numPartitions: 4 }], validateOnly: true })).toBe(true);
    expect(await admin.listTopics()).toEqual([]);
    const error = await admin.createTopics({ topics: [{ topic: 'bad', configEntries: [{ name: 'no.such', value: 1 }] }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', retriable: false, errorCode: 40005, kafkaCode: 40 });
    await expect(admin.createTopics({ topics: [{ topic: '../x' }] })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' });
  });

  test('fetchTopicMetadata() lists partitions with leader, replicas and ISR in KafkaJS’s shape', async () => {
    await admin.createTopics({ topics: [{ topic: 'm', numPartitions: 2 }] });
    expect(await admin.fetchTopicMetadata({ topics: ['m'] })).toEqual({
      topics: [{ name: 'm', partitions: [0, 1].map((partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] })) }],
    });
    expect((await admin.fetchTopicMetadata()).topics.map((t) => t.name)).toEqual(['m']);
  });

  test('alterTopicConfigs() sets and removes overrides; createPartitions() grows a topic', async () => {
    await admin.createTopics({ topics: [{ topic: 'c', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    const altered = await admin.alterTopicConfigs({ topic: 'c', configs: { 'retention.ms': 3_600_000, 'cleanup.policy': null } });
    expect(altered.configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(altered.configs.find((c) => c.name === 'cleanup.policy')?.source).not.toBe('DYNAMIC_TOPIC_CONFIG');
    await admin.createPartitions({ topicPartitions: [{ topic: 'c', count: 3 }] });
    expect((await admin.describeTopic('c')).partitions).toHaveLength(3);
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'c', count: 2 }] })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
  });

  test('deleteTopics() removes topics; a missing one is UNKNOWN_TOPIC_OR_PARTITION with the topic in details', async () => {
    await admin.createTopics({ topics: [{ topic: 'gone' }] });
    await admin.deleteTopics({ topics: ['gone'] });
    expect(await admin.listTopics()).toEqual([]);
    const error = await admin.describeTopic('gone').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', httpStatus: 404, details: { topic: 'gone' } });
    await expect(admin.deleteTopics({ topics: ['gone'] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });
});

describe('Admin offsets', () => {
  test('fetchTopicOffsets() gives earliest (low) and latest (high) per partition, as KafkaJS does', async () => {
    await admin.createTopics({ topics: [{ topic: 'o', numPartitions: 2 }] });
    await produce('o', 1, [{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    expect(await admin.fetchTopicOffsets('o')).toEqual([
      { partition: 0, offset: '0', high: '0', low: '0' },
      { partition: 1, offset: '3', high: '3', low: '0' },
    ]);
  });

  test('fetchTopicOffsetsByTimestamp() finds the first record at or after the time, else the latest offset', async () => {
    await admin.createTopics({ topics: [{ topic: 'ts', numPartitions: 2 }] });
    await produce('ts', 0, [{ value: 'a', timestamp: 1000 }, { value: 'b', timestamp: 2000 }, { value: 'c', timestamp: 3000 }]);
    await produce('ts', 1, [{ value: 'x', timestamp: 500 }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('ts', 1500)).toEqual([{ partition: 0, offset: '1' }, { partition: 1, offset: '1' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('ts', 0)).toEqual([{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }]);
    await expect(admin.fetchTopicOffsetsByTimestamp('ts', -5)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('Admin lifecycle', () => {
  test('calls after close() fail with CLIENT_CLOSED; calls against a stopped broker fail with CONNECTION_ERROR after the retries', async () => {
    const quick = client.admin({ retry: { retries: 1, retryBackoffMs: 1, retryBackoffMaxMs: 1 } });
    await quick.close();
    await expect(quick.listTopics()).rejects.toBeInstanceOf(ClientClosedError);
    const other = client.admin({ retry: { retries: 2, retryBackoffMs: 1, retryBackoffMaxMs: 2 } });
    await broker.close();
    await expect(other.listTopics()).rejects.toMatchObject({ code: 'CONNECTION_ERROR', retriable: true });
    await other.close();
  });
});
