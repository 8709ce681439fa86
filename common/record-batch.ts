/**
 * Record batch v2: encode, decode and validate the unit that producers send, the log stores and
 * consumers fetch (kafka-facts §2). The header's byte layout and the checks that need no record
 * parsing live in record-batch-header.ts; its public part is re-exported here, so callers import
 * the codec from this one file.
 *
 * Grammar (varints are zigzag LEB128, see varint.ts):
 *
 *   RecordBatch    => header (61 bytes) records
 *   records        => Record × recordCount, or, when compressed, one gzip blob holding them
 *   Record         => length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
 *                     keyLength:varint key valueLength:varint value headersCount:varint Header × headersCount
 *   Header         => keyLength:varint key (UTF-8, never null) valueLength:varint value
 *
 *   length counts the record's bytes after itself; a length of −1 is a null key or value;
 *   timestamp = baseTimestamp + timestampDelta; offset = baseOffset + offsetDelta.
 *
 * Invariants of a valid batch: it is 12 + batchLength bytes, at least the 61-byte header; magic 2;
 * CRC-32C of bytes [21, end) matches; compression is none or gzip (the others are refused, not
 * passed through); its records parse exactly to its end and number recordCount. Offset deltas
 * come in two shapes (`OffsetDeltas`):
 *
 * - `contiguous`, a batch as a producer builds it: deltas 0, 1, 2, …, so lastOffsetDelta =
 *   recordCount − 1. What validateRecordBatch demands by default, so PartitionLog.append takes
 *   nothing else.
 * - `increasing`, a batch as the log cleaner leaves it (kafka-facts §2.1): the records that
 *   survived compaction keep their deltas, which strictly increase from ≥ 0 and stay ≤
 *   lastOffsetDelta; the batch keeps its base offset and lastOffsetDelta, and may hold no record at
 *   all. What decodeRecordBatch accepts by default, because a reader must accept what the log holds.
 *
 * Decoded keys and values are views of the input (or of the inflated records), not copies: they
 * alias its bytes and keep it alive.
 */
import assert from 'node:assert';
import { gunzipSync, gzipSync } from 'node:zlib';
import { crc32c } from './crc32c.ts';
import { MiniKafkaError } from './errors.ts';
import {
  BATCH_HEADER_BYTES, CRC_START_POSITION, CompressionType, HeaderPosition, LOG_OVERHEAD_BYTES, MAGIC_V2, MIN_BATCH_LENGTH,
  TimestampType, compressionName, corruptBatch, encodeAttributes, offsetRangeError, validateBatchFrame, writeInt64,
} from './record-batch-header.ts';
import type { CompressionName, RecordBatchHeader } from './record-batch-header.ts';
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.ts';

export {
  BATCH_HEADER_BYTES, CompressionType, LOG_OVERHEAD_BYTES, MAGIC_V2, TimestampType,
  isCrcValid, iterateRecordBatches, readRecordBatchHeader, setBaseOffset, setLogAppendTime, setPartitionLeaderEpoch,
} from './record-batch-header.ts';
export type { CompressionName, RecordBatchHeader } from './record-batch-header.ts';

/**
 * Node's zlib builds the whole inflated output in memory, and deflate reaches about 1000:1, so a
 * crafted 1 MiB batch could ask for a gigabyte. Batches that producers build are far smaller
 * (Kafka's batch.size defaults to 16 KiB and a record may not exceed max.request.size, 1 MiB).
 */
export const MAX_INFLATED_RECORDS_BYTES = 64 * 1024 * 1024;

/** length, attributes, timestampDelta, offsetDelta, keyLength, valueLength, headersCount: one byte each at least. */
const MIN_RECORD_BYTES = 7;
/** keyLength and valueLength: one byte each at least. */
const MIN_HEADER_BYTES = 2;
const INT32_MAX = 2 ** 31 - 1;

/** Which offset deltas a batch's records may carry; see the file header. */
export type OffsetDeltas = 'contiguous' | 'increasing';

export interface ValidateOptions {
  /** Default true: parse every record (inflating gzip); false checks the frame only. */
  readonly checkRecords?: boolean;
  /** validateRecordBatch defaults to `contiguous`, decodeRecordBatch to `increasing`. */
  readonly offsetDeltas?: OffsetDeltas;
}

export interface RecordHeader { readonly key: string; readonly value: Buffer | null }
type FieldInput = Buffer | string | null;
interface HeaderInput { key: string; value: FieldInput }

export interface RecordInput {
  key?: FieldInput;
  value?: FieldInput;
  /** An array keeps order and duplicates; an object is written in its property order. */
  headers?: ReadonlyArray<HeaderInput> | Record<string, FieldInput>;
  /** Defaults to the batch's baseTimestamp. */
  timestamp?: number;
}

export interface BatchInput {
  records: ReadonlyArray<RecordInput>;
  /** Default 0: the broker assigns offsets on append. */
  baseOffset?: number;
  /** Default: the first record's timestamp, else Date.now(); −1 for a batch without records. */
  baseTimestamp?: number;
  /** Default none; gzip is the only codec supported. */
  compression?: CompressionName | number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  partitionLeaderEpoch?: number;
  isTransactional?: boolean;
  /**
   * Default createTime. Either way maxTimestamp is the largest record timestamp, so a broker
   * writing logAppendTime passes its append time as the records' timestamps.
   */
  timestampType?: number;
}

export interface DecodedRecord {
  readonly offset: number;
  /** For a logAppendTime batch, the batch's maxTimestamp, as Kafka reports it. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

export interface DecodedBatch {
  readonly header: RecordBatchHeader;
  readonly records: DecodedRecord[];
}

const NO_HEADERS: ReadonlyArray<HeaderInput> = Object.freeze([]);

/**
 * Encodes `input` as one batch: sizes every record first, allocates once, writes in place, and
 * computes the CRC last. Throws UNSUPPORTED_COMPRESSION_TYPE for codecs other than none and gzip,
 * INVALID_RECORD for a timestamp that is not a safe integer, MESSAGE_TOO_LARGE past 2 GiB.
 *
 * @example encodeRecordBatch({ records: [{ key: 'user-1', value: 'hello' }] })
 */
export function encodeRecordBatch(input: BatchInput): Buffer {
  const records = input.records;
  const compression = resolveCompression(input.compression ?? CompressionType.none);
  assert(records.length <= INT32_MAX, 'recordCount is an int32');
  const baseTimestamp = input.baseTimestamp ?? (records.length === 0 ? -1 : records[0].timestamp ?? Date.now());
  checkTimestamp(baseTimestamp, baseTimestamp, -1);

  const bodyBytes: number[] = new Array(records.length);
  const headerLists: Array<ReadonlyArray<HeaderInput>> = new Array(records.length);
  let recordsBytes = 0;
  let maxTimestamp = records.length === 0 ? -1 : Number.NEGATIVE_INFINITY;
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    const timestamp = record.timestamp ?? baseTimestamp;
    checkTimestamp(timestamp, baseTimestamp, index);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    headerLists[index] = listHeaders(record.headers);
    bodyBytes[index] = sizeOfRecordBody(record, timestamp - baseTimestamp, index, headerLists[index]);
    recordsBytes += sizeOfVarint(bodyBytes[index]) + bodyBytes[index];
  }

  let buf: Buffer;
  if (compression === CompressionType.none) {
    buf = allocateBatch(recordsBytes);
    writeRecords(buf, BATCH_HEADER_BYTES, records, baseTimestamp, bodyBytes, headerLists);
  } else {
    const plain = Buffer.allocUnsafe(recordsBytes);
    writeRecords(plain, 0, records, baseTimestamp, bodyBytes, headerLists);
    const blob = gzipSync(plain);
    buf = allocateBatch(blob.length);
    buf.set(blob, BATCH_HEADER_BYTES);
  }
  writeHeader(buf, input, compression, records.length, baseTimestamp, maxTimestamp);
  buf.writeUInt32BE(crc32c(buf, CRC_START_POSITION), HeaderPosition.crc);
  return buf;
}

/**
 * Checks the batch at `position` (see the invariants above) and returns its header. With
 * `checkRecords: false` only the header, length and CRC are checked, and gzip is not inflated.
 * Offset deltas must be `contiguous` unless `offsetDeltas: 'increasing'` is given.
 * Throws CORRUPT_MESSAGE, UNSUPPORTED_COMPRESSION_TYPE, INVALID_RECORD or MESSAGE_TOO_LARGE.
 */
export function validateRecordBatch(buf: Buffer, position = 0, options: ValidateOptions = {}): RecordBatchHeader {
  const header = validateBatchFrame(buf, position);
  if (options.checkRecords ?? true) readRecords(buf, position, header, null, options.offsetDeltas ?? 'contiguous');
  return header;
}

/**
 * Validates the batch at `position` as validateRecordBatch does and decodes all its records.
 * Unlike validateRecordBatch it accepts the offset-delta gaps compaction leaves, unless
 * `offsetDeltas: 'contiguous'` is given.
 */
export function decodeRecordBatch(buf: Buffer, position = 0, options: { readonly offsetDeltas?: OffsetDeltas } = {}): DecodedBatch {
  const records: DecodedRecord[] = [];
  const header = forEachRecord(buf, position, (offset, timestamp, key, value, headers) => records.push({ offset, timestamp, key, value, headers }), options);
  return { header, records };
}

/** What forEachRecord hands over for each record: key, value and header values are views of the batch's bytes. */
export type RecordVisitor = (offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[]) => void;

/**
 * decodeRecordBatch without the intermediate record objects: validates the batch the same way and
 * calls `visit` with each record's fields, in order, so that a caller building its own objects
 * (the SDK's consumer messages) allocates one per record instead of two. Returns the header.
 */
export function forEachRecord(buf: Buffer, position: number, visit: RecordVisitor, options: { readonly offsetDeltas?: OffsetDeltas } = {}): RecordBatchHeader {
  const header = validateBatchFrame(buf, position);
  readRecords(buf, position, header, visit, options.offsetDeltas ?? 'increasing');
  return header;
}

function resolveCompression(compression: CompressionName | number): number {
  const id = typeof compression === 'number' ? compression
    : Object.hasOwn(CompressionType, compression) ? CompressionType[compression] : undefined;
  if (id === CompressionType.none || id === CompressionType.gzip) return id;
  const name = id === undefined ? String(compression) : compressionName(id);
  throw new MiniKafkaError('UNSUPPORTED_COMPRESSION_TYPE', `compression ${name} is not supported; use none or gzip`, { compression });
}

function checkTimestamp(timestamp: number, baseTimestamp: number, index: number): void {
  if (Number.isSafeInteger(timestamp) && Number.isSafeInteger(timestamp - baseTimestamp)) return;
  const subject = index < 0 ? 'baseTimestamp' : `record ${index} timestamp`;
  throw new MiniKafkaError('INVALID_RECORD', `${subject} ${timestamp} is not a safe integer of milliseconds (or lies too far from baseTimestamp ${baseTimestamp})`, {
    recordIndex: index, timestamp, baseTimestamp,
  });
}

function listHeaders(headers: RecordInput['headers']): ReadonlyArray<HeaderInput> {
  if (headers === undefined || headers === null) return NO_HEADERS;
  if (isHeaderArray(headers)) return headers;
  const list: HeaderInput[] = [];
  for (const key of Object.keys(headers)) list.push({ key, value: headers[key] ?? null });
  return list;
}

function isHeaderArray(headers: NonNullable<RecordInput['headers']>): headers is ReadonlyArray<HeaderInput> {
  return Array.isArray(headers);
}

function sizeOfField(field: FieldInput | undefined): number {
  if (field === null || field === undefined) return 1;
  const byteCount = typeof field === 'string' ? Buffer.byteLength(field, 'utf8') : field.length;
  return sizeOfVarint(byteCount) + byteCount;
}

function sizeOfRecordBody(record: RecordInput, timestampDelta: number, offsetDelta: number, headers: ReadonlyArray<HeaderInput>): number {
  let byteCount = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta) +
    sizeOfField(record.key) + sizeOfField(record.value) + sizeOfVarint(headers.length);
  for (let index = 0; index < headers.length; index++) {
    byteCount += sizeOfField(headers[index].key) + sizeOfField(headers[index].value);
  }
  return byteCount;
}

function allocateBatch(recordsBytes: number): Buffer {
  const batchLength = MIN_BATCH_LENGTH + recordsBytes;
  if (batchLength > INT32_MAX) {
    throw new MiniKafkaError('MESSAGE_TOO_LARGE', `record batch of ${LOG_OVERHEAD_BYTES + batchLength} bytes does not fit batchLength (int32); send fewer or smaller records`, {
      sizeBytes: LOG_OVERHEAD_BYTES + batchLength,
    });
  }
  // Unsafe is fine: the header and every record byte are written below, and the writers assert it.
  return Buffer.allocUnsafe(LOG_OVERHEAD_BYTES + batchLength);
}

function writeRecords(
  buf: Buffer, position: number, records: ReadonlyArray<RecordInput>, baseTimestamp: number,
  bodyBytes: ReadonlyArray<number>, headerLists: ReadonlyArray<ReadonlyArray<HeaderInput>>,
): void {
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    position = writeVarint(buf, bodyBytes[index], position);
    const bodyStart = position;
    buf[position++] = 0;
    position = writeVarlong(buf, (record.timestamp ?? baseTimestamp) - baseTimestamp, position);
    position = writeVarint(buf, index, position);
    position = writeField(buf, record.key, position);
    position = writeField(buf, record.value, position);
    const headers = headerLists[index];
    position = writeVarint(buf, headers.length, position);
    for (let headerIndex = 0; headerIndex < headers.length; headerIndex++) {
      position = writeField(buf, headers[headerIndex].key, position);
      position = writeField(buf, headers[headerIndex].value, position);
    }
    assert(position - bodyStart === bodyBytes[index], 'a record takes exactly the bytes it was sized at');
  }
  assert(position === buf.length, 'records fill the buffer exactly');
}

function writeField(buf: Buffer, field: FieldInput | undefined, position: number): number {
  if (field === null || field === undefined) return writeVarint(buf, -1, position);
  if (typeof field === 'string') {
    const byteCount = Buffer.byteLength(field, 'utf8');
    position = writeVarint(buf, byteCount, position);
    assert(buf.write(field, position, byteCount, 'utf8') === byteCount, 'a string field is written whole');
    return position + byteCount;
  }
  position = writeVarint(buf, field.length, position);
  buf.set(field, position);
  return position + field.length;
}

function writeHeader(buf: Buffer, input: BatchInput, compression: number, recordCount: number, baseTimestamp: number, maxTimestamp: number): void {
  const baseOffset = input.baseOffset ?? 0;
  const producerId = input.producerId ?? -1;
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, 'baseOffset is a non-negative safe integer');
  assert(Number.isSafeInteger(producerId) && producerId >= -1, 'producerId is −1 or a non-negative safe integer');
  writeInt64(buf, baseOffset, HeaderPosition.baseOffset);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD_BYTES, HeaderPosition.batchLength);
  buf.writeInt32BE(input.partitionLeaderEpoch ?? -1, HeaderPosition.partitionLeaderEpoch);
  buf.writeInt8(MAGIC_V2, HeaderPosition.magic);
  buf.writeUInt32BE(0, HeaderPosition.crc);
  const timestampType = input.timestampType ?? TimestampType.createTime;
  buf.writeInt16BE(encodeAttributes(compression, timestampType, input.isTransactional ?? false, false), HeaderPosition.attributes);
  buf.writeInt32BE(recordCount - 1, HeaderPosition.lastOffsetDelta);
  writeInt64(buf, baseTimestamp, HeaderPosition.baseTimestamp);
  writeInt64(buf, maxTimestamp, HeaderPosition.maxTimestamp);
  writeInt64(buf, producerId, HeaderPosition.producerId);
  buf.writeInt16BE(input.producerEpoch ?? -1, HeaderPosition.producerEpoch);
  buf.writeInt32BE(input.baseSequence ?? -1, HeaderPosition.baseSequence);
  buf.writeInt32BE(recordCount, HeaderPosition.recordCount);
}

/** Parses every record, handing each to `out` unless it is null (validation only). */
function readRecords(buf: Buffer, batchPosition: number, header: RecordBatchHeader, out: RecordVisitor | null, offsetDeltas: OffsetDeltas): void {
  if (offsetDeltas === 'contiguous' && header.lastOffsetDelta !== header.recordCount - 1) throw offsetRangeError(batchPosition, header);
  const section = recordsSection(buf, batchPosition, header);
  if (header.recordCount * MIN_RECORD_BYTES > section.length) {
    throw corruptBatch(batchPosition, `(baseOffset ${header.baseOffset}) declares ${header.recordCount} records but its ${section.length} record bytes cannot hold them`, {
      baseOffset: header.baseOffset, recordCount: header.recordCount, recordsBytes: section.length,
    });
  }
  let index = 0;
  // One cursor per batch, not an object per record: readRecord moves it past each record.
  const cursor: RecordCursor = { position: 0, offsetDelta: -1 };
  const isContiguous = offsetDeltas === 'contiguous';
  try {
    for (; index < header.recordCount; index++) {
      // Contiguous: exactly the index. Increasing: above the previous delta, leaving room below
      // lastOffsetDelta for the records still to come.
      const minOffsetDelta = isContiguous ? index : cursor.offsetDelta + 1;
      const maxOffsetDelta = isContiguous ? index : header.lastOffsetDelta - (header.recordCount - 1 - index);
      readRecord(section, cursor, index, minOffsetDelta, maxOffsetDelta, header, out);
    }
  } catch (error) {
    if (!(error instanceof MiniKafkaError)) throw error;
    throw new MiniKafkaError(error.code, `record batch at position ${batchPosition} (baseOffset ${header.baseOffset}), record ${index} at byte ${cursor.position} of the records: ${error.message}`, {
      ...error.details, position: batchPosition, baseOffset: header.baseOffset, recordIndex: index, recordPosition: cursor.position,
    }, { cause: error });
  }
  if (cursor.position !== section.length) {
    throw corruptBatch(batchPosition, `(baseOffset ${header.baseOffset}) has ${section.length - cursor.position} bytes after its ${header.recordCount} records`, {
      baseOffset: header.baseOffset, trailingBytes: section.length - cursor.position,
    });
  }
}

/** Where record parsing stands in a batch's records: the next record's position, the last delta read. */
interface RecordCursor {
  position: number;
  offsetDelta: number;
}

/** The records' bytes: a view into `buf`, or the inflated gzip blob. */
function recordsSection(buf: Buffer, batchPosition: number, header: RecordBatchHeader): Buffer {
  const section = buf.subarray(batchPosition + BATCH_HEADER_BYTES, batchPosition + header.sizeBytes);
  if (header.compression === CompressionType.none) return section;
  try {
    return gunzipSync(section, { maxOutputLength: MAX_INFLATED_RECORDS_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new MiniKafkaError('MESSAGE_TOO_LARGE', `record batch at position ${batchPosition} (baseOffset ${header.baseOffset}) inflates to more than ${MAX_INFLATED_RECORDS_BYTES} bytes`, {
        position: batchPosition, baseOffset: header.baseOffset, maxInflatedBytes: MAX_INFLATED_RECORDS_BYTES,
      }, { cause: error });
    }
    throw corruptBatch(batchPosition, `(baseOffset ${header.baseOffset}) has gzip records that fail to inflate: ${(error as Error).message}`, { baseOffset: header.baseOffset }, error);
  }
}

/**
 * Parses the record at `cursor.position` of `section`, whose offset delta must lie in
 * [minOffsetDelta, maxOffsetDelta], and moves the cursor past it. Errors name positions within
 * the section; readRecords adds which batch and record.
 */
function readRecord(
  section: Buffer, cursor: RecordCursor, index: number, minOffsetDelta: number, maxOffsetDelta: number, header: RecordBatchHeader, out: RecordVisitor | null,
): void {
  let position = cursor.position;
  let read = readVarint(section, position);
  const end = read.position + read.value;
  if (read.value < MIN_RECORD_BYTES - 1 || end > section.length) {
    throw new MiniKafkaError('CORRUPT_MESSAGE', `length ${read.value} is below the ${MIN_RECORD_BYTES - 1}-byte minimum or past the ${section.length - read.position} bytes left`, { recordLength: read.value });
  }
  position = read.position + 1; // attributes: unused by format v2
  read = readVarlong(section, position);
  const timestampDelta = read.value;
  read = readVarint(section, read.position);
  const offsetDelta = read.value;
  if (offsetDelta < minOffsetDelta || offsetDelta > maxOffsetDelta) {
    const expected = minOffsetDelta === index && maxOffsetDelta === index
      ? `${index} was expected: offset deltas run 0, 1, 2, … in a batch as produced`
      : `one in [${minOffsetDelta}, ${maxOffsetDelta}] was expected: offset deltas strictly increase and stay within lastOffsetDelta ${header.lastOffsetDelta}`;
    throw new MiniKafkaError('INVALID_RECORD', `offsetDelta is ${offsetDelta} where ${expected}`, { offsetDelta });
  }
  read = readVarint(section, read.position);
  const keyLength = checkFieldLength(read.value, read.position, end, 'key');
  const key = keyLength < 0 || out === null ? null : section.subarray(read.position, read.position + keyLength);
  read = readVarint(section, read.position + Math.max(keyLength, 0));
  const valueLength = checkFieldLength(read.value, read.position, end, 'value');
  const value = valueLength < 0 || out === null ? null : section.subarray(read.position, read.position + valueLength);
  read = readVarint(section, read.position + Math.max(valueLength, 0));
  const headerCount = read.value;
  position = read.position;
  if (headerCount < 0 || headerCount * MIN_HEADER_BYTES > end - position) {
    throw new MiniKafkaError('CORRUPT_MESSAGE', `headersCount ${headerCount} does not fit the ${end - position} bytes left in the record`, { headerCount });
  }
  const headers: RecordHeader[] = [];
  for (let headerIndex = 0; headerIndex < headerCount; headerIndex++) {
    read = readVarint(section, position);
    const headerKeyLength = checkFieldLength(read.value, read.position, end, 'header key');
    if (headerKeyLength < 0) throw new MiniKafkaError('CORRUPT_MESSAGE', `header ${headerIndex} has a null key`, { headerIndex });
    const headerKey = out === null ? '' : section.toString('utf8', read.position, read.position + headerKeyLength);
    read = readVarint(section, read.position + headerKeyLength);
    const headerValueLength = checkFieldLength(read.value, read.position, end, 'header value');
    position = read.position + Math.max(headerValueLength, 0);
    if (out !== null) headers.push({ key: headerKey, value: headerValueLength < 0 ? null : section.subarray(read.position, position) });
  }
  if (position !== end) {
    throw new MiniKafkaError('CORRUPT_MESSAGE', `fields end at byte ${position} but the record's length says ${end}`, { fieldsEnd: position, recordEnd: end });
  }
  // Kafka reports every record of a logAppendTime batch at the time the broker appended it.
  const timestamp = header.timestampType === TimestampType.logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta;
  if (!Number.isSafeInteger(timestamp)) {
    throw new MiniKafkaError('CORRUPT_MESSAGE', `timestamp ${header.baseTimestamp} + ${timestampDelta} is not a safe integer`, { timestampDelta });
  }
  if (out !== null) out(header.baseOffset + offsetDelta, timestamp, key, value, headers);
  cursor.position = end;
  cursor.offsetDelta = offsetDelta;
}

/** A byte-field length must be −1 (null) or fit before the record's end. */
function checkFieldLength(length: number, position: number, end: number, field: string): number {
  if (length < -1 || position + length > end) {
    throw new MiniKafkaError('CORRUPT_MESSAGE', `${field} length ${length} does not fit the ${end - position} bytes left in the record`, { field, fieldLength: length });
  }
  return length;
}
