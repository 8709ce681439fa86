/**
 * What the consumer tests share: a real broker in this process with group timings small enough
 * for tests (no initial rebalance delay, sessions down to 100 ms), consumer options to match,
 * producing numbered records with the SDK producer, waiting on a condition with bounded polling
 * (never a timed assertion), and a record of what a consumer processed, for "none lost, none
 * duplicated" checks.
 */

import type { RunningBroker } from '../../../broker/broker.ts';
import { MiniKafka } from '../../../client/client.ts';
import type { Consumer } from '../../../client/consumer/consumer.ts';
import type { ConsumerOptions } from '../../../client/consumer/consumer-config.ts';
import { startTestBroker } from '../client-harness.ts';

/** Broker configs that keep group tests quick: a new group's first rebalance does not wait, short sessions are allowed. */
export const FAST_GROUP_CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 100 } as const;

/** Consumer timings for tests: a member that stops heartbeating is gone within 1.5 s. */
export const FAST_CONSUMER: Partial<ConsumerOptions> = {
  sessionTimeoutMs: 1500,
  heartbeatIntervalMs: 100,
  rebalanceTimeoutMs: 5000,
  fetchMaxWaitMs: 200,
  autoCommitIntervalMs: 100,
};

export interface ConsumerTestContext {
  readonly broker: RunningBroker;
  readonly client: MiniKafka;
  /** Consumers made here are closed by cleanup(). */
  consumer<K = Buffer, V = Buffer>(options: ConsumerOptions<K, V>): Consumer<K, V>;
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Sends `count` records `${prefix}-${i}` spread over the partitions by key; resolves once all are acknowledged. */
  produce(topic: string, count: number, options?: { prefix?: string; partition?: number; timestamp?: number; batchSize?: number }): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startConsumerTest(config: Record<string, string | number | boolean> = {}): Promise<ConsumerTestContext> {
  const broker = await startTestBroker({ ...FAST_GROUP_CONFIG, ...config });
  const client = new MiniKafka({ url: broker.url, clientId: 'consumer-test' });
  const consumers: Array<Consumer<unknown, unknown>> = [];
  const producer = client.producer({ lingerMs: 5, batchBytes: 262_144 });
  const admin = client.admin();
  return {
    broker,
    client,
    consumer(options) {
      const created = client.consumer(options);
      consumers.push(created as unknown as Consumer<unknown, unknown>);
      return created;
    },
    async createTopic(topic, partitions) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
    },
    async produce(topic, count, options = {}) {
      const prefix = options.prefix ?? 'v';
      const batchSize = options.batchSize ?? 10_000;
      const sends = [];
      for (let start = 0; start < count; start += batchSize) {
        const messages = [];
        for (let i = start; i < Math.min(count, start + batchSize); i++) {
          messages.push({ key: `key-${i}`, value: `${prefix}-${i}`, partition: options.partition, timestamp: options.timestamp });
        }
        sends.push(producer.send({ topic, messages }));
      }
      await Promise.all(sends);
    },
    async cleanup() {
      for (const consumer of consumers.splice(0)) await consumer.close().catch(() => undefined);
      await producer.close({ timeoutMs: 1000 });
      await admin.close();
      await broker.close();
    },
  };
}

/**
 * Polls `condition` every few milliseconds until it holds; fails after `timeoutMs` with
 * `describe()` in the message. The timeout only bounds a test that would otherwise hang.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, describe: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Which (partition, offset) pairs were processed, how often, and in which order per partition. */
export class ProcessedLog {
  readonly #counts = new Map<string, number>();
  readonly #order = new Map<number, number[]>();
  #total = 0;

  record(partition: number, offset: number | string): void {
    const key = `${partition}:${offset}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    let offsets = this.#order.get(partition);
    if (offsets === undefined) this.#order.set(partition, (offsets = []));
    offsets.push(Number(offset));
    this.#total++;
  }

  /** Processing events, duplicates included. */
  get total(): number {
    return this.#total;
  }

  /** Distinct records processed. */
  get distinct(): number {
    return this.#counts.size;
  }

  get duplicates(): number {
    return this.#total - this.#counts.size;
  }

  has(partition: number, offset: number): boolean {
    return this.#counts.has(`${partition}:${offset}`);
  }

  /** The offsets processed of `partition`, in the order they were processed. */
  offsets(partition: number): number[] {
    return this.#order.get(partition) ?? [];
  }
}
