/**
 * The SDK's entry point: `new MiniKafka({ url | brokers, clientId })` (or `createClient`) holds
 * where the broker is and how to talk to it, and makes producers, consumers and admin clients, as
 * KafkaJS's `new Kafka({ clientId, brokers })` does. It opens no connection itself: each producer,
 * consumer or admin has its own pool of keep-alive connections (transport.ts), closed by its close().
 */

import { Admin } from './admin/admin.ts';
import { Consumer, FETCH_CONNECTIONS, GROUP_CONNECTIONS } from './consumer/consumer.ts';
import type { ConsumerOptions } from './consumer/consumer-config.ts';
import { resolveConsumerConfig } from './consumer/consumer-config.ts';
import { InvalidArgumentError } from './errors.ts';
import { Producer } from './producer/producer.ts';
import type { ProducerOptions } from './producer/producer-config.ts';
import { resolveProducerConfig } from './producer/producer-config.ts';
import type { ResolvedRetryOptions, RetryOptions } from './retry.ts';
import { resolveRetryOptions } from './retry.ts';
import { Transport, parseBaseUrl } from './transport.ts';

export interface ClientOptions {
  /** The broker's HTTP base URL, e.g. http://127.0.0.1:8082. Give this or `brokers`. */
  readonly url?: string;
  /** KafkaJS's spelling: `['127.0.0.1:8082']`. minikafka is one broker, so exactly one entry. */
  readonly brokers?: ReadonlyArray<string>;
  /** Kafka's client.id, sent with every request as `x-client-id`. Default 'minikafka'. */
  readonly clientId?: string;
  /** Default 30000: each request's whole life, unless a call gives its own `timeoutMs`. */
  readonly requestTimeoutMs?: number;
  /** Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Retries of admin calls and metadata lookups: default 5, 100 ms growing to 1000 ms, with jitter. */
  readonly retry?: RetryOptions;
}

export interface TransportSettings {
  readonly maxConnections?: number;
  readonly requestTimeoutMs?: number;
}

export class MiniKafka {
  readonly url: string;
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly retry: ResolvedRetryOptions;
  readonly #connectTimeoutMs: number | undefined;

  constructor(options: ClientOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('new MiniKafka() takes { url | brokers, clientId? }');
    this.url = parseBaseUrl(brokerAddress(options)).href.replace(/\/$/, '');
    this.clientId = options.clientId ?? 'minikafka';
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.retry = resolveRetryOptions(options.retry);
  }

  /**
   * A producer with its own connections; see ProducerOptions for batching, acks, idempotence,
   * retries and serializers.
   * @example const producer = client.producer({ lingerMs: 10, valueSerializer: serializers.json })
   */
  producer<K = Buffer | string | null, V = Buffer | string | null>(options: ProducerOptions<K, V> = {}): Producer<K, V> {
    const config = resolveProducerConfig(options);
    // One connection per request in flight, plus one for metadata and producer ids beside them.
    const transport = this.createTransport({ maxConnections: config.maxInFlightRequests + 1, requestTimeoutMs: config.requestTimeoutMs });
    return new Producer<K, V>(transport, config);
  }

  /**
   * A consumer in group `groupId`, with its own connections; see ConsumerOptions for timeouts,
   * auto-commit, auto.offset.reset, fetch sizes and deserializers.
   * @throws InvalidArgumentError for options that do not go together
   * @example const consumer = client.consumer({ groupId: 'billing', valueDeserializer: serializers.json })
   */
  consumer<K = Buffer, V = Buffer>(options: ConsumerOptions<K, V>): Consumer<K, V> {
    const config = resolveConsumerConfig(options, { clientId: this.clientId, requestTimeoutMs: this.requestTimeoutMs });
    return new Consumer<K, V>(config, {
      group: this.createTransport({ maxConnections: GROUP_CONNECTIONS, requestTimeoutMs: config.requestTimeoutMs }),
      fetch: this.createTransport({ maxConnections: FETCH_CONNECTIONS, requestTimeoutMs: config.requestTimeoutMs }),
    });
  }

  /**
   * An admin client with its own connections; `retry` overrides the client's retry options for it.
   * @example const topics = await client.admin().listTopics()
   */
  admin(options: { requestTimeoutMs?: number; retry?: RetryOptions } = {}): Admin {
    const retry = options.retry === undefined ? this.retry : resolveRetryOptions(options.retry, this.retry);
    return new Admin(this.createTransport({ maxConnections: 2, requestTimeoutMs: options.requestTimeoutMs }), retry);
  }

  /** A new pool of connections to the broker, for the parts of the SDK built on the transport (the consumer). */
  createTransport(settings: TransportSettings = {}): Transport {
    return new Transport({
      url: this.url,
      clientId: this.clientId,
      maxConnections: settings.maxConnections,
      requestTimeoutMs: settings.requestTimeoutMs ?? this.requestTimeoutMs,
      connectTimeoutMs: this.#connectTimeoutMs,
    });
  }
}

/**
 * The same as `new MiniKafka(options)`.
 * @throws InvalidArgumentError when neither `url` nor exactly one `brokers` entry is given, or the address is not http(s)
 * @example const client = createClient({ url: 'http://127.0.0.1:8082', clientId: 'billing' })
 */
export function createClient(options: ClientOptions): MiniKafka {
  return new MiniKafka(options);
}

function brokerAddress(options: ClientOptions): string {
  if (options.url !== undefined && options.brokers !== undefined) throw new InvalidArgumentError('give the broker as url or as brokers, not both');
  if (options.url !== undefined) return options.url;
  if (options.brokers === undefined || !Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw new InvalidArgumentError('new MiniKafka() needs the broker: { url: "http://127.0.0.1:8082" } or { brokers: ["127.0.0.1:8082"] }');
  }
  if (options.brokers.length > 1) {
    throw new InvalidArgumentError(`minikafka is a single broker; brokers lists ${options.brokers.length} addresses. Give the one broker's address`, { brokers: [...options.brokers] });
  }
  return options.brokers[0];
}
