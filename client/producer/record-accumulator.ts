/**
 * The producer's record accumulator (Kafka's RecordAccumulator): per partition, a queue of
 * batches waiting to be sent, the last of which takes new records until it holds batch.size
 * bytes. A batch is ready to go when it is full, when it has waited linger.ms, or when a flush
 * or close asks for everything; the sender (sender.ts) drains ready batches.
 *
 * Per partition the queue also keeps what idempotence needs: the batches in flight (oldest
 * first), the next sequence number, and whether the broker has acknowledged a batch from this
 * producer epoch yet.
 *
 * Invariants: within a queue, batches (waiting and in flight) are in creation order by `id`, which
 * is the order of their sequences; a batch is in exactly one of `batches`, `inFlight`, or done.
 * `waiting` holds exactly the queues with a waiting batch.
 */

import assert from 'node:assert';
import type { RecordInput } from '../../common/record-batch.ts';
import type { PendingSend } from './pending-send.ts';
import { ProducerBatch } from './producer-batch.ts';

export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  /** Waiting to be sent (first tries and retries), oldest first; the last may still take records. */
  readonly batches: ProducerBatch[] = [];
  /** Sent, not yet answered, oldest first. */
  readonly inFlight: ProducerBatch[] = [];
  /** The base sequence the next new batch gets (idempotence). */
  nextSequence = 0;
  /** The broker acknowledged a batch of this producer epoch here: it knows the producer. */
  hasAcknowledged = false;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  /** True when a batch older than `batch` is waiting or in flight: the broker has not seen all before it. */
  hasUnacknowledgedBefore(batch: ProducerBatch): boolean {
    return this.batches.some((b) => b.id < batch.id && b.baseSequence >= 0) || this.inFlight.some((b) => b.id < batch.id);
  }
}

/** What an append did, so the producer knows whether to wake the sender or arm the linger timer. */
export const AppendOutcome = { appended: 0, newBatch: 1, batchClosed: 2 } as const;
export type AppendOutcome = (typeof AppendOutcome)[keyof typeof AppendOutcome];

export interface AccumulatorConfig {
  readonly batchBytes: number;
  readonly deliveryTimeoutMs: number;
}

export class RecordAccumulator {
  readonly #config: AccumulatorConfig;
  readonly #queues = new Map<string, PartitionQueue[]>();
  /** Queues with waiting batches, in drain order: a drained queue moves to the back (fairness). */
  readonly waiting = new Set<PartitionQueue>();
  /** Every batch not yet acknowledged or failed, for flush(). */
  readonly incomplete = new Set<ProducerBatch>();

  constructor(config: AccumulatorConfig) {
    this.#config = config;
  }

  queueOf(topic: string, partition: number): PartitionQueue {
    let queues = this.#queues.get(topic);
    if (queues === undefined) {
      queues = [];
      this.#queues.set(topic, queues);
    }
    let queue = queues[partition];
    if (queue === undefined) {
      queue = new PartitionQueue(topic, partition);
      queues[partition] = queue;
    }
    return queue;
  }

  /** Every queue there is (for resetting sequences after an epoch bump). */
  *queues(): IterableIterator<PartitionQueue> {
    for (const queues of this.#queues.values()) {
      for (const queue of queues) if (queue !== undefined) yield queue;
    }
  }

  append(topic: string, partition: number, record: RecordInput, sizeBytes: number, send: PendingSend, nowMs: number): AppendOutcome {
    const queue = this.queueOf(topic, partition);
    const last = queue.batches.at(-1);
    let hasClosedLast = false;
    if (last !== undefined && !last.isClosed) {
      if (last.tryAppend(record, sizeBytes, send, this.#config.batchBytes)) return last.isClosed ? AppendOutcome.batchClosed : AppendOutcome.appended;
      hasClosedLast = true;
    }
    const batch = new ProducerBatch(topic, partition, nowMs, this.#config.deliveryTimeoutMs);
    const isAppended = batch.tryAppend(record, sizeBytes, send, this.#config.batchBytes);
    assert(isAppended, 'a new batch takes its first record');
    queue.batches.push(batch);
    this.incomplete.add(batch);
    this.waiting.add(queue);
    // A batch closed by this record (`last`), or a record that fills the new one alone: send now.
    return hasClosedLast || batch.isClosed ? AppendOutcome.batchClosed : AppendOutcome.newBatch;
  }

  /** Takes the queue's first waiting batch for sending. */
  takeFirst(queue: PartitionQueue): ProducerBatch {
    const batch = queue.batches.shift();
    assert(batch !== undefined, 'only a queue with a waiting batch is drained');
    batch.isClosed = true;
    queue.inFlight.push(batch);
    this.waiting.delete(queue);
    if (queue.batches.length > 0) this.waiting.add(queue); // to the back of the line
    return batch;
  }

  /** A batch that was sent returns for a retry: ahead of every younger batch of its queue. */
  requeue(queue: PartitionQueue, batch: ProducerBatch): void {
    this.#removeInFlight(queue, batch);
    let index = 0;
    while (index < queue.batches.length && queue.batches[index].id < batch.id) index++;
    queue.batches.splice(index, 0, batch);
    this.waiting.add(queue);
  }

  /** A sent batch was answered (acknowledged, or failed for good). */
  finishInFlight(queue: PartitionQueue, batch: ProducerBatch): void {
    this.#removeInFlight(queue, batch);
    this.incomplete.delete(batch);
  }

  /** A waiting batch failed for good (its delivery timeout passed, or the producer closed). */
  removeWaiting(queue: PartitionQueue, batch: ProducerBatch): void {
    const index = queue.batches.indexOf(batch);
    assert(index >= 0, 'the batch is waiting in this queue');
    queue.batches.splice(index, 1);
    if (queue.batches.length === 0) this.waiting.delete(queue);
    this.incomplete.delete(batch);
  }

  #removeInFlight(queue: PartitionQueue, batch: ProducerBatch): void {
    const index = queue.inFlight.indexOf(batch);
    assert(index >= 0, 'the batch is in flight in this queue');
    queue.inFlight.splice(index, 1);
  }
}
