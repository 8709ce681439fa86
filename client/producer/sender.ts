/**
 * The producer's sender (Kafka's Sender): drains ready batches from the accumulator into
 * `POST /produce` requests, one batch per partition per request (as a Kafka Produce request
 * carries), at most maxInFlightRequests requests at a time, each at most maxRequestBytes (a
 * batch larger than that goes alone), and settles each batch from its entry in the answer.
 *
 * Idempotence (on by default; kafka-facts §6.4):
 * - the producer id and epoch come from `POST /producers` before the first batch is sent;
 * - each batch gets the partition's next sequence when first drained and keeps it, and its
 *   bytes, through every retry, so the broker answers a retry of a batch it already appended with
 *   the original offsets (`duplicate: true`) instead of appending it twice;
 * - per partition, the first batch of an epoch goes alone (the broker accepts any sequence from
 *   a producer it does not know yet, so a later batch overtaking it would be taken as the start);
 *   after that up to maxInFlightRequests (≤ 5, the batches the broker remembers) batches fly;
 * - connections are separate, so a later batch may reach the broker first and be refused
 *   OUT_OF_ORDER_SEQUENCE_NUMBER: when an older batch of that partition was in flight as this one
 *   left, or is still unacknowledged, this is retried, not failed (Kafka's client does the same).
 *   "Was in flight" counts because answers, too, travel on separate connections: the older batch's
 *   acknowledgement may be heard before this refusal. A batch refused so when nothing older was
 *   in flight or waiting is a real gap;
 * - a retry waits until its partition has nothing in flight, and then goes alone, oldest first,
 *   so retries restore the order;
 * - a batch that had a sequence and fails for good leaves a gap the broker will not accept
 *   (later batches would be refused forever), so once nothing is in flight the producer bumps
 *   its epoch (`POST /producers` with its id and epoch; a new id after INVALID_PRODUCER_EPOCH or
 *   UNKNOWN_PRODUCER_ID) and every partition starts again at sequence 0, Kafka's KIP-360
 *   recovery. Batches waiting for a retry then get new sequences: if one of them had in fact been
 *   appended, it is appended again (the one case where idempotence cannot help, as in Kafka).
 *
 * Retries: only for retriable errors (and the out-of-order case above), with exponential backoff
 * and jitter (retry.ts), at most `retries` times, and never past the batch's delivery deadline
 * (delivery.timeout.ms after it was created): then DeliveryTimeoutError, whose cause is the last
 * failure. A waiting batch whose deadline passes fails the same way.
 *
 * Wake-ups: a full batch or a flush wakes the sender at once (setImmediate, coalesced); otherwise
 * one timer fires at the earliest linger or backoff deadline; every answer wakes it.
 */

import { BrokerError, DeliveryTimeoutError, MiniKafkaClientError, isRetriable } from '../errors.ts';
import type { TopicMetadata } from '../metadata.ts';
import type { ResolvedRetryOptions } from '../retry.ts';
import { backoffMs, withRetries } from '../retry.ts';
import type { Transport } from '../transport.ts';
import type { BufferMemory } from './buffer-memory.ts';
import type { ProducerBatch } from './producer-batch.ts';
import type { ProduceEntry } from '../../common/produce-batches.ts';
import { PRODUCE_BATCHES_MEDIA_TYPE, encodeProduceBatches, sizeOfEntry } from '../../common/produce-batches.ts';
import type { ProduceBatchesResponse, ProduceEntryResult } from './produce-request.ts';
import type { PartitionQueue, RecordAccumulator } from './record-accumulator.ts';

export interface SenderConfig {
  readonly acks: 0 | 1 | -1;
  readonly idempotent: boolean;
  readonly lingerMs: number;
  readonly maxInFlightRequests: number;
  readonly maxRequestBytes: number;
  readonly requestTimeoutMs: number;
  readonly retries: number;
  readonly retry: ResolvedRetryOptions;
  readonly compression: 'none' | 'gzip';
}

interface ProducerIdentity {
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** Why the producer needs a new identity: a bump of the epoch, or a new id altogether. */
type ResetKind = 'bump' | 'new-id';

const NO_IDENTITY = { producerId: -1, producerEpoch: -1 } as const;
const SEQUENCE_MAX = 0x7fffffff;
const PRODUCE_REQUEST_HEADER_BYTES = 4;
/** Errors after which the producer's id is no good and a new one is asked for. */
const NEW_ID_CODES = new Set(['INVALID_PRODUCER_EPOCH', 'UNKNOWN_PRODUCER_ID']);

/** One batch of one request: this attempt of it, not the batch's whole life. */
interface Drained {
  readonly queue: PartitionQueue;
  readonly batch: ProducerBatch;
  /** An older batch of its partition was in flight when this attempt left: the broker may see this one first. */
  readonly isBehindInFlight: boolean;
}

export class Sender {
  readonly #accumulator: RecordAccumulator;
  readonly #transport: Transport;
  readonly #memory: BufferMemory;
  readonly #metadata: TopicMetadata;
  readonly #config: SenderConfig;
  readonly #producePath: string;
  #requestsInFlight = 0;
  #identity: ProducerIdentity | null;
  #identityRequest: Promise<void> | null = null;
  #pendingReset: ResetKind | null = null;
  #flushes = 0;
  #isClosing = false;
  #isStopped = false;
  #immediate: NodeJS.Immediate | null = null;
  #timer: NodeJS.Timeout | null = null;
  #timerAtMs = Number.POSITIVE_INFINITY;

  constructor(accumulator: RecordAccumulator, transport: Transport, memory: BufferMemory, metadata: TopicMetadata, config: SenderConfig) {
    this.#accumulator = accumulator;
    this.#transport = transport;
    this.#memory = memory;
    this.#metadata = metadata;
    this.#config = config;
    this.#producePath = `/produce?acks=${config.acks}`;
    this.#identity = config.idempotent ? null : NO_IDENTITY;
  }

  /** Gets the producer id now rather than before the first batch (connect()). */
  async ensureIdentity(): Promise<void> {
    if (this.#identity !== null) return;
    this.#identityRequest ??= this.#initIdentity(undefined).finally(() => {
      this.#identityRequest = null;
      this.wakeup();
    });
    await this.#identityRequest;
  }

  /** Drains as soon as the event loop is free (coalesced). */
  wakeup(): void {
    if (this.#immediate !== null || this.#isStopped) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = null;
      this.#drain();
    });
  }

  /** A new batch was started at `nowMs`: make sure the sender looks again when its linger ends. */
  armLinger(nowMs: number): void {
    if (this.#config.lingerMs === 0 || this.#flushes > 0 || this.#isClosing) this.wakeup();
    else this.#wakeAt(nowMs + this.#config.lingerMs);
  }

  /** Sends everything without waiting for linger.ms until the returned function is called. */
  beginFlush(): () => void {
    this.#flushes++;
    this.wakeup();
    let isEnded = false;
    return () => {
      if (isEnded) return;
      isEnded = true;
      this.#flushes--;
    };
  }

  /** From now on every batch is ready at once (close()). */
  beginClose(): void {
    this.#isClosing = true;
    this.wakeup();
  }

  /** Fails every batch not yet acknowledged and stops: close() whose time ran out. */
  abort(error: MiniKafkaClientError): void {
    this.#stop();
    for (const queue of [...this.#accumulator.waiting]) {
      for (const batch of [...queue.batches]) this.#failWaiting(queue, batch, error);
    }
    for (const queue of this.#accumulator.queues()) {
      for (const batch of [...queue.inFlight]) this.#failInFlight(queue, batch, error);
    }
  }

  /** Stops timers: nothing more is sent. */
  #stop(): void {
    this.#isStopped = true;
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#immediate = null;
    this.#timer = null;
  }

  #wakeAt(atMs: number): void {
    if (this.#isStopped || (this.#timer !== null && this.#timerAtMs <= atMs)) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAtMs = atMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAtMs = Number.POSITIVE_INFINITY;
      this.#drain();
    }, Math.max(0, atMs - Date.now()));
  }

  #drain(): void {
    if (this.#isStopped) return;
    const nowMs = Date.now();
    let wakeAtMs = this.#expireWaiting(nowMs);
    if (this.#accumulator.waiting.size === 0) return;
    if (this.#identity === null) {
      void this.ensureIdentity().catch((error: unknown) => this.#failAllWaiting(error));
      return;
    }
    if (this.#pendingReset !== null) {
      if (this.#requestsInFlight === 0 && this.#identityRequest === null) this.#startReset();
      return;
    }
    const isFlushing = this.#flushes > 0 || this.#isClosing;
    while (this.#requestsInFlight < this.#config.maxInFlightRequests) {
      const drained: Drained[] = [];
      let requestBytes = PRODUCE_REQUEST_HEADER_BYTES;
      for (const queue of [...this.#accumulator.waiting]) {
        const batch = queue.batches[0];
        const readyAtMs = this.#readyAtMs(queue, batch, isFlushing);
        if (readyAtMs > nowMs) {
          wakeAtMs = Math.min(wakeAtMs, readyAtMs);
          continue;
        }
        const encoded = this.#encode(queue, batch);
        const entryBytes = sizeOfEntry(Buffer.byteLength(batch.topic), encoded.length);
        if (drained.length > 0 && requestBytes + entryBytes > this.#config.maxRequestBytes) continue;
        const isBehindInFlight = queue.inFlight.some((older) => older.id < batch.id);
        this.#accumulator.takeFirst(queue);
        drained.push({ queue, batch, isBehindInFlight });
        requestBytes += entryBytes;
      }
      if (drained.length === 0) break;
      this.#send(drained, nowMs);
    }
    if (wakeAtMs !== Number.POSITIVE_INFINITY) this.#wakeAt(wakeAtMs);
  }

  /**
   * When the queue's first batch may go: now (any time ≤ nowMs), at a time (linger, backoff), or
   * never for now (+Infinity: it waits for an answer, which wakes the sender).
   */
  #readyAtMs(queue: PartitionQueue, batch: ProducerBatch, isFlushing: boolean): number {
    if (batch.attempts > 0) return queue.inFlight.length > 0 ? Number.POSITIVE_INFINITY : batch.retryAtMs;
    if (this.#config.idempotent && !queue.hasAcknowledged && queue.inFlight.length > 0) return Number.POSITIVE_INFINITY;
    if (batch.isClosed || queue.batches.length > 1 || isFlushing) return 0;
    return batch.createdMs + this.#config.lingerMs;
  }

  #encode(queue: PartitionQueue, batch: ProducerBatch): Buffer {
    if (batch.encoded !== null) return batch.encoded;
    const identity = this.#identity ?? NO_IDENTITY;
    let baseSequence = -1;
    if (this.#config.idempotent) {
      baseSequence = queue.nextSequence;
      // Sequences wrap after 2^31 − 1 to 0, as the broker's do.
      const next = queue.nextSequence + batch.recordCount;
      queue.nextSequence = next > SEQUENCE_MAX ? next - SEQUENCE_MAX - 1 : next;
    }
    return batch.encode({ producerId: identity.producerId, producerEpoch: identity.producerEpoch, baseSequence }, this.#config.compression);
  }

  #send(drained: Drained[], nowMs: number): void {
    this.#requestsInFlight++;
    const entries: ProduceEntry[] = drained.map(({ batch }) => {
      batch.attempts++;
      return { topic: batch.topic, partition: batch.partition, batch: batch.encoded! };
    });
    this.#transport
      .requestJson<ProduceBatchesResponse>({
        method: 'POST', path: this.#producePath, body: encodeProduceBatches(entries), contentType: PRODUCE_BATCHES_MEDIA_TYPE, timeoutMs: this.#config.requestTimeoutMs,
      })
      .then(
        (response) => {
          const results = response?.results;
          if (!Array.isArray(results) || results.length !== drained.length) {
            const error = new MiniKafkaClientError('UNEXPECTED_RESPONSE', `POST /produce answered ${Array.isArray(results) ? results.length : 'no'} results for ${drained.length} batches`, { retriable: false });
            for (const item of drained) this.#onError(item, error, nowMs);
            return;
          }
          drained.forEach((item, index) => this.#onResult(item, results[index]));
        },
        (error: unknown) => {
          for (const item of drained) this.#onError(item, error, Date.now());
        },
      )
      .finally(() => {
        this.#requestsInFlight--;
        this.wakeup();
      });
  }

  #onResult(item: Drained, result: ProduceEntryResult): void {
    if (result.error !== null) {
      this.#onError(item, new BrokerError(result.error, statusOf(result.error.error_code)), Date.now());
      return;
    }
    const { queue, batch } = item;
    if (batch.isDone) return;
    this.#accumulator.finishInFlight(queue, batch);
    queue.hasAcknowledged = true;
    this.#memory.release(batch.reservedBytes);
    batch.complete(result.base_offset, result.log_append_time, result.log_start_offset);
  }

  #onError(item: Drained, error: unknown, nowMs: number): void {
    const { queue, batch } = item;
    if (batch.isDone) return;
    batch.lastError = error;
    const code = error instanceof MiniKafkaClientError ? error.code : null;
    let isRetry = isRetriable(error);
    if (code === 'OUT_OF_ORDER_SEQUENCE_NUMBER' && this.#config.idempotent) {
      // An older batch had not reached the broker yet (another connection, or a retry), though
      // its answer may have been heard first, or a reset will give this one a new sequence
      // anyway: not a loss, so try again. The retry goes alone, so a real gap fails it.
      isRetry = item.isBehindInFlight || queue.hasUnacknowledgedBefore(batch) || this.#pendingReset !== null;
    }
    if (!isRetry) {
      this.#failInFlight(queue, batch, error);
      return;
    }
    if (batch.attempts > this.#config.retries) {
      this.#failInFlight(queue, batch, error);
      return;
    }
    const waitMs = backoffMs(batch.attempts, this.#config.retry);
    if (nowMs + waitMs >= batch.deadlineMs) {
      this.#failInFlight(queue, batch, deliveryTimeout(batch, nowMs, error));
      return;
    }
    batch.retryAtMs = nowMs + waitMs;
    this.#accumulator.requeue(queue, batch);
  }

  #failInFlight(queue: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    if (batch.isDone) return;
    this.#accumulator.finishInFlight(queue, batch);
    this.#settleFailure(batch, error);
  }

  #failWaiting(queue: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    if (batch.isDone) return;
    this.#accumulator.removeWaiting(queue, batch);
    this.#settleFailure(batch, error);
  }

  #settleFailure(batch: ProducerBatch, error: unknown): void {
    this.#memory.release(batch.reservedBytes);
    batch.fail(error);
    const code = error instanceof MiniKafkaClientError ? error.code : null;
    if (code === 'UNKNOWN_TOPIC_OR_PARTITION') this.#metadata.invalidate(batch.topic);
    if (this.#config.idempotent && batch.baseSequence >= 0) {
      // Its sequence may be a gap now; see the file header.
      const kind: ResetKind = code !== null && NEW_ID_CODES.has(code) ? 'new-id' : 'bump';
      if (this.#pendingReset !== 'new-id') this.#pendingReset = kind;
    }
  }

  /** Fails waiting batches whose delivery deadline passed; returns the earliest deadline still ahead. */
  #expireWaiting(nowMs: number): number {
    let nextDeadlineMs = Number.POSITIVE_INFINITY;
    for (const queue of [...this.#accumulator.waiting]) {
      // Deadlines follow creation order, which is queue order.
      while (queue.batches.length > 0 && queue.batches[0].deadlineMs <= nowMs) {
        const batch = queue.batches[0];
        this.#failWaiting(queue, batch, deliveryTimeout(batch, nowMs, batch.lastError));
      }
      if (queue.batches.length > 0) nextDeadlineMs = Math.min(nextDeadlineMs, queue.batches[0].deadlineMs);
    }
    return nextDeadlineMs;
  }

  #failAllWaiting(error: unknown): void {
    if (isRetriable(error)) return; // the next drain asks again; the delivery timeout bounds the wait
    for (const queue of [...this.#accumulator.waiting]) {
      for (const batch of [...queue.batches]) this.#failWaiting(queue, batch, error);
    }
  }

  #startReset(): void {
    const kind = this.#pendingReset;
    const current = this.#identity;
    if (kind === null || current === null) return;
    this.#identityRequest = this.#initIdentity(kind === 'bump' ? current : undefined)
      .then(() => {
        this.#pendingReset = null;
        for (const queue of this.#accumulator.queues()) {
          queue.nextSequence = 0;
          queue.hasAcknowledged = false;
          for (const batch of queue.batches) batch.resetIdentity();
        }
      })
      .catch((error: unknown) => {
        // The old id is unknown to the broker (its data was replaced): ask for a new one next time.
        if (error instanceof MiniKafkaClientError && NEW_ID_CODES.has(error.code)) this.#pendingReset = 'new-id';
      })
      .finally(() => {
        this.#identityRequest = null;
        this.wakeup();
      });
  }

  /** `POST /producers`: a new id, or the next epoch of `current`. Retries what is retriable. */
  async #initIdentity(current: ProducerIdentity | undefined): Promise<void> {
    const body = current === undefined ? '{}' : JSON.stringify({ producer_id: current.producerId, producer_epoch: current.producerEpoch });
    const answer = await withRetries(
      () => this.#transport.requestJson<{ producer_id: number; producer_epoch: number }>({ method: 'POST', path: '/producers', body, contentType: 'application/json', timeoutMs: this.#config.requestTimeoutMs }),
      this.#config.retry,
    );
    this.#identity = { producerId: answer.producer_id, producerEpoch: answer.producer_epoch };
  }
}

function deliveryTimeout(batch: ProducerBatch, nowMs: number, lastError: unknown): DeliveryTimeoutError {
  const why = lastError instanceof Error ? `; the last attempt failed: ${lastError.message}` : '';
  return new DeliveryTimeoutError(
    `${batch.recordCount} record(s) for topic ${batch.topic} partition ${batch.partition} were not acknowledged within deliveryTimeoutMs (${batch.deadlineMs - batch.createdMs} ms; ${nowMs - batch.createdMs} ms have passed, ${batch.attempts} attempt(s))${why}`,
    { topic: batch.topic, partition: batch.partition, records: batch.recordCount, attempts: batch.attempts, deliveryTimeoutMs: batch.deadlineMs - batch.createdMs },
    lastError ?? undefined,
  );
}

/** The HTTP status of a REST error_code (status × 100 + n). */
function statusOf(errorCode: number): number {
  return Math.floor(errorCode / 100);
}
