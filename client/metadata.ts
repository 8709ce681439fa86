/**
 * What the producer must know about a topic before it can place a record: how many partitions it
 * has. Kept per topic, fetched once, refreshed when older than metadataMaxAgeMs (so partitions
 * added later are used, as Kafka's metadata.max.age.ms does) and dropped when the broker says
 * the topic or partition is unknown.
 *
 * Unknown topics. A Kafka producer asks for metadata with allow_auto_topic_creation, and the
 * broker creates the topic if its auto.create.topics.enable says so. The HTTP API's equivalent is
 * an empty produce, `POST /topics/{topic}` with `{"records": []}`: it creates the topic under the
 * broker's own rules (name, num.partitions, auto.create.topics.enable) and writes nothing. So a
 * keyed record goes where murmur2 puts it over the real partition count from the first send on,
 * never to a guessed partition. With auto-creation off (on either side) the send fails with
 * UNKNOWN_TOPIC_OR_PARTITION.
 *
 * Concurrent lookups of the same topic share one request.
 */

import type { Transport } from './transport.ts';
import type { ResolvedRetryOptions } from './retry.ts';
import { withRetries } from './retry.ts';
import { BrokerError } from './errors.ts';

export interface MetadataOptions {
  /** Default true (KafkaJS's allowAutoTopicCreation): let the broker create an unknown topic. */
  readonly allowAutoTopicCreation: boolean;
  /** Default 300000 (Kafka's metadata.max.age.ms). */
  readonly metadataMaxAgeMs: number;
  readonly retry: ResolvedRetryOptions;
  readonly requestTimeoutMs: number;
}

interface Entry {
  partitionCount: number;
  fetchedMs: number;
}

export function topicPath(topic: string): string {
  return `/topics/${encodeURIComponent(topic)}`;
}

export class TopicMetadata {
  readonly #transport: Transport;
  readonly #options: MetadataOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<number>>();

  constructor(transport: Transport, options: MetadataOptions) {
    this.#transport = transport;
    this.#options = options;
  }

  /**
   * The partition count when it is known (a stale one too, refreshed in the background), else
   * undefined: then call fetchPartitionCount.
   */
  cachedPartitionCount(topic: string, nowMs: number): number | undefined {
    const entry = this.#entries.get(topic);
    if (entry === undefined) return undefined;
    if (nowMs - entry.fetchedMs > this.#options.metadataMaxAgeMs && !this.#pending.has(topic)) {
      // A refresh that fails keeps the old count: the next send tries again.
      this.fetchPartitionCount(topic).catch(() => undefined);
    }
    return entry.partitionCount;
  }

  /** Asks the broker (creating the topic when allowed); concurrent calls share one request. */
  fetchPartitionCount(topic: string): Promise<number> {
    let pending = this.#pending.get(topic);
    if (pending === undefined) {
      pending = withRetries(() => this.#fetch(topic), this.#options.retry).finally(() => this.#pending.delete(topic));
      this.#pending.set(topic, pending);
    }
    return pending;
  }

  /** Forgets what is known of `topic`, after the broker said it is unknown. */
  invalidate(topic: string): void {
    this.#entries.delete(topic);
  }

  async #fetch(topic: string): Promise<number> {
    let partitions: unknown[];
    try {
      partitions = await this.#listPartitions(topic);
    } catch (error) {
      if (!(error instanceof BrokerError && error.code === 'UNKNOWN_TOPIC_OR_PARTITION') || !this.#options.allowAutoTopicCreation) throw error;
      await this.#transport.request({
        method: 'POST', path: topicPath(topic), body: '{"records":[]}', contentType: 'application/vnd.kafka.json.v2+json', timeoutMs: this.#options.requestTimeoutMs,
      });
      partitions = await this.#listPartitions(topic);
    }
    const partitionCount = partitions.length;
    if (partitionCount < 1) throw new Error(`unreachable: the broker listed no partitions for topic ${topic}`);
    this.#entries.set(topic, { partitionCount, fetchedMs: Date.now() });
    return partitionCount;
  }

  #listPartitions(topic: string): Promise<unknown[]> {
    return this.#transport.requestJson<unknown[]>({ method: 'GET', path: `${topicPath(topic)}/partitions`, timeoutMs: this.#options.requestTimeoutMs });
  }
}
