/**
 * The producer: KafkaJS's `send({ topic, messages })` in front of a Kafka-style pipeline.
 *
 *   send() → serialize → choose a partition (partitioner.ts) → reserve buffer memory
 *          → append to the partition's open batch (record-accumulator.ts)
 *   sender (sender.ts) → ready batches → RecordBatch v2, encoded once → POST /produce
 *          → acknowledge, retry, or fail each batch → resolve or reject the send() calls
 *
 * send() resolves when every record it was given is acknowledged (acks), with KafkaJS's
 * RecordMetadata (pending-send.ts). It waits for room in the buffer when the broker is slower than
 * the sends (max.block.ms, then BufferExhaustedError), and for the topic's partition count the
 * first time it sees a topic (metadata.ts). Nothing else blocks it: records are sent by the
 * sender, so many send() calls in flight together share batches and requests.
 *
 * flush() sends everything buffered at once and waits until each batch is acknowledged or
 * failed. close() does the same, then closes the connections; with `timeoutMs`, whatever is not
 * delivered by then fails with CLIENT_CLOSED.
 */

import type { RecordInput } from '../../common/record-batch.ts';
import { sizeOfVarint } from '../../common/varint.ts';
import { ClientClosedError, InvalidArgumentError, MiniKafkaClientError } from '../errors.ts';
import { TopicMetadata } from '../metadata.ts';
import { resolveRetryOptions } from '../retry.ts';
import type { RecordField } from '../serializers.ts';
import type { Transport } from '../transport.ts';
import { BufferMemory } from './buffer-memory.ts';
import { Partitioner } from './partitioner.ts';
import type { RecordMetadata } from './pending-send.ts';
import { PendingSend } from './pending-send.ts';
import type { Acks, ProducerConfig } from './producer-config.ts';
import { AppendOutcome, RecordAccumulator } from './record-accumulator.ts';
import { Sender } from './sender.ts';

export type { RecordMetadata } from './pending-send.ts';

/** Header values as KafkaJS takes them: a string or Buffer, or several for a repeated key. */
export type MessageHeaders = Readonly<Record<string, Buffer | string | ReadonlyArray<Buffer | string> | undefined>>;

export interface Message<K, V> {
  readonly key?: K | null;
  readonly value: V | null;
  readonly headers?: MessageHeaders;
  /** Send to this partition instead of the partitioner's choice. */
  readonly partition?: number;
  /** Milliseconds since the epoch (a number or KafkaJS's string); default: when send() was called. */
  readonly timestamp?: number | string;
}

export interface ProducerRecord<K, V> {
  readonly topic: string;
  readonly messages: ReadonlyArray<Message<K, V>>;
  /** KafkaJS lets each send choose acks; here acks is the producer's (batches mix sends), and a different value is refused. */
  readonly acks?: Acks;
}

export interface ProducerBatchRecord<K, V> {
  readonly topicMessages: ReadonlyArray<{ readonly topic: string; readonly messages: ReadonlyArray<Message<K, V>> }>;
  readonly acks?: Acks;
}

/**
 * The messages of one send() call, ready to append: serialized records with their sizes and
 * explicit partitions (−1: none), in parallel arrays (no object per record beyond the record
 * itself), and which topic each range belongs to.
 */
interface PreparedRecord extends RecordInput {
  readonly key: Buffer | string | null;
}

interface PreparedSend {
  readonly records: PreparedRecord[];
  readonly sizes: number[];
  readonly partitions: number[];
  readonly topics: Array<{ readonly topic: string; readonly partitionCount: number; readonly end: number }>;
  totalBytes: number;
}

/**
 * Upper bounds for a record's varints whose values are only known when the batch is encoded:
 * timestampDelta (3 bytes: ±17 minutes from the batch's first record) and offsetDelta (3 bytes:
 * 1M records); attributes take 1. Larger deltas are rare and cost the estimate a byte or two.
 */
const RECORD_FIXED_ESTIMATE_BYTES = 1 + 3 + 3;

export class Producer<K = Buffer | string | null, V = Buffer | string | null> {
  readonly #config: ProducerConfig<K, V>;
  readonly #transport: Transport;
  readonly #metadata: TopicMetadata;
  readonly #memory: BufferMemory;
  readonly #accumulator: RecordAccumulator;
  readonly #partitioner: Partitioner;
  readonly #sender: Sender;
  /** No new send() calls (close() was called). */
  #isClosed = false;
  /** Nothing is sent any more (close() finished or gave up). */
  #isStopped = false;
  #closing: Promise<void> | null = null;
  /** send() calls not yet in the accumulator (waiting for metadata or memory). */
  readonly #appending = new Set<Promise<PendingSend | null>>();

  /** Use `client.producer(options)`; the producer owns `transport` and closes it. */
  constructor(transport: Transport, config: ProducerConfig<K, V>) {
    this.#config = config;
    this.#transport = transport;
    const retry = resolveRetryOptions({ retries: 5, retryBackoffMs: config.retryBackoffMs, retryBackoffMaxMs: config.retryBackoffMaxMs });
    this.#metadata = new TopicMetadata(transport, {
      allowAutoTopicCreation: config.allowAutoTopicCreation, metadataMaxAgeMs: config.metadataMaxAgeMs, retry, requestTimeoutMs: config.requestTimeoutMs,
    });
    this.#memory = new BufferMemory(config.bufferMemoryBytes);
    this.#accumulator = new RecordAccumulator({ batchBytes: config.batchBytes, deliveryTimeoutMs: config.deliveryTimeoutMs });
    this.#partitioner = new Partitioner(config.batchBytes);
    this.#sender = new Sender(this.#accumulator, transport, this.#memory, this.#metadata, { ...config, retry });
  }

  /** The resolved options, defaults filled in. */
  get config(): ProducerConfig<K, V> {
    return this.#config;
  }

  /** Bytes of records accepted by send() and not yet acknowledged or failed (at most bufferMemoryBytes). */
  get bufferedBytes(): number {
    return this.#memory.usedBytes;
  }

  /**
   * Asks the broker for the idempotent producer's id now, instead of before the first batch, so
   * a broker that cannot be reached shows up here. Optional, as KafkaJS's connect() is to call.
   */
  async connect(): Promise<void> {
    this.#assertOpen();
    if (this.#config.idempotent) await this.#sender.ensureIdentity();
  }

  /**
   * Sends `messages` to `topic`; resolves when all of them are acknowledged.
   *
   * @returns one RecordMetadata per partition written: `{ topicName, partition, errorCode: 0, baseOffset, logAppendTime, logStartOffset }`
   * @throws InvalidArgumentError for a malformed call; MESSAGE_TOO_LARGE for a record above maxRequestBytes or bufferMemoryBytes;
   *   UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist and may not be created, or a partition it does not have;
   *   BufferExhaustedError after maxBlockMs without buffer room; DeliveryTimeoutError; the broker's error for a batch it refused;
   *   ClientClosedError after close()
   * @example
   * await producer.send({ topic: 'orders', messages: [{ key: 'alice', value: JSON.stringify({ item: 'book' }) }] });
   */
  async send(record: ProducerRecord<K, V>): Promise<RecordMetadata[]> {
    if (record === null || typeof record !== 'object') throw new InvalidArgumentError('send() takes { topic, messages }');
    return this.#sendAll([{ topic: record.topic, messages: record.messages }], record.acks);
  }

  /** Several topics' messages in one call (KafkaJS's sendBatch); resolves when all are acknowledged. */
  async sendBatch(batch: ProducerBatchRecord<K, V>): Promise<RecordMetadata[]> {
    if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.topicMessages)) throw new InvalidArgumentError('sendBatch() takes { topicMessages: [{ topic, messages }] }');
    return this.#sendAll(batch.topicMessages, batch.acks);
  }

  /**
   * Sends every buffered record now (linger.ms is not waited out) and resolves when each record
   * of the send() calls made before it was acknowledged or failed; failures reject their own
   * send() calls, not flush().
   * @example
   * void producer.send({ topic: 'audit', messages: [{ value: 'login' }] });
   * await producer.flush(); // the record above is acknowledged (or its send() rejected) by now
   */
  async flush(): Promise<void> {
    const endFlush = this.#sender.beginFlush();
    try {
      await Promise.allSettled([...this.#appending]);
      await Promise.all([...this.#accumulator.incomplete].map((batch) => batch.whenDone()));
    } finally {
      endFlush();
    }
  }

  /**
   * Delivers what the send() calls made before it hold (as flush()), then closes the
   * connections; later send() calls fail with CLIENT_CLOSED. With `timeoutMs`, records still
   * undelivered after it fail with CLIENT_CLOSED and the connections are dropped. Safe to call twice.
   * @example await producer.close({ timeoutMs: 5000 })
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs);
    return this.#closing;
  }

  /** KafkaJS's name for close(). */
  disconnect(): Promise<void> {
    return this.close();
  }

  async #close(timeoutMs: number | undefined): Promise<void> {
    this.#isClosed = true;
    this.#sender.beginClose();
    const delivered = this.flush();
    let timer: NodeJS.Timeout | undefined;
    const isDelivered = timeoutMs === undefined
      ? await delivered.then(() => true)
      : await Promise.race([delivered.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
    clearTimeout(timer);
    this.#isStopped = true;
    if (!isDelivered) {
      const reason = `the producer was closed with records not yet acknowledged after ${timeoutMs} ms (close timeoutMs)`;
      this.#memory.rejectWaiters(reason);
      this.#sender.abort(new ClientClosedError(reason));
      await this.#transport.destroy();
      return;
    }
    this.#sender.abort(new ClientClosedError('the producer was closed'));
    await this.#transport.close();
  }

  async #sendAll(topicMessages: ReadonlyArray<{ topic: string; messages: ReadonlyArray<Message<K, V>> }>, acks: Acks | undefined): Promise<RecordMetadata[]> {
    this.#assertOpen();
    this.#checkAcks(acks);
    const appending = this.#append(topicMessages);
    // flush() and close() wait for sends that are still on their way into the accumulator.
    this.#appending.add(appending);
    let pending: PendingSend | null;
    try {
      pending = await appending;
    } finally {
      this.#appending.delete(appending);
    }
    return pending === null ? [] : pending.promise;
  }

  /** Serializes, sizes, reserves memory, then appends every record; null when there was nothing to send. */
  async #append(topicMessages: ReadonlyArray<{ topic: string; messages: ReadonlyArray<Message<K, V>> }>): Promise<PendingSend | null> {
    const nowMs = Date.now();
    const prepared: PreparedSend = { records: [], sizes: [], partitions: [], topics: [], totalBytes: 0 };
    for (const { topic, messages } of topicMessages) {
      checkTopicAndMessages(topic, messages);
      if (messages.length === 0) continue;
      // No await when the count is known: send() calls then reach the accumulator in call order, at once.
      const partitionCount = this.#knownPartitionCount(topic, messages, nowMs) ?? (await this.#fetchPartitionCount(topic, messages));
      for (let index = 0; index < messages.length; index++) this.#prepare(topic, messages[index], index, nowMs, prepared);
      prepared.topics.push({ topic, partitionCount, end: prepared.records.length });
    }
    const totalBytes = prepared.totalBytes;
    if (prepared.records.length === 0) return null;
    if (!this.#memory.tryReserve(totalBytes)) {
      if (totalBytes > this.#memory.totalBytes) {
        throw new InvalidArgumentError(`this send() holds ${totalBytes} bytes of records, more than the whole producer buffer (bufferMemoryBytes ${this.#memory.totalBytes}); split it or raise bufferMemoryBytes`, {
          sizeBytes: totalBytes, bufferMemoryBytes: this.#memory.totalBytes,
        });
      }
      await this.#memory.reserve(totalBytes, this.#config.maxBlockMs);
    }
    // close() may have given up during an await above (metadata, memory): nothing sends these records any more.
    if (this.#isStopped) {
      this.#memory.release(totalBytes);
      throw new ClientClosedError('the producer was closed while this send() waited for metadata or buffer memory');
    }
    // From here to the end nothing awaits: the records enter their batches in call order.
    const pending = new PendingSend();
    let shouldWake = false;
    let newBatchMs = -1;
    let index = 0;
    for (const { topic, partitionCount, end } of prepared.topics) {
      for (; index < end; index++) {
        const explicit = prepared.partitions[index];
        const sizeBytes = prepared.sizes[index];
        const record = prepared.records[index];
        const partition = explicit >= 0 ? explicit : this.#partitioner.partitionFor(topic, record.key, partitionCount, sizeBytes);
        const outcome = this.#accumulator.append(topic, partition, record, sizeBytes, pending, nowMs);
        if (outcome === AppendOutcome.batchClosed) shouldWake = true;
        else if (outcome === AppendOutcome.newBatch) newBatchMs = nowMs;
      }
    }
    pending.seal();
    if (shouldWake) this.#sender.wakeup();
    if (newBatchMs >= 0) this.#sender.armLinger(newBatchMs);
    return pending;
  }

  /** The topic's partition count when it is known and covers every explicit partition, else undefined. */
  #knownPartitionCount(topic: string, messages: ReadonlyArray<Message<K, V>>, nowMs: number): number | undefined {
    const count = this.#metadata.cachedPartitionCount(topic, nowMs);
    return count !== undefined && highestPartition(topic, messages) < count ? count : undefined;
  }

  /** Asks the broker for the partition count; fails when a message names a partition beyond it. */
  async #fetchPartitionCount(topic: string, messages: ReadonlyArray<Message<K, V>>): Promise<number> {
    const count = await this.#metadata.fetchPartitionCount(topic);
    const highest = highestPartition(topic, messages);
    if (highest >= count) {
      throw new MiniKafkaClientError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} has no partition ${highest}: it has partitions 0 to ${count - 1}`, {
        retriable: false, details: { topic, partition: highest, partitions: count },
      });
    }
    return count;
  }

  /** Serializes and sizes one message into `into`; throws for a malformed message or one over the size limits. */
  #prepare(topic: string, message: Message<K, V>, index: number, nowMs: number, into: PreparedSend): void {
    if (message === null || typeof message !== 'object') throw new InvalidArgumentError(`messages[${index}] for topic ${topic} is not an object { key?, value, headers?, partition?, timestamp? }`, { topic, index });
    // A string key stays a string: the encoder writes its UTF-8 and the partitioner hashes it without a copy.
    const key = message.key === undefined || message.key === null ? null : this.#config.keySerializer.serialize(message.key);
    const value = message.value === undefined || message.value === null ? null : this.#config.valueSerializer.serialize(message.value);
    const headers = message.headers === undefined ? undefined : toHeaderList(message.headers, topic, index);
    const timestamp = message.timestamp === undefined ? nowMs : toTimestamp(message.timestamp, topic, index);
    const sizeBytes = sizeOfRecord(key, value, headers);
    if (sizeBytes > this.#config.maxRequestBytes || sizeBytes > this.#config.bufferMemoryBytes) {
      const limit = Math.min(this.#config.maxRequestBytes, this.#config.bufferMemoryBytes);
      throw new MiniKafkaClientError('MESSAGE_TOO_LARGE', `messages[${index}] for topic ${topic} is about ${sizeBytes} bytes serialized, over the producer's limit of ${limit} (maxRequestBytes, bufferMemoryBytes)`, {
        retriable: false, details: { topic, index, sizeBytes, maxRequestBytes: this.#config.maxRequestBytes, bufferMemoryBytes: this.#config.bufferMemoryBytes },
      });
    }
    into.records.push({ key, value, headers, timestamp });
    into.sizes.push(sizeBytes);
    into.partitions.push(message.partition ?? -1);
    into.totalBytes += sizeBytes;
  }

  #checkAcks(acks: Acks | undefined): void {
    if (acks === undefined) return;
    const asNumber = acks === 'all' ? -1 : acks;
    if (asNumber !== this.#config.acks) {
      throw new InvalidArgumentError(`this producer sends with acks ${this.#config.acks} and send() asked for acks ${String(acks)}: batches mix the records of many sends, so acks is set once, on producer({ acks })`, {
        acks, producerAcks: this.#config.acks,
      });
    }
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new ClientClosedError('the producer is closed; create a new one with client.producer()');
  }
}

function checkTopicAndMessages(topic: unknown, messages: unknown): void {
  if (typeof topic !== 'string' || topic.length === 0) throw new InvalidArgumentError(`topic must be a non-empty string, got ${JSON.stringify(topic)}`, { topic });
  if (!Array.isArray(messages)) throw new InvalidArgumentError(`messages for topic ${topic} must be an array of { key?, value, headers?, partition?, timestamp? }`, { topic });
}

/** The highest explicit partition among `messages`, or -1; checks that each is a whole number ≥ 0. */
function highestPartition(topic: string, messages: ReadonlyArray<Message<unknown, unknown>>): number {
  let highest = -1;
  for (const message of messages) {
    const partition = message?.partition;
    if (partition === undefined || partition === null) continue;
    if (!Number.isSafeInteger(partition) || partition < 0) throw new InvalidArgumentError(`message partition must be a whole number ≥ 0, got ${String(partition)}`, { topic, partition });
    if (partition > highest) highest = partition;
  }
  return highest;
}

function toHeaderList(headers: MessageHeaders, topic: string, index: number): Array<{ key: string; value: RecordField }> {
  if (typeof headers !== 'object' || headers === null) throw new InvalidArgumentError(`messages[${index}].headers for topic ${topic} must be an object of string or Buffer values`, { topic, index });
  const list: Array<{ key: string; value: RecordField }> = [];
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string' && !Buffer.isBuffer(item)) {
        throw new InvalidArgumentError(`messages[${index}].headers.${key} for topic ${topic} must be a string or Buffer (or an array of them)`, { topic, index, header: key });
      }
      list.push({ key, value: item });
    }
  }
  return list;
}

function toTimestamp(timestamp: number | string, topic: string, index: number): number {
  const ms = typeof timestamp === 'string' ? Number(timestamp) : timestamp;
  if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidArgumentError(`messages[${index}].timestamp for topic ${topic} must be milliseconds since the epoch, got ${JSON.stringify(timestamp)}`, { topic, index });
  return ms;
}

/** An upper bound of the record's encoded size (record-batch.ts's grammar; varints sized exactly where known). */
function sizeOfRecord(key: RecordField, value: RecordField, headers: ReadonlyArray<{ key: string; value: RecordField }> | undefined): number {
  let body = RECORD_FIXED_ESTIMATE_BYTES + sizeOfField(key) + sizeOfField(value) + sizeOfVarint(headers?.length ?? 0);
  if (headers !== undefined) {
    for (const header of headers) body += sizeOfField(header.key) + sizeOfField(header.value);
  }
  return sizeOfVarint(body) + body;
}

function sizeOfField(field: RecordField): number {
  if (field === null) return 1;
  const length = typeof field === 'string' ? Buffer.byteLength(field, 'utf8') : field.length;
  return sizeOfVarint(length) + length;
}
