/**
 * One record batch as the log cleaner rewrites it: the same batch with fewer records (Kafka's
 * MemoryRecords.filterTo and DefaultRecordBatch.writeEmptyHeader). Which records stay is the
 * cleaner's decision (log-cleaner.ts); this file only builds the bytes.
 *
 * | field                                  | in the rewritten batch                                      |
 * |----------------------------------------|-------------------------------------------------------------|
 * | baseOffset, lastOffsetDelta            | unchanged: the batch spans the same offsets, now with gaps  |
 * | partitionLeaderEpoch, magic            | unchanged                                                   |
 * | producerId, producerEpoch, baseSequence| unchanged, so producer state rebuilt from the log still holds |
 * | attributes                             | unchanged; bit 6 (hasDeleteHorizonMs) set when a delete horizon is stamped; compression none in an emptied batch |
 * | baseTimestamp                          | unchanged, or the delete horizon when one is stamped        |
 * | maxTimestamp                           | the largest timestamp kept (CreateTime); unchanged for LogAppendTime and in an emptied batch |
 * | batchLength, recordCount, crc          | recomputed                                                  |
 * | records                                | the kept ones, in order, each with its own offsetDelta; timestampDelta recomputed against the new baseTimestamp, so every record's timestamp is unchanged |
 *
 * The delete horizon (KIP-534, kafka-facts §2.1): the first time the cleaner rewrites a batch that
 * keeps a tombstone, it sets bit 6 and stores "now + delete.retention.ms" in baseTimestamp; the
 * batch's tombstones may be dropped by any pass that runs at or after that time. The horizon thus
 * travels with the data: no side file, nothing to lose in a crash.
 *
 * A gzip batch is inflated, filtered and compressed again (the CRC then covers the new blob). An
 * emptied batch, kept only for what its header says, is written uncompressed: 61 bytes.
 */

import assert from 'node:assert';
import { gunzipSync, gzipSync } from 'node:zlib';
import { crc32c } from '../../common/crc32c.ts';
import { BATCH_HEADER_BYTES, CompressionType, LOG_OVERHEAD_BYTES, MAX_INFLATED_RECORDS_BYTES, TimestampType } from '../../common/record-batch.ts';
import type { RecordBatchHeader } from '../../common/record-batch.ts';
import { CRC_START_POSITION, HeaderPosition, writeInt64 } from '../../common/record-batch-header.ts';
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../common/varint.ts';

/** Attributes bit 6: baseTimestamp holds the delete horizon, not the first record's timestamp. */
export const DELETE_HORIZON_BIT = 0x40;
const COMPRESSION_MASK = 0x07;

/** The batch's delete horizon in ms, or null if the cleaner has not stamped one. */
export function deleteHorizonMsOf(header: RecordBatchHeader): number | null {
  return (header.attributes & DELETE_HORIZON_BIT) !== 0 ? header.baseTimestamp : null;
}

interface KeptRecord {
  readonly timestampDelta: number;
  readonly offsetDelta: number;
  /** Where the record's key length starts: everything from here to `end` is copied as is. */
  readonly tailStart: number;
  readonly end: number;
  readonly bodyBytes: number;
}

/**
 * The batch with only the records whose `keep` entry is true (at least one), and, if
 * `newDeleteHorizonMs` is given, that horizon stamped. `batch` is one whole, valid batch (the
 * caller has decoded it) and `header` its header.
 */
export function rebuildBatch(batch: Buffer, header: RecordBatchHeader, keep: readonly boolean[], newDeleteHorizonMs: number | null): Buffer {
  assert(keep.length === header.recordCount && keep.includes(true), 'a rebuilt batch keeps at least one of its records');
  const section = recordsSection(batch, header);
  const baseTimestamp = newDeleteHorizonMs ?? header.baseTimestamp;
  const kept: KeptRecord[] = [];
  let recordsBytes = 0;
  let maxKeptTimestamp = Number.NEGATIVE_INFINITY;
  let position = 0;
  for (let index = 0; index < header.recordCount; index++) {
    let read = readVarint(section, position);
    const end = read.position + read.value;
    read = readVarlong(section, read.position + 1); // after the unused attributes byte
    const timestamp = header.baseTimestamp + read.value;
    read = readVarint(section, read.position);
    if (keep[index]) {
      const timestampDelta = timestamp - baseTimestamp;
      const bodyBytes = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(read.value) + (end - read.position);
      kept.push({ timestampDelta, offsetDelta: read.value, tailStart: read.position, end, bodyBytes });
      recordsBytes += sizeOfVarint(bodyBytes) + bodyBytes;
      maxKeptTimestamp = Math.max(maxKeptTimestamp, timestamp);
    }
    position = end;
  }
  assert(position === section.length, 'the records were validated: they fill the section exactly');

  const plain = Buffer.allocUnsafe(recordsBytes);
  let at = 0;
  for (const record of kept) {
    at = writeVarint(plain, record.bodyBytes, at);
    plain[at++] = 0;
    at = writeVarlong(plain, record.timestampDelta, at);
    at = writeVarint(plain, record.offsetDelta, at);
    at += section.copy(plain, at, record.tailStart, record.end);
  }
  assert(at === recordsBytes, 'kept records fill exactly the bytes they were sized at');

  const body = header.compression === CompressionType.gzip ? gzipSync(plain) : plain;
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + body.length);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  body.copy(out, BATCH_HEADER_BYTES);
  const attributes = newDeleteHorizonMs === null ? header.attributes : header.attributes | DELETE_HORIZON_BIT;
  const maxTimestamp = header.timestampType === TimestampType.logAppendTime ? header.maxTimestamp : maxKeptTimestamp;
  finishHeader(out, attributes, baseTimestamp, maxTimestamp, kept.length);
  return out;
}

/**
 * The batch's header with no records: what stays of a batch whose every record went but whose
 * offsets or producer fields must stay in the log. Uncompressed, no delete horizon, baseTimestamp
 * = maxTimestamp (as Kafka's empty batches).
 */
export function emptiedBatch(batch: Buffer, header: RecordBatchHeader): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  const attributes = header.attributes & ~COMPRESSION_MASK & ~DELETE_HORIZON_BIT;
  finishHeader(out, attributes, header.maxTimestamp, header.maxTimestamp, 0);
  return out;
}

function finishHeader(out: Buffer, attributes: number, baseTimestamp: number, maxTimestamp: number, recordCount: number): void {
  out.writeInt32BE(out.length - LOG_OVERHEAD_BYTES, HeaderPosition.batchLength);
  out.writeInt16BE(attributes, HeaderPosition.attributes);
  writeInt64(out, baseTimestamp, HeaderPosition.baseTimestamp);
  writeInt64(out, maxTimestamp, HeaderPosition.maxTimestamp);
  out.writeInt32BE(recordCount, HeaderPosition.recordCount);
  out.writeUInt32BE(crc32c(out, CRC_START_POSITION), HeaderPosition.crc);
}

function recordsSection(batch: Buffer, header: RecordBatchHeader): Buffer {
  const section = batch.subarray(BATCH_HEADER_BYTES, header.sizeBytes);
  return header.compression === CompressionType.gzip ? gunzipSync(section, { maxOutputLength: MAX_INFLATED_RECORDS_BYTES }) : section;
}
