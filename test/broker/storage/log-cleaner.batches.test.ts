/**
 * The bytes the log cleaner writes: batches with fewer records (cleaned-batch.ts), the codec's
 * acceptance of the offset-delta gaps they carry (common/record-batch.ts, `offsetDeltas`), and the
 * bounded key → offset map (offset-map.ts).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../common/crc32c.ts';
import { isMiniKafkaError } from '../../../common/errors.ts';
import type { CompressionName, DecodedRecord } from '../../../common/record-batch.ts';
import { TimestampType, decodeRecordBatch, encodeRecordBatch, isCrcValid, setBaseOffset, setLogAppendTime, validateRecordBatch } from '../../../common/record-batch.ts';
import { DELETE_HORIZON_BIT, deleteHorizonMsOf, emptiedBatch, rebuildBatch } from '../../../broker/storage/cleaned-batch.ts';
import { ENTRY_OVERHEAD_BYTES, OffsetMap } from '../../../broker/storage/offset-map.ts';

const T = 1_700_000_000_000;

function thrownBy(action: () => unknown): { code?: string; message: string } {
  try {
    action();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}

const recordArbitrary = fc.record({
  key: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 4 }), value: fc.option(fc.string({ maxLength: 4 }), { nil: null }) }), { maxLength: 2 }),
  timestamp: fc.integer({ min: T - 100_000, max: T + 100_000 }),
});

/** A stored batch: records, a base offset the broker assigned, maybe a producer id, maybe LogAppendTime. */
const storedBatchArbitrary = fc.record({
  records: fc.array(recordArbitrary, { minLength: 1, maxLength: 8 }),
  compression: fc.constantFrom<CompressionName>('none', 'gzip'),
  baseOffset: fc.integer({ min: 0, max: 2 ** 40 }),
  isIdempotent: fc.boolean(),
  isLogAppendTime: fc.boolean(),
}).chain((input) => fc.tuple(fc.constant(input), fc.array(fc.boolean(), { minLength: input.records.length, maxLength: input.records.length })));

function storedBatch(input: { records: Parameters<typeof encodeRecordBatch>[0]['records']; compression: CompressionName; baseOffset: number; isIdempotent: boolean; isLogAppendTime: boolean }): Buffer {
  const producer = input.isIdempotent ? { producerId: 5, producerEpoch: 2, baseSequence: 100 } : {};
  const batch = encodeRecordBatch({ records: input.records, compression: input.compression, ...producer });
  setBaseOffset(batch, input.baseOffset);
  if (input.isLogAppendTime) setLogAppendTime(batch, T + 500_000);
  return batch;
}

function comparable(record: DecodedRecord): object {
  return { offset: record.offset, timestamp: record.timestamp, key: record.key?.toString('hex') ?? null, value: record.value?.toString('hex') ?? null, headers: record.headers.map((h) => [h.key, h.value?.toString() ?? null]) };
}

describe('rebuildBatch', () => {
  it('keeps exactly the chosen records, each at its offset with its timestamp, key, value and headers, and every other header field', () => {
    fc.assert(fc.property(storedBatchArbitrary, fc.option(fc.integer({ min: T, max: T + 10 ** 9 }), { nil: null }), ([input, keep], horizonMs) => {
      fc.pre(keep.includes(true));
      const batch = storedBatch(input);
      const original = decodeRecordBatch(batch);
      const rebuilt = rebuildBatch(batch, original.header, keep, horizonMs);
      expect(isCrcValid(rebuilt)).toBe(true);
      const decoded = decodeRecordBatch(rebuilt);
      expect(decoded.records.map(comparable)).toEqual(original.records.filter((_, i) => keep[i]).map(comparable));
      const { header } = decoded;
      expect(header).toMatchObject({
        baseOffset: original.header.baseOffset, lastOffset: original.header.lastOffset, lastOffsetDelta: original.header.lastOffsetDelta,
        partitionLeaderEpoch: original.header.partitionLeaderEpoch, producerId: original.header.producerId, producerEpoch: original.header.producerEpoch,
        baseSequence: original.header.baseSequence, compression: original.header.compression, timestampType: original.header.timestampType,
        recordCount: keep.filter(Boolean).length, sizeBytes: rebuilt.length,
      });
      expect(deleteHorizonMsOf(header)).toBe(horizonMs);
      if (horizonMs === null) expect(header.baseTimestamp).toBe(original.header.baseTimestamp);
      const keptTimestamps = original.records.filter((_, i) => keep[i]).map((record) => record.timestamp);
      expect(header.maxTimestamp).toBe(input.isLogAppendTime ? original.header.maxTimestamp : Math.max(...keptTimestamps));
      // A producer's batch as produced is contiguous; one with a record gone is only accepted as stored.
      if (keep.includes(false)) expect(thrownBy(() => validateRecordBatch(rebuilt)).code).toBe('INVALID_RECORD');
    }), { numRuns: 300 });
  });

  it('stamps a delete horizon into bit 6 and baseTimestamp, and a later rebuild keeps it', () => {
    const batch = storedBatch({ records: [{ key: 'a', value: null, timestamp: T }, { key: 'b', value: 'x', timestamp: T + 5 }], compression: 'none', baseOffset: 10, isIdempotent: false, isLogAppendTime: false });
    const stamped = rebuildBatch(batch, decodeRecordBatch(batch).header, [true, true], T + 86_400_000);
    const header = decodeRecordBatch(stamped).header;
    expect(header.attributes & DELETE_HORIZON_BIT).toBe(DELETE_HORIZON_BIT);
    expect(header.baseTimestamp).toBe(T + 86_400_000);
    expect(decodeRecordBatch(stamped).records.map((record) => record.timestamp)).toEqual([T, T + 5]);
    const again = rebuildBatch(stamped, header, [false, true], null);
    expect(deleteHorizonMsOf(decodeRecordBatch(again).header)).toBe(T + 86_400_000);
    expect(decodeRecordBatch(again).records.map((record) => [record.offset, record.timestamp])).toEqual([[11, T + 5]]);
  });
});

describe('emptiedBatch', () => {
  it('keeps a batch\'s offsets and producer fields in 61 uncompressed bytes without records', () => {
    const batch = storedBatch({ records: [{ key: 'a', value: 'x', timestamp: T }, { key: 'a', value: 'y', timestamp: T + 9 }], compression: 'gzip', baseOffset: 40, isIdempotent: true, isLogAppendTime: false });
    const empty = emptiedBatch(batch, decodeRecordBatch(batch).header);
    expect(empty.length).toBe(61);
    const { header, records } = decodeRecordBatch(empty);
    expect(records).toEqual([]);
    expect(header).toMatchObject({ baseOffset: 40, lastOffset: 41, recordCount: 0, compression: 0, producerId: 5, producerEpoch: 2, baseSequence: 100, baseTimestamp: T + 9, maxTimestamp: T + 9, timestampType: TimestampType.createTime });
    expect(thrownBy(() => validateRecordBatch(empty)).code).toBe('INVALID_RECORD');
    expect(validateRecordBatch(empty, 0, { offsetDeltas: 'increasing' }).lastOffsetDelta).toBe(1);
  });
});

describe('decodeRecordBatch with offset-delta gaps', () => {
  /**
   * A batch of one-letter records whose offsetDelta bytes are set to `deltas` (each record is
   * length, attributes, timestampDelta 0, offsetDelta: one byte each), CRC recomputed.
   */
  function withOffsetDeltas(deltas: number[], lastOffsetDelta: number): Buffer {
    const kept = encodeRecordBatch({ records: deltas.map(() => ({ key: 'k', value: 'v', timestamp: T })) });
    let position = 61;
    for (const delta of deltas) {
      const length = kept[position] >> 1;
      kept[position + 3] = delta * 2;
      position += 1 + length;
    }
    kept.writeInt32BE(lastOffsetDelta, 23);
    kept.writeUInt32BE(crc32c(kept, 21), 17);
    return kept;
  }

  it('accepts strictly increasing deltas up to lastOffsetDelta, and `contiguous` still refuses them', () => {
    const batch = withOffsetDeltas([0, 3, 7], 9);
    expect(decodeRecordBatch(batch).records.map((record) => record.offset)).toEqual([0, 3, 7]);
    expect(thrownBy(() => decodeRecordBatch(batch, 0, { offsetDeltas: 'contiguous' })).code).toBe('INVALID_RECORD');
    expect(thrownBy(() => validateRecordBatch(batch)).code).toBe('INVALID_RECORD');
  });

  it('refuses deltas that repeat, go down or pass lastOffsetDelta', () => {
    for (const [deltas, last] of [[[0, 2, 2], 5], [[1, 0], 3], [[0, 6], 5], [[5, 6], 5]] as const) {
      const error = thrownBy(() => decodeRecordBatch(withOffsetDeltas([...deltas], last)));
      expect(isMiniKafkaError(error) && error.code, `deltas ${deltas} with lastOffsetDelta ${last}`).toBe('INVALID_RECORD');
    }
  });
});

describe('OffsetMap', () => {
  it('keeps the latest offset per key and refuses room past its byte limit', () => {
    const map = new OffsetMap(2 * (ENTRY_OVERHEAD_BYTES + 3));
    const key = (name: string): Buffer => Buffer.from(name);
    expect(map.costOf(key('abc'))).toBe(ENTRY_OVERHEAD_BYTES + 3);
    map.put(key('abc'), 1);
    map.put(key('abc'), 5);
    expect(map.costOf(key('abc'))).toBe(0);
    expect(map.latestOffset(key('abc'))).toBe(5);
    expect(map.latestOffset(key('xyz'))).toBe(-1);
    expect(map.hasRoomFor(map.costOf(key('xyz')))).toBe(true);
    map.put(key('xyz'), 6);
    expect(map.hasRoomFor(map.costOf(key('q')))).toBe(false);
    expect(map.size).toBe(2);
    expect(() => map.put(key('xyz'), 6)).toThrow(/in order/);
  });

  it('tells binary keys apart byte for byte', () => {
    const map = new OffsetMap(1 << 20);
    map.put(Buffer.from([0xc3, 0xa9]), 1);
    map.put(Buffer.from('é', 'latin1'), 2);
    expect(map.latestOffset(Buffer.from([0xc3, 0xa9]))).toBe(1);
    expect(map.latestOffset(Buffer.from([0xe9]))).toBe(2);
  });
});
