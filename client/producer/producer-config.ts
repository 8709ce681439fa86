/**
 * The producer's options, their defaults, and the checks between them. Names are Kafka's Java
 * producer configs in camelCase with the unit last (`linger.ms` → `lingerMs`, `batch.size` →
 * `batchBytes`), or KafkaJS's where KafkaJS has the option (`idempotent`, `maxInFlightRequests`,
 * `allowAutoTopicCreation`). Defaults are Kafka 4.0's (kafka-facts §6.2).
 *
 * | option               | Kafka config                            | default     |
 * |----------------------|-----------------------------------------|-------------|
 * | `acks`               | acks                                    | -1 (all)    |
 * | `idempotent`         | enable.idempotence                      | true        |
 * | `lingerMs`           | linger.ms                               | 5           |
 * | `batchBytes`         | batch.size                              | 16384       |
 * | `bufferMemoryBytes`  | buffer.memory                           | 33554432    |
 * | `maxBlockMs`         | max.block.ms                            | 60000       |
 * | `deliveryTimeoutMs`  | delivery.timeout.ms                     | 120000      |
 * | `requestTimeoutMs`   | request.timeout.ms                      | 30000       |
 * | `retries`            | retries                                 | Infinity    |
 * | `retryBackoffMs`     | retry.backoff.ms                        | 100         |
 * | `retryBackoffMaxMs`  | retry.backoff.max.ms                    | 1000        |
 * | `maxInFlightRequests`| max.in.flight.requests.per.connection   | 5           |
 * | `maxRequestBytes`    | max.request.size                        | 1048576     |
 * | `compression`        | compression.type                        | 'none'      |
 * | `metadataMaxAgeMs`   | metadata.max.age.ms                     | 300000      |
 *
 * As in Kafka ≥ 3.0: idempotence is on unless acks is set to 0 or 1 (then it is off, quietly,
 * unless `idempotent: true` was asked for, which is an error); idempotence needs acks=all, at
 * most 5 requests in flight (the broker remembers 5 batches per producer and partition) and
 * retries > 0; deliveryTimeoutMs must cover lingerMs + requestTimeoutMs.
 */

import { InvalidArgumentError } from '../errors.ts';
import type { Serde } from '../serializers.ts';
import { serializers } from '../serializers.ts';

export type Acks = 0 | 1 | -1 | 'all';

export interface ProducerOptions<K = Buffer | string | null, V = Buffer | string | null> {
  readonly acks?: Acks;
  readonly idempotent?: boolean;
  readonly lingerMs?: number;
  readonly batchBytes?: number;
  readonly bufferMemoryBytes?: number;
  readonly maxBlockMs?: number;
  readonly deliveryTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly retries?: number;
  readonly retryBackoffMs?: number;
  readonly retryBackoffMaxMs?: number;
  readonly maxInFlightRequests?: number;
  readonly maxRequestBytes?: number;
  readonly compression?: 'none' | 'gzip';
  readonly allowAutoTopicCreation?: boolean;
  readonly metadataMaxAgeMs?: number;
  /** Default serializers.raw: a Buffer or a string (UTF-8) as is, as KafkaJS takes them. */
  readonly keySerializer?: Serde<K>;
  readonly valueSerializer?: Serde<V>;
}

export interface ProducerConfig<K, V> {
  readonly acks: 0 | 1 | -1;
  readonly idempotent: boolean;
  readonly lingerMs: number;
  readonly batchBytes: number;
  readonly bufferMemoryBytes: number;
  readonly maxBlockMs: number;
  readonly deliveryTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  readonly maxInFlightRequests: number;
  readonly maxRequestBytes: number;
  readonly compression: 'none' | 'gzip';
  readonly allowAutoTopicCreation: boolean;
  readonly metadataMaxAgeMs: number;
  readonly keySerializer: Serde<K>;
  readonly valueSerializer: Serde<V>;
}

/** The broker remembers this many batches per producer and partition (kafka-facts §6.4). */
export const MAX_IN_FLIGHT_WITH_IDEMPOTENCE = 5;

export function resolveProducerConfig<K, V>(options: ProducerOptions<K, V>): ProducerConfig<K, V> {
  const acks = toAcks(options.acks ?? -1);
  const isAcksExplicitlyWeak = options.acks !== undefined && acks !== -1;
  if (options.idempotent === true && isAcksExplicitlyWeak) {
    throw new InvalidArgumentError(`idempotent: true needs acks: 'all' (-1), got acks: ${String(options.acks)}; drop one of the two`, { acks: options.acks });
  }
  const idempotent = options.idempotent ?? !isAcksExplicitlyWeak;
  const config: ProducerConfig<K, V> = {
    acks,
    idempotent,
    lingerMs: wholeNumber(options.lingerMs ?? 5, 'lingerMs', 0),
    batchBytes: wholeNumber(options.batchBytes ?? 16_384, 'batchBytes', 1),
    bufferMemoryBytes: wholeNumber(options.bufferMemoryBytes ?? 33_554_432, 'bufferMemoryBytes', 1),
    maxBlockMs: wholeNumber(options.maxBlockMs ?? 60_000, 'maxBlockMs', 0),
    deliveryTimeoutMs: wholeNumber(options.deliveryTimeoutMs ?? 120_000, 'deliveryTimeoutMs', 1),
    requestTimeoutMs: wholeNumber(options.requestTimeoutMs ?? 30_000, 'requestTimeoutMs', 1),
    retries: options.retries === Number.POSITIVE_INFINITY || options.retries === undefined ? Number.POSITIVE_INFINITY : wholeNumber(options.retries, 'retries', 0),
    retryBackoffMs: wholeNumber(options.retryBackoffMs ?? 100, 'retryBackoffMs', 0),
    retryBackoffMaxMs: wholeNumber(options.retryBackoffMaxMs ?? 1000, 'retryBackoffMaxMs', 0),
    maxInFlightRequests: wholeNumber(options.maxInFlightRequests ?? 5, 'maxInFlightRequests', 1),
    maxRequestBytes: wholeNumber(options.maxRequestBytes ?? 1_048_576, 'maxRequestBytes', 1),
    compression: options.compression ?? 'none',
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? true,
    metadataMaxAgeMs: wholeNumber(options.metadataMaxAgeMs ?? 300_000, 'metadataMaxAgeMs', 0),
    keySerializer: options.keySerializer ?? (serializers.raw as unknown as Serde<K>),
    valueSerializer: options.valueSerializer ?? (serializers.raw as unknown as Serde<V>),
  };
  checkTogether(config);
  return Object.freeze(config);
}

function checkTogether(config: ProducerConfig<unknown, unknown>): void {
  if (config.compression !== 'none' && config.compression !== 'gzip') {
    throw new InvalidArgumentError(`compression ${JSON.stringify(config.compression)} is not supported; the broker takes 'none' or 'gzip'`, { compression: config.compression });
  }
  if (config.retryBackoffMaxMs < config.retryBackoffMs) {
    throw new InvalidArgumentError(`retryBackoffMaxMs (${config.retryBackoffMaxMs}) is below retryBackoffMs (${config.retryBackoffMs}); raise the maximum or lower the first wait`, {});
  }
  if (config.deliveryTimeoutMs < config.lingerMs + config.requestTimeoutMs) {
    throw new InvalidArgumentError(`deliveryTimeoutMs (${config.deliveryTimeoutMs}) must be at least lingerMs + requestTimeoutMs (${config.lingerMs + config.requestTimeoutMs}): a batch needs time to wait and one request`, {
      deliveryTimeoutMs: config.deliveryTimeoutMs, lingerMs: config.lingerMs, requestTimeoutMs: config.requestTimeoutMs,
    });
  }
  if (config.idempotent) {
    if (config.maxInFlightRequests > MAX_IN_FLIGHT_WITH_IDEMPOTENCE) {
      throw new InvalidArgumentError(`an idempotent producer allows at most ${MAX_IN_FLIGHT_WITH_IDEMPOTENCE} requests in flight (the broker remembers ${MAX_IN_FLIGHT_WITH_IDEMPOTENCE} batches per partition), got maxInFlightRequests: ${config.maxInFlightRequests}`, {});
    }
    if (config.retries === 0) throw new InvalidArgumentError('an idempotent producer needs retries > 0: set idempotent: false to send each batch once', {});
  }
}

function toAcks(acks: Acks): 0 | 1 | -1 {
  if (acks === 'all' || acks === -1) return -1;
  if (acks === 0 || acks === 1) return acks;
  throw new InvalidArgumentError(`acks must be 0, 1, -1 or 'all', got ${JSON.stringify(acks)}`, { acks });
}

function wholeNumber(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got ${value}`, { [name]: value });
  return value;
}
