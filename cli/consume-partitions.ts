/**
 * `minikafka consume` without `--group`: it reads partitions directly, as a Kafka consumer with
 * assign() does, and commits nothing.
 *
 * Where each partition starts: `--offset N` (with `--partition`), `--from-beginning` (the log
 * start offset), `--from-time T` (the first record at or after T), or by default the log end
 * offset: only records produced from now on, as Kafka's console consumer.
 *
 * Where it stops: without `--follow`, at the log end offset each partition had when consume
 * started (records produced meanwhile are left for the next run), so a run always ends and prints
 * a definite set; partitions are read one after the other, in order. With `--follow`, every
 * partition is long-polled at once until the stop signal (Ctrl-C, SIGTERM) or `--max-messages`.
 *
 * A partition whose position falls outside its log (retention deleted the records, or the topic
 * was recreated) moves to the log start offset, or to the log end if it was past it, with a note
 * on stderr: Kafka's auto.offset.reset. Retriable failures (a broker restarting) are retried with
 * backoff: for good with --follow, a few times otherwise.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { MiniKafka } from '../client/client.ts';
import { BrokerError, isRetriable } from '../client/errors.ts';
import type { Transport } from '../client/transport.ts';
import { CliUserError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { fetchPartition } from './partition-fetch.ts';
import type { ConsumedRecord } from './record-format.ts';
import type { RecordPrinter } from './record-printer.ts';

/** Where to start in each partition. */
export type StartPosition =
  | { readonly kind: 'latest' }
  | { readonly kind: 'earliest' }
  | { readonly kind: 'offset'; readonly offset: number | 'earliest' | 'latest' }
  | { readonly kind: 'time'; readonly timestampMs: number };

export interface PartitionReadOptions {
  readonly topic: string;
  /** Only this partition; all of them when undefined. */
  readonly partition: number | undefined;
  readonly start: StartPosition;
  readonly follow: boolean;
}

/** Kafka's max.partition.fetch.bytes. */
const MAX_PARTITION_FETCH_BYTES = 1024 * 1024;
/** A follow long poll; the stop signal aborts it at once, so this only bounds an idle connection. */
const FOLLOW_MAX_WAIT_MS = 5_000;
/** One connection per partition polled at once, up to this many. */
const MAX_FOLLOW_CONNECTIONS = 64;
/** Retries of a retriable failure without --follow (with it, retries go on until stopped). */
const MAX_RETRIES_WITHOUT_FOLLOW = 5;

interface PartitionRange {
  readonly partition: number;
  /** Where reading starts. */
  readonly startOffset: number;
  /** The log end offset when consume started: without --follow, reading stops there. */
  readonly endOffset: number;
}

/** Prints the records from each partition's start to its end (with follow: until `stop`), or up to --max-messages. */
export async function readPartitions(client: MiniKafka, options: PartitionReadOptions, printer: RecordPrinter, io: CliIo, stop: AbortSignal): Promise<void> {
  const ranges = await planRanges(client, options);
  const transport = client.createTransport({ maxConnections: options.follow ? Math.min(Math.max(ranges.length, 1), MAX_FOLLOW_CONNECTIONS) : 1 });
  // Stopped by the caller's signal, or here once --max-messages is reached: that also ends the other partitions' long polls.
  const done = new AbortController();
  const onStop = (): void => done.abort();
  stop.addEventListener('abort', onStop, { once: true });
  if (stop.aborted) done.abort();
  const reader = new Reader(transport, options, printer, io, done);
  try {
    if (options.follow) {
      // One partition failing for good ends the others too, rather than leaving them polling.
      await Promise.all(ranges.map((range) => reader.follow(range).catch((error: unknown) => {
        done.abort();
        throw error;
      })));
    } else {
      for (const range of ranges) {
        if (done.signal.aborted) break;
        await reader.readToEnd(range);
      }
    }
  } finally {
    stop.removeEventListener('abort', onStop);
    await transport.destroy();
  }
}

/** Each partition's start offset and its log end offset now, from the admin client. */
async function planRanges(client: MiniKafka, options: PartitionReadOptions): Promise<PartitionRange[]> {
  const admin = client.admin();
  try {
    const ends = (await admin.fetchTopicOffsets(options.topic)).sort((a, b) => a.partition - b.partition);
    if (options.partition !== undefined && !ends.some((p) => p.partition === options.partition)) {
      throw new CliUserError(`topic ${options.topic} has no partition ${options.partition}: it has partitions 0 to ${ends.length - 1} (UNKNOWN_TOPIC_OR_PARTITION)`);
    }
    const selected = ends.filter((p) => options.partition === undefined || p.partition === options.partition);
    const atTime = options.start.kind === 'time' ? await admin.fetchTopicOffsetsByTimestamp(options.topic, options.start.timestampMs) : null;
    return selected.map((p) => {
      const low = Number(p.low);
      const high = Number(p.high);
      return { partition: p.partition, startOffset: startOffset(options, p.partition, low, high, atTime), endOffset: high };
    });
  } finally {
    await admin.close();
  }
}

function startOffset(options: PartitionReadOptions, partition: number, low: number, high: number, atTime: Array<{ partition: number; offset: string }> | null): number {
  const start = options.start;
  switch (start.kind) {
    case 'latest':
      return high;
    case 'earliest':
      return low;
    case 'time':
      return Number(atTime?.find((p) => p.partition === partition)?.offset ?? high);
    case 'offset':
      if (start.offset === 'earliest') return low;
      if (start.offset === 'latest') return high;
      if (start.offset < low || start.offset > high) {
        throw new CliUserError(`--offset ${start.offset} is outside partition ${partition} of ${options.topic}: its offsets run from ${low} to ${high} (the log end offset, where the next record goes) (OFFSET_OUT_OF_RANGE)`);
      }
      return start.offset;
  }
}

class Reader {
  readonly #transport: Transport;
  readonly #options: PartitionReadOptions;
  readonly #printer: RecordPrinter;
  readonly #io: CliIo;
  readonly #done: AbortController;
  readonly #stop: AbortSignal;

  constructor(transport: Transport, options: PartitionReadOptions, printer: RecordPrinter, io: CliIo, done: AbortController) {
    this.#transport = transport;
    this.#options = options;
    this.#printer = printer;
    this.#io = io;
    this.#done = done;
    this.#stop = done.signal;
  }

  /** Prints the partition's records from its start up to the end offset it had when consume started. */
  async readToEnd(range: PartitionRange): Promise<void> {
    let position = range.startOffset;
    while (position < range.endOffset && !this.#isDone()) {
      const result = await this.#fetch(range.partition, position, 0);
      if (result === null) return;
      for (const record of result.records) {
        if (record.offset >= range.endOffset || !this.#print(record)) break;
      }
      await this.#printer.flush();
      // A fetch below the high watermark always holds a batch; no progress means the log went from under us.
      if (result.nextOffset <= position) return;
      position = result.nextOffset;
    }
  }

  /** Long-polls the partition and prints what comes, until stopped. */
  async follow(range: PartitionRange): Promise<void> {
    let position = range.startOffset;
    while (!this.#isDone()) {
      const result = await this.#fetch(range.partition, position, FOLLOW_MAX_WAIT_MS);
      if (result === null) return;
      for (const record of result.records) {
        if (!this.#print(record)) break;
      }
      await this.#printer.flush();
      position = result.nextOffset;
    }
  }

  #isDone(): boolean {
    return this.#stop.aborted;
  }

  /** Prints the record; false, and every partition stops, once --max-messages is reached. */
  #print(record: ConsumedRecord): boolean {
    const isPrinted = this.#printer.print(record);
    if (this.#printer.isFull) this.#done.abort();
    return isPrinted;
  }

  /**
   * One fetch, retried while retriable; an offset out of range moves the position (auto.offset.reset).
   * Resolves with the records and the offset to go on from, or null once stopped.
   */
  async #fetch(partition: number, offset: number, maxWaitMs: number): Promise<{ records: ConsumedRecord[]; nextOffset: number } | null> {
    let position = offset;
    for (let attempt = 0; ; attempt++) {
      if (this.#stop.aborted) return null;
      try {
        const result = await fetchPartition(this.#transport, { topic: this.#options.topic, partition, offset: position, maxWaitMs, maxBytes: MAX_PARTITION_FETCH_BYTES, signal: this.#stop });
        // After a reset, nextOffset is at least the new position, so the caller moves forward.
        return { records: result.records, nextOffset: result.nextOffset };
      } catch (error) {
        if (this.#stop.aborted) return null;
        if (error instanceof BrokerError && error.code === 'OFFSET_OUT_OF_RANGE') {
          position = this.#resetPosition(partition, position, error);
          continue;
        }
        if (!isRetriable(error) || (!this.#options.follow && attempt >= MAX_RETRIES_WITHOUT_FOLLOW)) throw error;
        if (attempt === 0) this.#io.writeErr(`note: partition ${partition}: ${(error as Error).message}; retrying\n`);
        await sleep(Math.min(100 * 2 ** attempt, 2_000), undefined, { signal: this.#stop }).catch(() => undefined);
      }
    }
  }

  #resetPosition(partition: number, position: number, error: BrokerError): number {
    const logStartOffset = Number(error.details.logStartOffset);
    const highWatermark = Number(error.details.highWatermark);
    if (!Number.isSafeInteger(logStartOffset) || !Number.isSafeInteger(highWatermark)) throw error;
    const next = position < logStartOffset ? logStartOffset : highWatermark;
    this.#io.writeErr(`note: partition ${partition}: offset ${position} is no longer in the log (it holds ${logStartOffset} to ${highWatermark}); going on from ${next}\n`);
    return next;
  }
}
