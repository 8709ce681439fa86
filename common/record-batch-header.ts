/**
 * The frame of a record batch in format v2 ("magic 2"): the fixed 61-byte header (field positions,
 * attribute bits, reading it), the checks that need no record parsing (length, magic, CRC, codec),
 * walking batches laid end to end, and the two in-place rewrites a broker makes on append
 * (kafka-facts §2.1). Records are encoded and decoded in record-batch.ts.
 *
 * | position | bytes | field                | notes                                                    |
 * |---------:|------:|----------------------|----------------------------------------------------------|
 * |        0 |     8 | baseOffset           | int64; the producer sends 0, the broker assigns it       |
 * |        8 |     4 | batchLength          | int32; bytes after this field = batch size − 12          |
 * |       12 |     4 | partitionLeaderEpoch | int32; −1 from producers, stamped by the broker          |
 * |       16 |     1 | magic                | int8; 2 (the same position in every format version)      |
 * |       17 |     4 | crc                  | uint32; CRC-32C of bytes [21, end of batch)              |
 * |       21 |     2 | attributes           | int16; bits 0–2 compression, 3 timestamp type, 4 transactional, 5 control |
 * |       23 |     4 | lastOffsetDelta      | int32; last offset − baseOffset                          |
 * |       27 |     8 | baseTimestamp        | int64; first record's timestamp                          |
 * |       35 |     8 | maxTimestamp         | int64; largest record timestamp (or log-append time)     |
 * |       43 |     8 | producerId           | int64; −1 when not idempotent                            |
 * |       51 |     2 | producerEpoch        | int16; −1 when no producer id                            |
 * |       53 |     4 | baseSequence         | int32; −1 when no producer id                            |
 * |       57 |     4 | recordCount          | int32                                                    |
 * |       61 |     … | records              | one gzip blob instead when compressed                    |
 *
 * Integers are big-endian. The CRC does not cover bytes 0..20, so baseOffset and the leader epoch
 * can be rewritten without recomputing it. Invariants: int64 fields become JS numbers only if they
 * are safe integers, otherwise the header is corrupt (CORRUPT_MESSAGE); `readRecordBatchHeader`
 * checks nothing else (neither magic nor CRC), `validateBatchFrame` checks the rest of the frame.
 */
import assert from 'node:assert';
import { crc32c } from './crc32c.ts';
import { MiniKafkaError } from './errors.ts';

/** RECORD_BATCH_OVERHEAD in Kafka: the header, without records. */
export const BATCH_HEADER_BYTES = 61;
/** LOG_OVERHEAD in Kafka: baseOffset and batchLength, the bytes batchLength does not count. */
export const LOG_OVERHEAD_BYTES = 12;
/** The smallest legal batchLength: a header with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES;
export const MAGIC_V2 = 2;

export const CompressionType = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof CompressionType;
export const TimestampType = { createTime: 0, logAppendTime: 1 } as const;

/** Where each header field starts, counted from the first byte of the batch. */
export const HeaderPosition = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

/** The CRC covers the batch from the attributes field to its end. */
export const CRC_START_POSITION = HeaderPosition.attributes;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_BIT = 0x08;
const TRANSACTIONAL_BIT = 0x10;
const CONTROL_BIT = 0x20;

export interface RecordBatchHeader {
  readonly baseOffset: number;
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  readonly crc: number;
  readonly attributes: number;
  readonly compression: number;
  readonly timestampType: number;
  readonly isTransactional: boolean;
  readonly isControl: boolean;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
  /** baseOffset + lastOffsetDelta */
  readonly lastOffset: number;
  /** LOG_OVERHEAD_BYTES + batchLength */
  readonly sizeBytes: number;
}

export function encodeAttributes(compression: number, timestampType: number, isTransactional: boolean, isControl: boolean): number {
  assert((compression & COMPRESSION_MASK) === compression, 'compression fits bits 0–2');
  assert(timestampType === TimestampType.createTime || timestampType === TimestampType.logAppendTime, 'timestamp type is 0 or 1');
  return compression | (timestampType === TimestampType.logAppendTime ? TIMESTAMP_TYPE_BIT : 0) |
    (isTransactional ? TRANSACTIONAL_BIT : 0) | (isControl ? CONTROL_BIT : 0);
}

/** The codec's name for messages: `gzip`, `zstd`, or `unknown (6)` for ids Kafka does not define. */
export function compressionName(compression: number): string {
  for (const [name, id] of Object.entries(CompressionType)) {
    if (id === compression) return name;
  }
  return `unknown (${compression})`;
}

/**
 * Reads the 61 header bytes of the batch at `position`; records, magic and CRC are not checked.
 * Throws CORRUPT_MESSAGE if fewer than 61 bytes remain, or if an int64 field or the last offset is
 * not a safe integer.
 */
export function readRecordBatchHeader(buf: Buffer, position = 0): RecordBatchHeader {
  assert(Number.isInteger(position) && position >= 0, 'position is a non-negative integer');
  const availableBytes = Math.max(buf.length - position, 0);
  if (availableBytes < BATCH_HEADER_BYTES) throw truncatedHeaderError(position, availableBytes);
  const baseOffset = readSafeInt64(buf, position, HeaderPosition.baseOffset, 'baseOffset');
  const batchLength = buf.readInt32BE(position + HeaderPosition.batchLength);
  const attributes = buf.readInt16BE(position + HeaderPosition.attributes);
  const lastOffsetDelta = buf.readInt32BE(position + HeaderPosition.lastOffsetDelta);
  const lastOffset = baseOffset + lastOffsetDelta;
  if (!Number.isSafeInteger(lastOffset)) {
    throw corruptBatch(position, `has a last offset beyond 2^53 − 1 (baseOffset ${baseOffset}, lastOffsetDelta ${lastOffsetDelta})`, { baseOffset, lastOffsetDelta });
  }
  // One object literal with every field in a fixed order keeps a single hidden class.
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(position + HeaderPosition.partitionLeaderEpoch),
    magic: buf.readInt8(position + HeaderPosition.magic),
    crc: buf.readUInt32BE(position + HeaderPosition.crc),
    attributes,
    compression: attributes & COMPRESSION_MASK,
    timestampType: (attributes & TIMESTAMP_TYPE_BIT) === 0 ? TimestampType.createTime : TimestampType.logAppendTime,
    isTransactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    isControl: (attributes & CONTROL_BIT) !== 0,
    lastOffsetDelta,
    baseTimestamp: readSafeInt64(buf, position, HeaderPosition.baseTimestamp, 'baseTimestamp'),
    maxTimestamp: readSafeInt64(buf, position, HeaderPosition.maxTimestamp, 'maxTimestamp'),
    producerId: readSafeInt64(buf, position, HeaderPosition.producerId, 'producerId'),
    producerEpoch: buf.readInt16BE(position + HeaderPosition.producerEpoch),
    baseSequence: buf.readInt32BE(position + HeaderPosition.baseSequence),
    recordCount: buf.readInt32BE(position + HeaderPosition.recordCount),
    lastOffset,
    sizeBytes: LOG_OVERHEAD_BYTES + batchLength,
  };
}

/** Rewrites bytes 0..7 of the batch at `position`. The CRC does not cover them, so it stays valid. */
export function setBaseOffset(buf: Buffer, baseOffset: number, position = 0): void {
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, 'baseOffset is a non-negative safe integer');
  assert(Number.isInteger(position) && position >= 0 && position + BATCH_HEADER_BYTES <= buf.length, 'a whole header lies at position');
  writeInt64(buf, baseOffset, position + HeaderPosition.baseOffset);
}

/** Rewrites bytes 12..15 of the batch at `position`. The CRC does not cover them, so it stays valid. */
export function setPartitionLeaderEpoch(buf: Buffer, epoch: number, position = 0): void {
  assert((epoch | 0) === epoch, 'the leader epoch is an int32');
  assert(Number.isInteger(position) && position >= 0 && position + BATCH_HEADER_BYTES <= buf.length, 'a whole header lies at position');
  buf.writeInt32BE(epoch, position + HeaderPosition.partitionLeaderEpoch);
}

/**
 * Stamps the broker's clock into a batch for topics with message.timestamp.type=LogAppendTime:
 * sets the timestamp-type bit and maxTimestamp, then recomputes the CRC, which covers both
 * (Kafka's setMaxTimestamp). Consumers then read maxTimestamp as every record's timestamp.
 */
export function setLogAppendTime(buf: Buffer, timestampMs: number, position = 0): void {
  assert(Number.isSafeInteger(timestampMs) && timestampMs >= 0, 'the append time is a non-negative safe integer');
  assert(Number.isInteger(position) && position >= 0 && position + BATCH_HEADER_BYTES <= buf.length, 'a whole header lies at position');
  const attributes = buf.readInt16BE(position + HeaderPosition.attributes);
  buf.writeInt16BE(attributes | (TimestampType.logAppendTime << 3), position + HeaderPosition.attributes);
  writeInt64(buf, timestampMs, position + HeaderPosition.maxTimestamp);
  const end = position + LOG_OVERHEAD_BYTES + buf.readInt32BE(position + HeaderPosition.batchLength);
  buf.writeUInt32BE(crc32c(buf, position + CRC_START_POSITION, end), position + HeaderPosition.crc);
}

/** Whether the batch at `position` is whole and its CRC-32C matches; never throws on bad bytes. */
export function isCrcValid(buf: Buffer, position = 0): boolean {
  assert(Number.isInteger(position) && position >= 0, 'position is a non-negative integer');
  if (buf.length - position < BATCH_HEADER_BYTES) return false;
  const batchLength = buf.readInt32BE(position + HeaderPosition.batchLength);
  const end = position + LOG_OVERHEAD_BYTES + batchLength;
  if (batchLength < MIN_BATCH_LENGTH || end > buf.length) return false;
  return crc32c(buf, position + CRC_START_POSITION, end) === buf.readUInt32BE(position + HeaderPosition.crc);
}

/**
 * Walks the batches laid end to end in `buf` (a segment slice, a fetch response), reading headers
 * only. Stops without error at a trailing partial batch, since a fetch may end mid-batch as Kafka's
 * does. Throws CORRUPT_MESSAGE when a batchLength is too small to step over safely.
 */
export function* iterateRecordBatches(buf: Buffer): Generator<{ position: number; header: RecordBatchHeader }> {
  let position = 0;
  // Each step advances by at least 61 bytes, so the loop ends within buf.length / 61 steps.
  while (buf.length - position >= BATCH_HEADER_BYTES) {
    const header = readRecordBatchHeader(buf, position);
    if (header.batchLength < MIN_BATCH_LENGTH) throw batchLengthError(position, header.batchLength);
    if (header.sizeBytes > buf.length - position) return;
    yield { position, header };
    position += header.sizeBytes;
  }
}

/**
 * Checks everything about the batch at `position` that needs no record parsing: its length, that
 * it is whole, magic, CRC, codec and record count. Returns the header.
 *
 * Length, magic and CRC are checked on the raw bytes before the header is interpreted, so that a
 * flipped bit anywhere under the CRC is reported as a CRC failure, not as an odd field value.
 */
export function validateBatchFrame(buf: Buffer, position: number): RecordBatchHeader {
  assert(Number.isInteger(position) && position >= 0, 'position is a non-negative integer');
  const availableBytes = Math.max(buf.length - position, 0);
  if (availableBytes < BATCH_HEADER_BYTES) throw truncatedHeaderError(position, availableBytes);
  const batchLength = buf.readInt32BE(position + HeaderPosition.batchLength);
  if (batchLength < MIN_BATCH_LENGTH) throw batchLengthError(position, batchLength);
  const sizeBytes = LOG_OVERHEAD_BYTES + batchLength;
  if (sizeBytes > availableBytes) {
    throw corruptBatch(position, `is truncated: batchLength ${batchLength} makes it ${sizeBytes} bytes but only ${availableBytes} remain`, { batchLength, availableBytes });
  }
  const magic = buf.readInt8(position + HeaderPosition.magic);
  if (magic !== MAGIC_V2) {
    throw corruptBatch(position, `has magic ${magic}; only record format v2 (magic 2) is supported`, { magic });
  }
  const storedCrc = buf.readUInt32BE(position + HeaderPosition.crc);
  const computedCrc = crc32c(buf, position + CRC_START_POSITION, position + sizeBytes);
  if (computedCrc !== storedCrc) {
    throw corruptBatch(position, `failed its CRC-32C check: the header says ${hex32(storedCrc)}, its bytes give ${hex32(computedCrc)}`, {
      expectedCrc: hex32(storedCrc), actualCrc: hex32(computedCrc),
    });
  }
  const header = readRecordBatchHeader(buf, position);
  if (header.compression !== CompressionType.none && header.compression !== CompressionType.gzip) {
    throw new MiniKafkaError('UNSUPPORTED_COMPRESSION_TYPE', `record batch at position ${position} (baseOffset ${header.baseOffset}) uses ${compressionName(header.compression)} compression; only none and gzip are supported`, {
      position, baseOffset: header.baseOffset, compression: header.compression, codec: compressionName(header.compression),
    });
  }
  if (header.recordCount < 0) {
    throw corruptBatch(position, `(baseOffset ${header.baseOffset}) declares ${header.recordCount} records`, { baseOffset: header.baseOffset, recordCount: header.recordCount });
  }
  // Offset deltas rise strictly from 0, so lastOffsetDelta ≥ recordCount − 1 holds even after compaction.
  if (header.lastOffsetDelta < header.recordCount - 1) throw offsetRangeError(position, header);
  return header;
}

function truncatedHeaderError(position: number, availableBytes: number): MiniKafkaError {
  return corruptBatch(position, `is truncated: its header needs ${BATCH_HEADER_BYTES} bytes but only ${availableBytes} remain`, {
    availableBytes, requiredBytes: BATCH_HEADER_BYTES,
  });
}

function batchLengthError(position: number, batchLength: number): MiniKafkaError {
  return corruptBatch(position, `has batchLength ${batchLength}, below the ${MIN_BATCH_LENGTH} bytes of an empty batch`, { batchLength });
}

export function offsetRangeError(position: number, header: RecordBatchHeader): MiniKafkaError {
  return new MiniKafkaError('INVALID_RECORD', `record batch at position ${position} (baseOffset ${header.baseOffset}) has lastOffsetDelta ${header.lastOffsetDelta} for ${header.recordCount} records; a batch as produced has lastOffsetDelta = recordCount − 1`, {
    position, baseOffset: header.baseOffset, lastOffsetDelta: header.lastOffsetDelta, recordCount: header.recordCount,
  });
}

/** `problem` completes "record batch at position N …"; details gain the position. */
export function corruptBatch(position: number, problem: string, details: Record<string, unknown>, cause?: unknown): MiniKafkaError {
  return new MiniKafkaError('CORRUPT_MESSAGE', `record batch at position ${position} ${problem}`, { position, ...details }, cause === undefined ? undefined : { cause });
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/**
 * Writes a safe integer as a big-endian int64 through two 32-bit halves; BigInt would allocate on
 * every call.
 */
export function writeInt64(buf: Buffer, value: number, position: number): void {
  assert(Number.isSafeInteger(value), 'an int64 written from a number is a safe integer');
  const high = Math.floor(value / 2 ** 32);
  buf.writeInt32BE(high, position);
  buf.writeUInt32BE(value - high * 2 ** 32, position + 4);
}

/**
 * Reads the int64 at `batchPosition + fieldPosition` from its two 32-bit halves. The sum is exact
 * whenever the result is a safe integer; if the true value is not, the rounded one is not either.
 */
function readSafeInt64(buf: Buffer, batchPosition: number, fieldPosition: number, field: string): number {
  const position = batchPosition + fieldPosition;
  const value = buf.readInt32BE(position) * 2 ** 32 + buf.readUInt32BE(position + 4);
  if (!Number.isSafeInteger(value)) {
    throw new MiniKafkaError(
      'CORRUPT_MESSAGE',
      `record batch at position ${batchPosition} has ${field} 0x${buf.toString('hex', position, position + 8)}, outside the safe integer range ±(2^53 − 1)`,
      { position: batchPosition, field, bytes: buf.toString('hex', position, position + 8) },
    );
  }
  return value;
}
