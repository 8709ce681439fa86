/**
 * One partition as the broker serves it: its log plus the rules that sit above storage on the
 * produce path (idempotence, LogAppendTime, compacted topics, acks) and the fetch path (long poll).
 *
 * Produce, in order, with no `await` before the append so appends never interleave:
 *   one validation pass (CRC, framing, every record; on a compacted topic it also notes records
 *   without a key) → producer-state check (a duplicate returns its original offsets, nothing is
 *   written) → topic rules (keys on a compacted topic, LogAppendTime) → log.appendValidated
 *   (assigns offsets) → producer-state update → for acks ≠ 0, wait for the fsync if the flush
 *   policy asked for one.
 *
 * acks on one broker: the leader is the only replica, so the high watermark is the log end
 * offset right after the append, and acks=1 and acks=all acknowledge at the same moment: after
 * the write into the page cache, or after the fsync when flush.messages says so. acks=0 answers
 * without waiting for that fsync.
 */

import path from 'node:path';
import { MiniKafkaError } from '../../common/errors.ts';
import type { RecordBatchHeader } from '../../common/record-batch.ts';
import { TimestampType, forEachRecord, setLogAppendTime, validateRecordBatch } from '../../common/record-batch.ts';
import type { Clock } from '../storage/clock.ts';
import type { FileIo } from '../storage/file-io.ts';
import { readWholeFile, writeFileAtomic } from '../storage/file-io.ts';
import { offsetFileName } from '../storage/file-names.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { ReadBuffers } from '../storage/read-buffers.ts';
import { ProducerState } from './producer-state.ts';

const SNAPSHOT_SUFFIX = '.snapshot';

export type Acks = 0 | 1 | -1;

/** The topic-level settings the produce path needs beyond the log's own. */
export interface PartitionRules {
  readonly isCompacted: boolean;
  readonly isLogAppendTime: boolean;
  readonly minInsyncReplicas: number;
}

export interface ProduceResult {
  readonly partition: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly recordCount: number;
  readonly sizeBytes: number;
  /** The broker's timestamp for LogAppendTime topics, else -1 (as Kafka's produce response). */
  readonly logAppendTimeMs: number;
  readonly logStartOffset: number;
  /** True when this was a retry of a batch already in the log: nothing was written. */
  readonly isDuplicate: boolean;
}

export interface FetchResult {
  /** Whole record batches; the first may begin before the requested offset, as in Kafka. */
  readonly bytes: Buffer;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** How many records the batches in `bytes` hold. */
  readonly recordCount: number;
  /**
   * Gives `bytes` back to the pool they were read into (read-buffers.ts); call it once nothing
   * reads them any more (an HTTP answer: on its `finish`), or never. Does nothing without a pool.
   */
  release(): void;
}

const EMPTY = Buffer.alloc(0);
const NOTHING_TO_RELEASE = (): void => {};

export class Partition {
  readonly topic: string;
  readonly index: number;
  readonly log: PartitionLog;
  readonly #producers: ProducerState;
  readonly #io: FileIo;
  readonly #clock: Clock;
  readonly #waiters = new Set<() => void>();
  #rules: PartitionRules;

  private constructor(topic: string, index: number, log: PartitionLog, producers: ProducerState, rules: PartitionRules, io: FileIo, clock: Clock) {
    this.topic = topic;
    this.index = index;
    this.log = log;
    this.#producers = producers;
    this.#rules = rules;
    this.#io = io;
    this.#clock = clock;
  }

  /** Wraps an open log, rebuilding its producer state from the newest snapshot plus the batches after it. */
  static open(topic: string, index: number, log: PartitionLog, rules: PartitionRules, io: FileIo, clock: Clock): Partition {
    const { state, fromOffset } = loadNewestSnapshot(io, log);
    log.forEachBatchHeader(fromOffset, (header) => {
      if (header.lastOffset >= fromOffset) state.update(header);
    });
    return new Partition(topic, index, log, state, rules, io, clock);
  }

  updateRules(rules: PartitionRules): void {
    this.#rules = rules;
  }

  /** Appends one batch as produced; see the file header for the order of checks. */
  async produce(batch: Buffer, acks: Acks): Promise<ProduceResult> {
    const context = { topic: this.topic, partition: this.index };
    if (acks === -1 && this.#rules.minInsyncReplicas > 1) {
      throw new MiniKafkaError('NOT_ENOUGH_REPLICAS', `acks=all needs ${this.#rules.minInsyncReplicas} in-sync replicas (min.insync.replicas) but this broker is the only one`, { ...context, minInsyncReplicas: this.#rules.minInsyncReplicas });
    }
    // Validate first (CRC, framing), as Kafka does: a damaged retry must not pass as a duplicate.
    // A compacted topic also needs every record's key: the same pass over the records notes a
    // missing one, refused below (after the duplicate check, as before).
    let hasNullKey = false;
    const header = this.#rules.isCompacted
      ? forEachRecord(batch, 0, (_offset, _timestamp, key) => void (hasNullKey ||= key === null), { offsetDeltas: 'contiguous' })
      : validateRecordBatch(batch, 0);
    const check = this.#producers.check(header, context);
    if (check.isDuplicate) {
      return { partition: this.index, baseOffset: check.batch.baseOffset, lastOffset: check.batch.lastOffset, recordCount: header.recordCount, sizeBytes: batch.length, logAppendTimeMs: -1, logStartOffset: this.log.logStartOffset, isDuplicate: true };
    }
    if (hasNullKey) throw new MiniKafkaError('INVALID_RECORD', `compacted topic ${this.topic} does not accept records without a key`, context);
    let logAppendTimeMs = -1;
    let validated = header;
    if (this.#rules.isLogAppendTime) {
      logAppendTimeMs = this.#clock.nowMs();
      setLogAppendTime(batch, logAppendTimeMs);
      validated = { ...header, maxTimestamp: logAppendTimeMs, timestampType: TimestampType.logAppendTime, attributes: header.attributes | (TimestampType.logAppendTime << 3) };
    }
    const appended = this.log.appendValidated(batch, validated);
    const stored: RecordBatchHeader = { ...header, baseOffset: appended.baseOffset, lastOffset: appended.lastOffset };
    this.#producers.update(stored);
    if (acks !== 0 && appended.flushed !== null) await appended.flushed;
    return {
      partition: this.index,
      baseOffset: appended.baseOffset,
      lastOffset: appended.lastOffset,
      recordCount: appended.recordCount,
      sizeBytes: appended.sizeBytes,
      logAppendTimeMs,
      logStartOffset: this.log.logStartOffset,
      isDuplicate: false,
    };
  }

  /**
   * Reads from `offset`; when nothing is there yet, waits up to `maxWaitMs` for an append (woken
   * by the append itself, not by polling), or until `signal` aborts or the partition closes.
   * With `buffers`, the bytes are read into that pool's memory and `release()` gives it back.
   */
  async fetch(offset: number, maxBytes: number, maxWaitMs: number, signal?: AbortSignal, buffers?: ReadBuffers): Promise<FetchResult> {
    let read = this.log.read(offset, maxBytes, { buffers });
    if (read === null && maxWaitMs > 0 && signal?.aborted !== true) {
      await this.#waitForAppend(offset, maxWaitMs, signal);
      read = this.log.read(offset, maxBytes, { buffers });
    }
    const bytes = read?.bytes ?? EMPTY;
    const release = buffers === undefined || read === null ? NOTHING_TO_RELEASE : (): void => buffers.release(bytes);
    return { bytes, highWatermark: this.log.highWatermark, logStartOffset: this.log.logStartOffset, recordCount: read?.recordCount ?? 0, release };
  }

  /** Ends every long poll at once (topic deleted, broker stopping). */
  wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Writes a producer-state snapshot at the log end offset, then closes the log. */
  async close(): Promise<void> {
    this.wakeAll();
    await writeFileAtomic(this.#io, this.log.dir, offsetFileName(this.log.nextOffset, SNAPSHOT_SUFFIX), this.#producers.encodeSnapshot());
    removeSnapshots(this.#io, this.log.dir, (offset) => offset < this.log.nextOffset);
    await this.log.close();
  }

  async delete(): Promise<void> {
    this.wakeAll();
    await this.log.delete();
  }

  #waitForAppend(offset: number, maxWaitMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stopListening();
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      const stopListening = this.log.onAppend((nextOffset) => {
        if (nextOffset > offset) done();
      });
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }
}

/** Kafka rejects records without a key on compacted topics: compaction keeps the latest value per key. */
function listSnapshots(io: FileIo, dir: string): number[] {
  return io
    .readdir(dir)
    .filter((name) => /^\d{20}\.snapshot$/.test(name))
    .map((name) => Number(name.slice(0, 20)))
    .sort((a, b) => a - b);
}

function removeSnapshots(io: FileIo, dir: string, shouldRemove: (offset: number) => boolean): void {
  for (const offset of listSnapshots(io, dir)) {
    if (shouldRemove(offset)) io.unlink(path.join(dir, offsetFileName(offset, SNAPSHOT_SUFFIX)));
  }
}

/**
 * The newest snapshot at or below the log end offset (newer ones describe offsets a recovery cut
 * away, so they are deleted), or an empty state to be replayed from the log start.
 */
function loadNewestSnapshot(io: FileIo, log: PartitionLog): { state: ProducerState; fromOffset: number } {
  removeSnapshots(io, log.dir, (offset) => offset > log.nextOffset);
  for (const offset of listSnapshots(io, log.dir).reverse()) {
    if (offset < log.logStartOffset) break;
    try {
      return { state: ProducerState.decodeSnapshot(readWholeFile(io, path.join(log.dir, offsetFileName(offset, SNAPSHOT_SUFFIX)))), fromOffset: offset };
    } catch {
      // A damaged snapshot is derived data like an index: fall back to an older one or the log.
    }
  }
  return { state: new ProducerState(), fromOffset: log.logStartOffset };
}
