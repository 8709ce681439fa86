/**
 * The log of one partition: an ordered list of segments, of which only the last (the active
 * segment) takes appends.
 *
 *   logStartOffset ≤ recoveryPoint ≤ nextOffset
 *   |<-- closed segments -->|<-- active segment -->|
 *
 * - `logStartOffset`: the first offset still readable; retention raises it by deleting whole
 *   closed segments, oldest first.
 * - `recoveryPoint`: everything below it is known to be fsynced; after an unclean stop only the
 *   log from here on is scanned.
 * - `nextOffset`: the log end offset, the offset the next record gets.
 *
 * Appends are synchronous: validate, maybe roll, write the base offset into the batch's first 8
 * bytes (outside the CRC, so the producer's CRC still holds), one write. No `await` happens
 * between choosing an offset and writing it, so appends to one partition never interleave.
 * Durability is a separate, asynchronous step: the flush policy (flush.messages, flush.ms)
 * decides when an fsync runs, and group commit (group-commit.ts) lets all waiting appends share
 * it. An append that reaches flush.messages returns a `flushed` promise; acknowledging only after
 * it resolves means "acknowledged ⇒ fsynced".
 *
 * The log cleaner (log-cleaner.ts) rewrites closed segments of a compacted log; it reads them
 * through `closedSegments` and swaps its output in with `replaceSegments`, one synchronous step,
 * so a read or an append sees the old segments or the new one, never part of a swap.
 */

import assert from 'node:assert';
import path from 'node:path';
import type { RecordBatchHeader } from '../../common/record-batch.ts';
import { setBaseOffset, setPartitionLeaderEpoch, validateRecordBatch } from '../../common/record-batch.ts';
import { MiniKafkaError } from '../../common/errors.ts';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { FileIo } from './file-io.ts';
import { nodeFileIo } from './file-io.ts';
import { GroupCommit } from './group-commit.ts';
import type { LogConfig } from './log-config.ts';
import { NEVER } from './log-config.ts';
import { loadLog } from './log-loader.ts';
import type { SegmentRead } from './log-segment.ts';
import { LogSegment } from './log-segment.ts';
import type { ReadBuffers } from './read-buffers.ts';
import { swapInCleanedSegment } from './segment-swap.ts';
import type { StorageLogger, StorageMetrics } from './storage-observer.ts';
import { noStorageMetrics, silentLogger } from './storage-observer.ts';

/** Attribute bits a producer may set: compression (0-2), timestamp type (3), transactional (4), control (5). */
const PRODUCER_ATTRIBUTE_BITS = 0x3f;

/** The leader epoch stamped into bytes 12..15 of every stored batch: one broker, one epoch. */
const LEADER_EPOCH = 0;

export interface PartitionLogOptions {
  readonly dir: string;
  readonly config: LogConfig;
  readonly io?: FileIo;
  readonly clock?: Clock;
  readonly logger?: StorageLogger;
  readonly metrics?: StorageMetrics;
  /** False after an unclean stop: the log is scanned from `recoveryPoint` on. Default false. */
  readonly hadCleanShutdown?: boolean;
  /** From the recovery-point checkpoint; 0 (scan everything) when unknown. */
  readonly recoveryPoint?: number;
  /** From the log-start-offset checkpoint; 0 when unknown. */
  readonly logStartOffset?: number;
}

export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly recordCount: number;
  readonly maxTimestamp: number;
  readonly sizeBytes: number;
  /** Set when this append reached flush.messages: it resolves once the batch is fsynced. */
  readonly flushed: Promise<void> | null;
}

export interface LogRead extends SegmentRead {
  readonly segmentBaseOffset: number;
}

export interface SegmentInfo {
  readonly baseOffset: number;
  readonly nextOffset: number;
  readonly sizeBytes: number;
  readonly maxTimestamp: number;
}

export class PartitionLog {
  readonly dir: string;
  readonly #io: FileIo;
  readonly #clock: Clock;
  readonly #logger: StorageLogger;
  readonly #metrics: StorageMetrics;
  readonly #segments: LogSegment[];
  readonly #groupCommit: GroupCommit;
  readonly #appendListeners = new Set<(nextOffset: number) => void>();
  #config: LogConfig;
  #logStartOffset: number;
  #recoveryPoint: number;
  #unflushedMessages = 0;
  #flushTimer: NodeJS.Timeout | null = null;
  #isDirDirty: boolean;
  /** A new log's directory entry lives in the data directory, which must be fsynced once too. */
  #isParentDirDirty: boolean;
  #isClosed = false;
  /** Counts truncations, so that the log cleaner can tell that closed segments changed under it. */
  #truncations = 0;

  private constructor(options: PartitionLogOptions, segments: LogSegment[], logStartOffset: number, recoveryPoint: number, isNew: boolean) {
    this.dir = options.dir;
    this.#config = options.config;
    this.#io = options.io ?? nodeFileIo;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#metrics = options.metrics ?? noStorageMetrics;
    this.#segments = segments;
    this.#logStartOffset = logStartOffset;
    this.#recoveryPoint = recoveryPoint;
    this.#isDirDirty = isNew;
    this.#isParentDirDirty = isNew;
    this.#groupCommit = new GroupCommit(() => this.#flushRound());
  }

  /** Opens (or creates) the log in `dir`, recovering it if the last stop was not clean. */
  static open(options: PartitionLogOptions): PartitionLog {
    const loaded = loadLog({
      dir: options.dir,
      config: options.config,
      io: options.io ?? nodeFileIo,
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger,
      metrics: options.metrics ?? noStorageMetrics,
      hadCleanShutdown: options.hadCleanShutdown ?? false,
      recoveryPoint: options.recoveryPoint ?? 0,
      logStartOffset: options.logStartOffset ?? 0,
    });
    const log = new PartitionLog(options, loaded.segments, loaded.logStartOffset, loaded.recoveryPoint, loaded.isNew);
    // Whatever recovery cut or rebuilt must itself become durable before we build on it.
    if (loaded.recoveredBytes > 0 || loaded.isNew || loaded.finishedSwaps > 0) log.#isDirDirty = true;
    return log;
  }

  get config(): LogConfig {
    return this.#config;
  }
  get logStartOffset(): number {
    return this.#logStartOffset;
  }
  get nextOffset(): number {
    return this.#active.nextOffset;
  }
  /** On one broker the high watermark is the log end offset: every replica (the one) has it. */
  get highWatermark(): number {
    return this.nextOffset;
  }
  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }
  get sizeBytes(): number {
    return this.#segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
  }
  get segments(): SegmentInfo[] {
    return this.#segments.map((s) => ({ baseOffset: s.baseOffset, nextOffset: s.nextOffset, sizeBytes: s.sizeBytes, maxTimestamp: s.maxTimestamp }));
  }
  get #active(): LogSegment {
    return this.#segments[this.#segments.length - 1];
  }
  get isClosed(): boolean {
    return this.#isClosed;
  }
  /**
   * Every segment but the active one, oldest first: what the log cleaner may rewrite. A snapshot
   * of the list; read a segment only while `holdsSegment` says it is still part of the log.
   */
  get closedSegments(): readonly LogSegment[] {
    return this.#segments.slice(0, -1);
  }
  /** How many truncations this log object has done; a change tells the cleaner to start over. */
  get truncationCount(): number {
    return this.#truncations;
  }

  /** Whether `segment` is still one of this open log's segments (retention or truncation may have deleted it). */
  holdsSegment(segment: LogSegment): boolean {
    return !this.#isClosed && this.#segments.includes(segment);
  }

  /**
   * Swaps the cleaned segment in for `replaced`, consecutive closed segments of this log, once the
   * log cleaner has written and fsynced `<base>.log.cleaned` (segment-swap.ts). One synchronous
   * step: no read or append can see half a swap. Returns false and changes nothing if the log
   * changed under the cleaner: closed, a segment of `replaced` gone or active again, or a
   * truncation since `truncationCount` was `truncationCountSeen`. The directory is fsynced by the
   * next flush round, which the caller should run. Should the disk refuse a rename or unlink half
   * way (EIO, not a crash), the error propagates and this object no longer matches its files;
   * restarting completes the swap.
   */
  replaceSegments(replaced: readonly LogSegment[], truncationCountSeen: number): boolean {
    if (this.#isClosed || truncationCountSeen !== this.#truncations || replaced.length === 0) return false;
    const first = this.#segments.indexOf(replaced[0]);
    const isIntact = first >= 0 && first + replaced.length < this.#segments.length && replaced.every((segment, i) => this.#segments[first + i] === segment);
    if (!isIntact) return false;
    const cleaned = swapInCleanedSegment(this.#io, this.dir, replaced, this.#config, this.#clock.nowMs());
    this.#segments.splice(first, replaced.length, cleaned);
    this.#isDirDirty = true;
    return true;
  }

  /** Later appends use the new settings; existing segments keep their index interval. */
  updateConfig(config: LogConfig): void {
    this.#config = config;
  }

  /** Calls `listener` after every append with the new log end offset (long polls wait on this). */
  onAppend(listener: (nextOffset: number) => void): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  /**
   * Appends one record batch as produced (RecordBatch v2, any base offset) and returns the offsets
   * it got. The buffer is taken over: its base offset and leader epoch fields are rewritten in place.
   *
   * Throws CORRUPT_MESSAGE, UNSUPPORTED_COMPRESSION_TYPE or INVALID_RECORD for a bad batch,
   * MESSAGE_TOO_LARGE above max.message.bytes or segment.bytes, KAFKA_STORAGE_ERROR if the disk
   * refuses the write (the log stays valid and the append may be retried).
   */
  append(batch: Buffer): AppendResult {
    return this.appendValidated(batch, validateRecordBatch(batch, 0));
  }

  /**
   * append() for a caller that has just run validateRecordBatch on these very bytes and passes
   * its result (the produce path validates before its idempotence check, and the CRC is the
   * costliest part of an append, so it is computed once).
   */
  appendValidated(batch: Buffer, header: RecordBatchHeader): AppendResult {
    this.#assertOpen();
    this.#checkAppendable(batch, header);
    const baseOffset = this.nextOffset;
    this.#maybeRoll(header, baseOffset);
    setBaseOffset(batch, baseOffset, 0);
    setPartitionLeaderEpoch(batch, LEADER_EPOCH, 0);
    const lastOffset = baseOffset + header.lastOffsetDelta;
    this.#active.append(batch, { ...header, baseOffset, lastOffset, partitionLeaderEpoch: LEADER_EPOCH });
    this.#unflushedMessages += header.recordCount;
    const flushed = this.#applyFlushPolicy();
    for (const listener of this.#appendListeners) listener(lastOffset + 1);
    return { baseOffset, lastOffset, recordCount: header.recordCount, maxTimestamp: header.maxTimestamp, sizeBytes: header.sizeBytes, flushed };
  }

  /**
   * Reads whole batches from the one holding `offset`, at most `maxBytes` (but always one whole
   * batch), none at or above the high watermark. Returns null when there is
   * nothing at or after `offset` yet. Throws OFFSET_OUT_OF_RANGE outside [logStartOffset, nextOffset].
   * With `buffers`, the bytes are read into a buffer lent by that pool (read-buffers.ts): the
   * caller gives it back with `buffers.release(read.bytes)` once nothing reads it any more.
   */
  read(offset: number, maxBytes: number, options: { readonly buffers?: ReadBuffers } = {}): LogRead | null {
    this.#assertOpen();
    this.#checkOffsetInRange(offset);
    const maxOffset = this.highWatermark;
    const { buffers } = options;
    const allocate = buffers === undefined ? undefined : (size: number): Buffer => buffers.acquire(size);
    for (let i = this.#segmentIndexFor(offset); i < this.#segments.length; i++) {
      const segment = this.#segments[i];
      const result = segment.read(Math.max(offset, segment.baseOffset), maxBytes, maxOffset, allocate);
      if (result !== null) return { ...result, segmentBaseOffset: segment.baseOffset };
    }
    return null;
  }

  /**
   * Calls `visit` with the header of every batch from the one holding `fromOffset` to the end, in
   * order, without reading records: what rebuilding producer state after a restart needs.
   */
  forEachBatchHeader(fromOffset: number, visit: (header: RecordBatchHeader) => void): void {
    this.#assertOpen();
    const from = Math.max(fromOffset, this.#logStartOffset);
    for (let i = this.#segmentIndexFor(from); i < this.#segments.length; i++) this.#segments[i].forEachBatchHeader(from, visit);
  }

  /** The first offset at or after the log start whose record timestamp is ≥ `timestamp`, or null. */
  findOffsetByTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    this.#assertOpen();
    for (const segment of this.#segments) {
      if (segment.maxTimestamp < timestamp) continue;
      const found = segment.findOffsetByTimestamp(timestamp, this.#logStartOffset);
      if (found !== null) return found;
    }
    return null;
  }

  /** Starts a new active segment at the log end offset (no-op if the active segment is empty). */
  roll(): void {
    this.#assertOpen();
    const active = this.#active;
    if (active.isEmpty) return;
    active.markInactive();
    this.#segments.push(LogSegment.create(this.#io, this.dir, this.nextOffset, this.#config, this.#clock.nowMs()));
    this.#isDirDirty = true;
    this.#metrics.segmentRolled(this.dir);
    // As Kafka does on roll: fsync the closed segment (and the new file's directory entry) in the
    // background, so the recovery point moves up even when the flush policy never fsyncs.
    this.flush().catch((error: unknown) => this.#logger.error({ dir: this.dir, error }, 'background flush after roll failed'));
  }

  /**
   * Removes every batch from the one holding `offset` on, and returns the new log end offset
   * (`offset`, or the base offset of the batch that held it: batches are never split). Below the
   * log start offset, the whole log is emptied and restarts at `offset`.
   */
  truncateTo(offset: number): number {
    this.#assertOpen();
    assert(Number.isSafeInteger(offset) && offset >= 0, `bad truncation offset ${offset}`);
    if (offset >= this.nextOffset) return this.nextOffset;
    this.#truncations += 1;
    if (offset <= this.#logStartOffset) return this.#truncateFullyAndStartAt(offset);
    while (this.#segments.length > 1 && this.#active.baseOffset >= offset) this.#dropSegment(this.#segments.length - 1, 'truncation');
    const active = this.#active;
    active.reactivate();
    const nextOffset = active.truncateTo(offset);
    this.#recoveryPoint = Math.min(this.#recoveryPoint, nextOffset);
    return nextOffset;
  }

  /**
   * Applies retention.ms and retention.bytes: deletes closed segments, oldest first, while the
   * oldest is too old (its newest record is older than retention.ms) or the partition without it
   * is still at least retention.bytes. The active segment is never deleted. Returns how many went.
   */
  deleteOldSegments(): number {
    this.#assertOpen();
    const { retentionMs, retentionBytes } = this.#config;
    const nowMs = this.#clock.nowMs();
    let totalBytes = this.sizeBytes;
    let deleted = 0;
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0];
      const isTooOld = retentionMs >= 0 && oldest.maxTimestamp >= 0 && nowMs - oldest.maxTimestamp > retentionMs;
      const isOverSize = retentionBytes >= 0 && totalBytes - oldest.sizeBytes >= retentionBytes;
      const isBelowStart = oldest.nextOffset <= this.#logStartOffset;
      if (!isTooOld && !isOverSize && !isBelowStart) break;
      totalBytes -= oldest.sizeBytes;
      this.#dropSegment(0, 'retention');
      deleted += 1;
    }
    if (deleted > 0) {
      this.#logStartOffset = Math.max(this.#logStartOffset, this.#segments[0].baseOffset);
      this.#logger.info({ dir: this.dir, deleted, logStartOffset: this.#logStartOffset }, 'retention deleted segments');
    }
    return deleted;
  }

  /** Makes everything appended so far durable; concurrent callers share one fsync round. */
  flush(): Promise<void> {
    if (this.#isClosed) return Promise.resolve();
    // Nothing unflushed and no round in flight: a round already running may still be writing what
    // the caller appended, so only an idle group commit allows the shortcut.
    if (this.#groupCommit.isIdle && !this.#isDirDirty && this.#segments.every((s) => !s.needsFlush)) return Promise.resolve();
    return this.#groupCommit.request();
  }

  /** Flushes, writes every index, and closes the files. The log object is unusable afterwards. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#clearFlushTimer();
    this.#active.markInactive();
    await this.#groupCommit.idle();
    await this.flush();
    this.#isClosed = true;
    for (const segment of this.#segments) segment.close();
  }

  /** Closes the log and removes its directory with every file in it. */
  async delete(): Promise<void> {
    this.#clearFlushTimer();
    await this.#groupCommit.idle();
    this.#isClosed = true;
    for (const segment of this.#segments) segment.close();
    this.#io.removeDir(this.dir);
  }

  #checkAppendable(batch: Buffer, header: RecordBatchHeader): void {
    if (batch.length !== header.sizeBytes) {
      throw new MiniKafkaError('CORRUPT_MESSAGE', `an append takes exactly one record batch: got ${batch.length} bytes for a batch of ${header.sizeBytes}`, { dir: this.dir, bytes: batch.length, batchBytes: header.sizeBytes });
    }
    if (header.recordCount < 1 || header.lastOffsetDelta !== header.recordCount - 1) {
      // Kafka requires lastOffset - baseOffset + 1 == recordCount > 0: an empty batch would take no
      // offset, and the next batch would share its base offset.
      throw new MiniKafkaError('INVALID_RECORD', `a produced batch must hold at least one record with offset deltas 0..n-1: got ${header.recordCount} records, last offset delta ${header.lastOffsetDelta}`, { dir: this.dir, recordCount: header.recordCount, lastOffsetDelta: header.lastOffsetDelta });
    }
    if ((header.attributes & ~PRODUCER_ATTRIBUTE_BITS) !== 0) {
      // Bit 6 (hasDeleteHorizonMs) belongs to the log cleaner: set by a producer, it would make
      // the cleaner read the batch's base timestamp as a delete horizon and drop tombstones early.
      throw new MiniKafkaError('INVALID_RECORD', `record batch attributes 0x${header.attributes.toString(16)} set bits above 5, which only the broker may set`, { dir: this.dir, attributes: header.attributes });
    }
    if (header.isControl) {
      throw new MiniKafkaError('INVALID_RECORD', 'clients may not append control batches', { dir: this.dir });
    }
    const limit = Math.min(this.#config.maxMessageBytes, this.#config.segmentBytes);
    if (header.sizeBytes > limit) {
      const name = limit === this.#config.maxMessageBytes ? 'max.message.bytes' : 'segment.bytes';
      throw new MiniKafkaError('MESSAGE_TOO_LARGE', `record batch of ${header.sizeBytes} bytes is larger than ${name} (${limit})`, { dir: this.dir, batchBytes: header.sizeBytes, limit, config: name });
    }
  }

  #maybeRoll(header: RecordBatchHeader, baseOffset: number): void {
    const { segmentBytes, segmentMs } = this.#config;
    if (this.#active.shouldRoll(header, baseOffset, this.#clock.nowMs(), segmentBytes, segmentMs)) this.roll();
  }

  /** flush.messages: flush now and let the caller wait; flush.ms: make sure a timer will. */
  #applyFlushPolicy(): Promise<void> | null {
    const { flushMessages, flushMs } = this.#config;
    if (this.#unflushedMessages >= flushMessages) {
      this.#clearFlushTimer();
      return this.flush();
    }
    if (flushMs < NEVER && this.#flushTimer === null) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = null;
        this.flush().catch((error: unknown) => this.#logger.error({ dir: this.dir, error }, 'flush.ms flush failed'));
      }, flushMs);
      this.#flushTimer.unref();
    }
    return null;
  }

  /** One group-commit round: fsync every segment holding unflushed bytes, then the directory. */
  async #flushRound(): Promise<void> {
    // Everything below `target` is durable once the round ends: segments not dirty now were
    // covered by earlier rounds, the dirty ones are fsynced below.
    let target = this.nextOffset;
    this.#unflushedMessages = 0;
    this.#clearFlushTimer();
    const dirty = this.#segments.filter((segment) => segment.needsFlush);
    const isDirDirty = this.#isDirDirty;
    const isParentDirDirty = this.#isParentDirDirty;
    this.#isDirDirty = false;
    this.#isParentDirDirty = false;
    try {
      for (const segment of dirty) {
        // An fsync covers what the segment holds when it is issued, appends made during this
        // round included, so the round covers up to the segment's end at that moment.
        const coveredOffset = segment.nextOffset;
        await segment.flush();
        target = Math.max(target, coveredOffset);
      }
      if (isDirDirty) await this.#io.fsyncDir(this.dir);
      if (isParentDirDirty) await this.#io.fsyncDir(path.dirname(this.dir));
    } catch (error) {
      this.#isDirDirty ||= isDirDirty;
      this.#isParentDirDirty ||= isParentDirDirty;
      throw error;
    }
    // A truncation during the fsync may have moved the end below the target.
    this.#recoveryPoint = Math.max(this.#recoveryPoint, Math.min(target, this.nextOffset));
  }

  #truncateFullyAndStartAt(offset: number): number {
    while (this.#segments.length > 0) this.#dropSegment(this.#segments.length - 1, 'truncation');
    this.#segments.push(LogSegment.create(this.#io, this.dir, offset, this.#config, this.#clock.nowMs()));
    this.#logStartOffset = offset;
    this.#recoveryPoint = offset;
    this.#isDirDirty = true;
    return offset;
  }

  #dropSegment(index: number, reason: 'retention' | 'truncation'): void {
    const [segment] = this.#segments.splice(index, 1);
    segment.delete();
    this.#isDirDirty = true;
    this.#metrics.segmentDeleted(this.dir, reason);
  }

  /** The index of the segment holding `offset`: the last one whose base offset is ≤ it. */
  #segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.#segments.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.#segments[mid].baseOffset <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  #checkOffsetInRange(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < this.#logStartOffset || offset > this.nextOffset) {
      throw new MiniKafkaError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside the log: valid offsets are ${this.#logStartOffset} to ${this.nextOffset}`, {
        dir: this.dir,
        offset,
        logStartOffset: this.#logStartOffset,
        nextOffset: this.nextOffset,
      });
    }
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
  }

  #assertOpen(): void {
    assert(!this.#isClosed, `log ${this.dir} is closed`);
  }
}
