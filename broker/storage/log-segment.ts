/**
 * One segment of a partition log: a `.log` file of record batches and its two sparse indexes.
 *
 *   00000000000000000042.log        batches, exactly as produced, base offsets assigned
 *   00000000000000000042.index      relative offset -> position   (offset-index.ts)
 *   00000000000000000042.timeindex  timestamp -> relative offset  (time-index.ts)
 *
 * The .log file is a plain concatenation of RecordBatch v2 batches (common/record-batch.ts): no
 * header, no footer, no padding. Every offset in it is at or above the base offset in the name,
 * batches are in strictly increasing offset order (with gaps where the log cleaner removed records
 * or whole batches), and `lastOffset - baseOffset` fits an int32 (the indexes store relative
 * offsets in 4 bytes).
 *
 * Crash behaviour: a batch is written with one positional write at the end of the file. A crash
 * can leave a torn last batch or garbage past the last whole batch; `recover()` keeps the longest
 * prefix of batches whose CRC-32C checks out and whose offsets increase, and cuts the rest. The
 * indexes are derived from the .log and rebuilt whenever they look wrong.
 */

import assert from 'node:assert';
import path from 'node:path';
import type { DecodedRecord, RecordBatchHeader } from '../../common/record-batch.ts';
import { TimestampType, decodeRecordBatch, isCrcValid } from '../../common/record-batch.ts';
import { MiniKafkaError } from '../../common/errors.ts';
import { HeaderPosition } from '../../common/record-batch-header.ts';
import { BatchScanner } from './batch-scanner.ts';
import type { ScannedBatch } from './batch-scanner.ts';
import type { FileIo } from './file-io.ts';
import { DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, offsetFileName } from './file-names.ts';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';

const MAX_RELATIVE_OFFSET = 0x7fffffff;
/** Chunk for header-only scans: enough for an index interval of small batches in one read. */
const LOOKUP_CHUNK_BYTES = 16 * 1024;

export interface SegmentSettings {
  readonly indexIntervalBytes: number;
  readonly segmentIndexBytes: number;
}

export interface SegmentRecovery {
  readonly validBytes: number;
  readonly truncatedBytes: number;
  /** Offset after the last valid batch (the base offset if none survived). */
  readonly nextOffset: number;
  readonly validBatches: number;
  /** Why the scan stopped: end of file, a torn batch, bad bytes, a CRC or offset mismatch. */
  readonly stopReason: 'end' | 'partial' | 'invalid' | 'crc' | 'offset';
}

export interface SegmentRead {
  readonly position: number;
  readonly bytes: Buffer;
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** The records the batches in `bytes` hold (their headers' recordCount), for the metrics. */
  readonly recordCount: number;
}

export interface FoundBatch {
  readonly position: number;
  readonly header: RecordBatchHeader;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly dir: string;
  readonly #io: FileIo;
  readonly #settings: SegmentSettings;
  readonly #offsetIndex: OffsetIndex;
  readonly #timeIndex: TimeIndex;
  readonly #fd: number;
  readonly #createdMs: number;
  #sizeBytes: number;
  #nextOffset: number;
  #bytesSinceLastIndexEntry = 0;
  #maxTimestamp = -1;
  #offsetOfMaxTimestamp: number;
  /** Max timestamp of the first batch: what segment.ms measures from (Kafka's rollingBasedTimestamp). */
  #rollingBaseTimestamp = -1;
  #isActive = true;
  #isDirty = false;
  /** Set when the segment becomes inactive: its indexes must be fsynced once before it sits below the recovery point. */
  #needsIndexSync = false;
  #fsyncsInFlight = 0;
  #isCloseRequested = false;
  #isClosed = false;

  private constructor(io: FileIo, dir: string, baseOffset: number, settings: SegmentSettings, nowMs: number, fd: number, offsetIndex: OffsetIndex, timeIndex: TimeIndex) {
    this.#io = io;
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.#settings = settings;
    this.#createdMs = nowMs;
    this.#fd = fd;
    this.#offsetIndex = offsetIndex;
    this.#timeIndex = timeIndex;
    this.#sizeBytes = io.sizeOf(fd);
    this.#nextOffset = baseOffset;
    this.#offsetOfMaxTimestamp = baseOffset;
  }

  /** Creates an empty segment. Stale files of the same name (left by a truncation) are replaced. */
  static create(io: FileIo, dir: string, baseOffset: number, settings: SegmentSettings, nowMs: number): LogSegment {
    for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
      const file = path.join(dir, offsetFileName(baseOffset, suffix));
      if (io.exists(file)) io.unlink(file);
    }
    return LogSegment.open(io, dir, baseOffset, settings, nowMs).segment;
  }

  /**
   * Opens a segment's files (creating missing index files) and loads its tail. `isSane` is false
   * when an index is missing, the wrong size or inconsistent with the log; the caller must then
   * call `recover()`, which rebuilds both indexes.
   */
  static open(io: FileIo, dir: string, baseOffset: number, settings: SegmentSettings, nowMs: number): { segment: LogSegment; isSane: boolean } {
    const logPath = path.join(dir, offsetFileName(baseOffset, LOG_SUFFIX));
    const indexPath = path.join(dir, offsetFileName(baseOffset, INDEX_SUFFIX));
    const timeIndexPath = path.join(dir, offsetFileName(baseOffset, TIME_INDEX_SUFFIX));
    const hadIndexes = io.exists(indexPath) && io.exists(timeIndexPath);
    const fd = io.open(logPath, io.exists(logPath) ? 'r+' : 'wx+');
    const offsets = OffsetIndex.open(io, indexPath, baseOffset, settings.segmentIndexBytes);
    const times = TimeIndex.open(io, timeIndexPath, baseOffset, settings.segmentIndexBytes);
    const segment = new LogSegment(io, dir, baseOffset, settings, nowMs, fd, offsets.index, times.index);
    let isSane = hadIndexes && offsets.isWellSized && times.isWellSized && offsets.index.isSane(segment.#sizeBytes);
    isSane = isSane && segment.#loadTail() && times.index.isSane(segment.#nextOffset);
    return { segment, isSane };
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }
  /** The offset after this segment's last batch; the base offset while it is empty. */
  get nextOffset(): number {
    return this.#nextOffset;
  }
  /** The largest record timestamp in the segment, -1 if none: what retention.ms compares. */
  get maxTimestamp(): number {
    return this.#maxTimestamp;
  }
  get isEmpty(): boolean {
    return this.#sizeBytes === 0;
  }
  /** Holds bytes (or, once inactive, index entries) that no fsync has covered yet. */
  get needsFlush(): boolean {
    return this.#isDirty || this.#needsIndexSync;
  }
  get offsetIndex(): OffsetIndex {
    return this.#offsetIndex;
  }
  get timeIndex(): TimeIndex {
    return this.#timeIndex;
  }
  get logPath(): string {
    return path.join(this.dir, offsetFileName(this.baseOffset, LOG_SUFFIX));
  }

  /**
   * Kafka's roll rules (LogSegment.shouldRoll): the batch would push the segment past
   * segment.bytes, its records are more than segment.ms newer than the segment's first batch, an
   * index is full, or its last offset would not fit a relative offset.
   */
  shouldRoll(incoming: RecordBatchHeader, incomingBaseOffset: number, nowMs: number, segmentBytes: number, segmentMs: number): boolean {
    if (this.#sizeBytes === 0) return false;
    const waitedMs = this.#rollingBaseTimestamp >= 0 && incoming.maxTimestamp >= 0 ? incoming.maxTimestamp - this.#rollingBaseTimestamp : nowMs - this.#createdMs;
    return (
      this.#sizeBytes > segmentBytes - incoming.sizeBytes ||
      waitedMs > segmentMs ||
      this.#offsetIndex.isFull ||
      this.#timeIndex.isFull ||
      incomingBaseOffset + incoming.lastOffsetDelta - this.baseOffset > MAX_RELATIVE_OFFSET
    );
  }

  /**
   * Appends one batch whose base offset is already assigned. One positional write; on failure the
   * file is cut back to where it was, so the segment stays a whole number of batches.
   */
  append(batch: Buffer, header: RecordBatchHeader): number {
    assert(this.#isActive && !this.#isClosed, `append to inactive segment ${this.baseOffset}`);
    assert(header.baseOffset >= this.#nextOffset, `offset ${header.baseOffset} below segment end ${this.#nextOffset}`);
    assert(header.lastOffset - this.baseOffset <= MAX_RELATIVE_OFFSET);
    const position = this.#sizeBytes;
    try {
      this.#io.write(this.#fd, batch, 0, batch.length, position);
    } catch (error) {
      this.#cutBackAfterFailedWrite(position);
      throw new MiniKafkaError('KAFKA_STORAGE_ERROR', `append to ${this.logPath} at position ${position} failed: ${(error as Error).message}`, { file: this.logPath, position }, { cause: error });
    }
    this.#sizeBytes = position + batch.length;
    this.#isDirty = true;
    this.#indexBatch(header, position);
    return position;
  }

  /** The first batch whose last offset is at or above `targetOffset`, found through the index. */
  findBatch(targetOffset: number): FoundBatch | null {
    const entry = this.#offsetIndex.lookup(targetOffset);
    const scanner = new BatchScanner(this.#io, this.#fd, this.#sizeBytes, entry.position, { wholeBatches: false, chunkBytes: LOOKUP_CHUNK_BYTES });
    let batch = scanner.next();
    // An index entry names the last offset of the batch it points at; if it does not, the index
    // is damaged (it is not checksummed): rebuild it and look again.
    if (entry.position > 0 && (batch === null || batch.header.lastOffset !== entry.offset)) {
      this.rebuildIndexes();
      return this.findBatch(targetOffset);
    }
    for (; batch !== null; batch = scanner.next()) {
      if (batch.header.lastOffset >= targetOffset) return { position: batch.position, header: batch.header };
    }
    if (scanner.stopReason !== 'end') throw this.#corruptAt(scanner.position);
    return null;
  }

  /** Calls `visit` with the header of every batch from the one holding `fromOffset` to the end. */
  forEachBatchHeader(fromOffset: number, visit: (header: RecordBatchHeader) => void): void {
    const first = this.findBatch(fromOffset);
    if (first === null) return;
    const scanner = new BatchScanner(this.#io, this.#fd, this.#sizeBytes, first.position, { wholeBatches: false });
    for (let batch = scanner.next(); batch !== null; batch = scanner.next()) visit(batch.header);
  }

  /**
   * Every batch of the segment, whole and in order from byte 0: what the log cleaner recopies.
   * Each batch's bytes are a view valid until the next step; consume the generator without an
   * `await` in between, since the segment may be deleted meanwhile. Throws KAFKA_STORAGE_ERROR if
   * the file is not whole batches.
   */
  *batches(): Generator<ScannedBatch> {
    assert(!this.#isClosed && !this.#isCloseRequested, `segment ${this.logPath} is closed`);
    const scanner = new BatchScanner(this.#io, this.#fd, this.#sizeBytes, 0, { wholeBatches: true });
    for (let batch = scanner.next(); batch !== null; batch = scanner.next()) yield batch;
    if (scanner.stopReason !== 'end') throw this.#corruptAt(scanner.position);
  }

  /**
   * Whole batches starting with the one that holds `startOffset`, up to `maxBytes` (the first batch
   * is returned whole even if larger, so a consumer always makes progress, as in Kafka since
   * KIP-74), stopping before any batch that reaches `maxOffset` (exclusive: the high watermark).
   */
  read(startOffset: number, maxBytes: number, maxOffset: number, allocate: (size: number) => Buffer = Buffer.allocUnsafe): SegmentRead | null {
    const first = this.findBatch(startOffset);
    if (first === null || first.header.lastOffset >= maxOffset) return null;
    const wantedBytes = Math.max(first.header.sizeBytes, Math.min(maxBytes, this.#sizeBytes - first.position));
    const buffer = allocate(wantedBytes);
    const readBytes = this.#io.read(this.#fd, buffer, 0, wantedBytes, first.position);
    assert(readBytes === wantedBytes, `short read of ${this.logPath} at ${first.position}`);
    // Keep whole batches below maxOffset; the chunk may end inside one.
    let end = 0;
    let lastOffset = first.header.lastOffset;
    let recordCount = 0;
    while (end + 12 <= readBytes) {
      const sizeBytes = 12 + buffer.readInt32BE(end + 8);
      if (end + sizeBytes > readBytes) break;
      const batchLastOffset = readBaseOffset(buffer, end) + buffer.readInt32BE(end + 23);
      if (batchLastOffset >= maxOffset) break;
      lastOffset = batchLastOffset;
      recordCount += buffer.readInt32BE(end + HeaderPosition.recordCount);
      end += sizeBytes;
    }
    assert(end > 0, 'the first batch is always whole');
    return { position: first.position, bytes: buffer.subarray(0, end), firstOffset: first.header.baseOffset, lastOffset, recordCount };
  }

  /**
   * The first record at or after `minOffset` whose timestamp is at or above `targetTimestamp`
   * (Kafka's ListOffsets by time), or null if the segment has none.
   */
  findOffsetByTimestamp(targetTimestamp: number, minOffset: number): { offset: number; timestamp: number } | null {
    if (this.#maxTimestamp < targetTimestamp) return null;
    const startOffset = Math.max(this.#timeIndex.lookup(targetTimestamp).offset, minOffset);
    const first = this.findBatch(startOffset);
    if (first === null) return null;
    const scanner = new BatchScanner(this.#io, this.#fd, this.#sizeBytes, first.position, { wholeBatches: true, chunkBytes: LOOKUP_CHUNK_BYTES });
    for (let batch = scanner.next(); batch !== null; batch = scanner.next()) {
      if (batch.header.maxTimestamp < targetTimestamp || batch.header.lastOffset < minOffset) continue;
      for (const record of decodeRecordBatch(batch.bytes!).records) {
        const timestamp = recordTimestamp(batch.header, record);
        if (record.offset >= minOffset && timestamp >= targetTimestamp) return { offset: record.offset, timestamp };
      }
    }
    return null;
  }

  /**
   * Scans the whole .log from byte 0, keeps the longest valid prefix, cuts the rest and rebuilds
   * both indexes. Valid means: a whole v2 batch, CRC-32C correct, offsets above the previous
   * batch's and inside this segment's relative range.
   */
  recover(): SegmentRecovery {
    this.#resetDerivedState();
    const fileSizeBytes = this.#sizeBytes;
    const scanner = new BatchScanner(this.#io, this.#fd, fileSizeBytes, 0, { wholeBatches: true });
    let stopReason: SegmentRecovery['stopReason'] = 'end';
    let validBytes = 0;
    let validBatches = 0;
    for (let batch = scanner.next(); batch !== null; batch = scanner.next()) {
      const { header } = batch;
      if (!isCrcValid(batch.bytes!)) {
        stopReason = 'crc';
        break;
      }
      if (header.baseOffset < this.#nextOffset || header.lastOffsetDelta < 0 || header.lastOffset - this.baseOffset > MAX_RELATIVE_OFFSET) {
        stopReason = 'offset';
        break;
      }
      this.#indexBatch(header, batch.position);
      validBytes = batch.position + header.sizeBytes;
      validBatches += 1;
    }
    if (stopReason === 'end' && scanner.stopReason !== 'end') stopReason = scanner.stopReason!;
    if (validBytes < fileSizeBytes) {
      this.#io.truncate(this.#fd, validBytes);
      this.#sizeBytes = validBytes;
      this.#isDirty = true;
    }
    this.#offsetIndex.writeToFile();
    this.#timeIndex.writeToFile();
    this.#needsIndexSync = true;
    return { validBytes, truncatedBytes: fileSizeBytes - validBytes, nextOffset: this.#nextOffset, validBatches, stopReason };
  }

  /** Rebuilds the indexes of a segment whose log is trusted; a structurally broken log is an error. */
  rebuildIndexes(): void {
    const sizeBefore = this.#sizeBytes;
    this.#resetDerivedState();
    const scanner = new BatchScanner(this.#io, this.#fd, sizeBefore, 0, { wholeBatches: false });
    for (let batch = scanner.next(); batch !== null; batch = scanner.next()) this.#indexBatch(batch.header, batch.position);
    if (scanner.stopReason !== 'end') throw this.#corruptAt(scanner.position);
    this.#needsIndexSync = true;
  }

  /**
   * Removes every batch from the one holding `offset` on (a batch is never split), and returns the
   * new end offset: `offset` itself when it falls on a batch boundary or in a gap, else the base
   * offset of the batch that held it.
   */
  truncateTo(offset: number): number {
    const found = this.findBatch(offset);
    if (found === null) return this.#nextOffset;
    const cutOffset = Math.min(offset, found.header.baseOffset);
    this.#offsetIndex.truncateTo(found.header.baseOffset);
    this.#timeIndex.truncateTo(found.header.baseOffset);
    this.#io.truncate(this.#fd, found.position);
    this.#sizeBytes = found.position;
    this.#isDirty = true;
    const isLoaded = this.#loadTail();
    assert(isLoaded, `segment ${this.baseOffset} has a bad tail after truncation`);
    this.#nextOffset = Math.max(this.#nextOffset, cutOffset);
    return this.#nextOffset;
  }

  /** After a truncation removed every later segment, this one takes appends again. */
  reactivate(): void {
    this.#isActive = true;
    this.#needsIndexSync = false;
  }

  /**
   * The segment stops taking appends: its largest timestamp goes into the time index, as Kafka does
   * on roll, and its indexes must be fsynced once. A segment loaded at startup whose indexes
   * passed the sanity check has them on disk already (`indexesAreDurable`).
   */
  markInactive(indexesAreDurable = false): void {
    if (!this.#isActive) return;
    this.#isActive = false;
    this.#needsIndexSync = !indexesAreDurable;
    if (this.#sizeBytes > 0) this.#timeIndex.maybeAppend(this.#maxTimestamp, this.#offsetOfMaxTimestamp);
  }

  /**
   * Makes the log durable; for an inactive segment, its indexes too (it will sit below the
   * recovery point and never be scanned again). Appends during the fsync mark it dirty again.
   */
  async flush(): Promise<void> {
    if (this.#isClosed || this.#isCloseRequested || !this.needsFlush) return;
    const includeIndexes = this.#needsIndexSync;
    this.#isDirty = false;
    this.#needsIndexSync = false;
    this.#fsyncsInFlight += 1;
    try {
      await this.#io.fsync(this.#fd);
      if (includeIndexes) {
        await this.#offsetIndex.fsync();
        await this.#timeIndex.fsync();
      }
    } catch (error) {
      this.#isDirty = true;
      this.#needsIndexSync ||= includeIndexes;
      throw new MiniKafkaError('KAFKA_STORAGE_ERROR', `fsync of ${this.logPath} failed: ${(error as Error).message}`, { file: this.logPath }, { cause: error });
    } finally {
      this.#fsyncsInFlight -= 1;
      if (this.#isCloseRequested && this.#fsyncsInFlight === 0) this.#closeFiles(true);
    }
  }

  /** Closes the files, writing index entries out first. Waits for an fsync in flight to finish. */
  close(): void {
    this.#requestClose(true);
  }

  /**
   * Deletes the segment: its files are renamed `*.deleted` first, so a crash part way leaves names
   * that startup recognises and finishes removing, never a half-deleted segment posing as live.
   */
  delete(): void {
    this.#requestClose(false);
    for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
      const file = path.join(this.dir, offsetFileName(this.baseOffset, suffix));
      if (this.#io.exists(file)) this.#io.rename(file, file + DELETED_SUFFIX);
    }
    for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
      const file = path.join(this.dir, offsetFileName(this.baseOffset, suffix) + DELETED_SUFFIX);
      if (this.#io.exists(file)) this.#io.unlink(file);
    }
  }

  #requestClose(writeIndexes: boolean): void {
    if (this.#isClosed || this.#isCloseRequested) return;
    this.#isCloseRequested = true;
    if (this.#fsyncsInFlight === 0) this.#closeFiles(writeIndexes);
  }

  #closeFiles(writeIndexes: boolean): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    if (writeIndexes) {
      this.#offsetIndex.close();
      this.#timeIndex.close();
    } else {
      this.#offsetIndex.closeWithoutWriting();
      this.#timeIndex.closeWithoutWriting();
    }
    this.#io.close(this.#fd);
  }

  /** Index bookkeeping for one batch at `position`, shared by append and recovery (LogSegment.append). */
  #indexBatch(header: RecordBatchHeader, position: number): void {
    if (header.maxTimestamp > this.#maxTimestamp) {
      this.#maxTimestamp = header.maxTimestamp;
      this.#offsetOfMaxTimestamp = header.lastOffset;
    }
    if (position === 0) this.#rollingBaseTimestamp = header.maxTimestamp;
    if (this.#bytesSinceLastIndexEntry > this.#settings.indexIntervalBytes) {
      if (!this.#offsetIndex.isFull) this.#offsetIndex.append(header.lastOffset, position);
      this.#timeIndex.maybeAppend(this.#maxTimestamp, this.#offsetOfMaxTimestamp);
      this.#bytesSinceLastIndexEntry = 0;
    }
    this.#bytesSinceLastIndexEntry += header.sizeBytes;
    this.#nextOffset = header.lastOffset + 1;
  }

  #resetDerivedState(): void {
    this.#offsetIndex.reset();
    this.#timeIndex.reset();
    this.#bytesSinceLastIndexEntry = 0;
    this.#maxTimestamp = -1;
    this.#offsetOfMaxTimestamp = this.baseOffset;
    this.#rollingBaseTimestamp = -1;
    this.#nextOffset = this.baseOffset;
  }

  /**
   * Derives the in-memory state a trusted segment needs (end offset, largest timestamp, bytes
   * since the last index entry, first batch's timestamp) from the last index entries plus a scan
   * of the batches after them. Returns false if the tail is not whole batches.
   */
  #loadTail(): boolean {
    const lastEntry = this.#offsetIndex.entries > 0 ? this.#offsetIndex.entryAt(this.#offsetIndex.entries - 1) : { offset: this.baseOffset, position: 0 };
    const lastTime = this.#timeIndex.lastEntry;
    this.#maxTimestamp = lastTime?.timestamp ?? -1;
    this.#offsetOfMaxTimestamp = lastTime?.offset ?? this.baseOffset;
    this.#nextOffset = this.baseOffset;
    this.#rollingBaseTimestamp = -1;
    if (this.#sizeBytes > 0) {
      const first = new BatchScanner(this.#io, this.#fd, this.#sizeBytes, 0, { wholeBatches: false, chunkBytes: 4096 }).next();
      if (first === null) return false;
      this.#rollingBaseTimestamp = first.header.maxTimestamp;
    }
    const scanner = new BatchScanner(this.#io, this.#fd, this.#sizeBytes, lastEntry.position, { wholeBatches: false, chunkBytes: LOOKUP_CHUNK_BYTES });
    let isFirst = true;
    for (let batch = scanner.next(); batch !== null; batch = scanner.next()) {
      if (isFirst && lastEntry.position > 0 && batch.header.lastOffset !== lastEntry.offset) return false;
      isFirst = false;
      if (batch.header.maxTimestamp > this.#maxTimestamp) {
        this.#maxTimestamp = batch.header.maxTimestamp;
        this.#offsetOfMaxTimestamp = batch.header.lastOffset;
      }
      this.#nextOffset = batch.header.lastOffset + 1;
    }
    this.#bytesSinceLastIndexEntry = this.#sizeBytes - lastEntry.position;
    return scanner.stopReason === 'end';
  }

  #cutBackAfterFailedWrite(position: number): void {
    try {
      this.#io.truncate(this.#fd, position);
    } catch {
      // The disk refused the write and now the truncate: the segment may hold a torn tail, which
      // the next recovery cuts. Nothing was acknowledged for it.
    }
  }

  #corruptAt(position: number): MiniKafkaError {
    return new MiniKafkaError('KAFKA_STORAGE_ERROR', `segment ${this.logPath} holds bytes that are not a record batch at position ${position}; restart the broker to recover it`, { file: this.logPath, position });
  }
}

/** Kafka gives every record of a LogAppendTime batch the batch's maxTimestamp. */
function recordTimestamp(header: RecordBatchHeader, record: DecodedRecord): number {
  return header.timestampType === TimestampType.logAppendTime ? header.maxTimestamp : record.timestamp;
}

function readBaseOffset(buffer: Buffer, at: number): number {
  return buffer.readInt32BE(at) * 0x1_0000_0000 + buffer.readUInt32BE(at + 4);
}
