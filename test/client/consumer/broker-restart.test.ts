/**
 * A consumer rides out a broker restart: its fetches, heartbeats and commits fail while the
 * broker is away (refused connections, BROKER_SHUTTING_DOWN), are retried with backoff, and once
 * the broker is back on the same port the consumer goes on where the group left off. Nothing is
 * lost; records processed but not yet committed when the broker stopped may come again.
 */

import { afterEach, describe, expect, test } from 'vitest';
import type { RunningBroker } from '../../../broker/broker.ts';
import { MiniKafka } from '../../../client/client.ts';
import { makeDataDir, startTestBroker } from '../client-harness.ts';
import { FAST_CONSUMER, FAST_GROUP_CONFIG, ProcessedLog, waitFor } from './consumer-harness.ts';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('Consumer and a broker restart', () => {
  test('retries while the broker is away and goes on once it is back: nothing is lost', async () => {
    const { dir, remove } = makeDataDir();
    cleanups.push(remove);
    let broker: RunningBroker = await startTestBroker(FAST_GROUP_CONFIG, { dataDir: dir });
    cleanups.push(() => broker.close());
    const port = broker.httpPort;
    const client = new MiniKafka({ url: broker.url, clientId: 'restart-test' });
    const admin = client.admin();
    cleanups.push(() => admin.close());
    await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 2 }] });
    const producer = client.producer({ lingerMs: 1 });
    cleanups.push(() => producer.close({ timeoutMs: 1000 }));
    await producer.send({ topic: 'durable', messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `before-${i}` })) });

    const consumer = client.consumer({ groupId: 'survivors', ...FAST_CONSUMER, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 200, rebalanceTimeoutMs: 10_000, autoOffsetReset: 'earliest', retry: { retryBackoffMs: 20, retryBackoffMaxMs: 200 } });
    cleanups.push(() => consumer.close());
    const crashes: Error[] = [];
    consumer.on(consumer.events.CRASH, ({ payload }) => crashes.push(payload.error));
    await consumer.subscribe({ topics: ['durable'] });
    const log = new ProcessedLog();
    const values = new Set<string>();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        log.record(partition, message.offset);
        values.add(message.value!.toString());
      },
    });
    await waitFor(() => values.size === 100, () => `${values.size} of 100 before the restart`);

    await broker.close();
    await new Promise((resolve) => setTimeout(resolve, 300)); // away long enough for fetches and heartbeats to fail
    broker = await startTestBroker(FAST_GROUP_CONFIG, { dataDir: dir, httpPort: port });
    await producer.send({ topic: 'durable', messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `after-${i}` })) });

    await waitFor(() => values.size === 200, () => `${values.size} of 200 after the restart`);
    expect(crashes).toEqual([]);
    console.log(`records processed twice across the restart: ${log.duplicates}`);
  });
});
