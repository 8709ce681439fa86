import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../common/crc32c.ts';
import { isMiniKafkaError } from '../../common/errors.ts';
import type { MiniKafkaError } from '../../common/errors.ts';
import {
  BATCH_HEADER_BYTES, CompressionType, LOG_OVERHEAD_BYTES, MAGIC_V2, MAX_INFLATED_RECORDS_BYTES, TimestampType,
  decodeRecordBatch, encodeRecordBatch, isCrcValid, iterateRecordBatches, readRecordBatchHeader, setBaseOffset,
  setPartitionLeaderEpoch, validateRecordBatch,
} from '../../common/record-batch.ts';
import type { BatchInput, CompressionName, DecodedBatch, RecordInput } from '../../common/record-batch.ts';
import { readVarint } from '../../common/varint.ts';

const T = 1_700_000_000_000;

// kafka-facts Appendix A.1 and A.2, as printed there.
const A1_HEX = `
  00000000 00000000  0000003d  ffffffff  02  e641a44b  0000  00000000
  0000018bcfe56800  0000018bcfe56800  ffffffffffffffff  ffff  ffffffff  00000001
  16 00 00 00 01 0a 68656c6c6f 00`;
const A2_HEX = `
  0000000000000000 0000004b ffffffff 02 f31f8fe2 0000 00000001 0000018bcfe56800 0000018bcfe56805
  ffffffffffffffff ffff ffffffff 00000002
  12 00 00 00 02 6b 04 7631 00
  1e 00 0a 02 01 0a 68656c6c6f 02 02 68 02 78`;
const A1_INPUT: BatchInput = { records: [{ key: null, value: 'hello', timestamp: T }] };
const A2_INPUT: BatchInput = {
  records: [
    { key: 'k', value: 'v1', timestamp: T },
    { key: null, value: 'hello', timestamp: T + 5, headers: [{ key: 'h', value: 'x' }] },
  ],
};

function fromHex(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

/** Recomputes the CRC after a test edits covered bytes on purpose, so a later check is what fails. */
function restampCrc(buf: Buffer, position = 0): Buffer {
  const end = position + LOG_OVERHEAD_BYTES + buf.readInt32BE(position + 8);
  buf.writeUInt32BE(crc32c(buf, position + 21, end), position + 17);
  return buf;
}

/** The error a call throws, so tests can look at code, message and details; fails if it returns. */
function thrownBy(call: () => unknown): MiniKafkaError {
  try {
    call();
  } catch (error) {
    if (isMiniKafkaError(error)) return error;
    throw error;
  }
  expect.fail('expected a MiniKafkaError');
}

/** Where each record of an uncompressed batch starts (its length varint). */
function recordPositions(buf: Buffer): number[] {
  const positions: number[] = [];
  let position = BATCH_HEADER_BYTES;
  while (position < buf.length) {
    positions.push(position);
    const length = readVarint(buf, position);
    position = length.position + length.value;
  }
  return positions;
}

function toBuffer(field: Buffer | string | null | undefined): Buffer | null {
  if (field === null || field === undefined) return null;
  return typeof field === 'string' ? Buffer.from(field, 'utf8') : field;
}

/** What decoding `input` must give back, given the baseTimestamp the encoder settled on. */
function expectedRecords(input: BatchInput, baseTimestamp: number): DecodedBatch['records'] {
  return input.records.map((record, index) => ({
    offset: (input.baseOffset ?? 0) + index,
    timestamp: record.timestamp ?? baseTimestamp,
    key: toBuffer(record.key),
    value: toBuffer(record.value),
    headers: (Array.isArray(record.headers) ? record.headers : []).map((header) => ({ key: header.key, value: toBuffer(header.value) })),
  }));
}

const fieldArb = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const headerArb = fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 12 }), value: fieldArb });
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fieldArb,
  value: fieldArb,
  headers: fc.array(headerArb, { maxLength: 12 }),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: T - 1000, max: T + 1000 })),
}, { requiredKeys: [] });
const batchInputArb: fc.Arbitrary<BatchInput> = fc.record({
  records: fc.array(recordArb, { maxLength: 20 }),
  baseOffset: fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: 2 ** 53 - 100 })),
  baseTimestamp: fc.integer({ min: 0, max: 2 ** 50 }),
  compression: fc.constantFrom<CompressionName | number>('none', 'gzip', CompressionType.none, CompressionType.gzip),
  producerId: fc.oneof(fc.constant(-1), fc.maxSafeNat()),
  producerEpoch: fc.integer({ min: -1, max: 2 ** 15 - 1 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  isTransactional: fc.boolean(),
}, { requiredKeys: ['records'] });
/** Small batches for properties that mutate bytes. */
const smallBatchArb = fc.record({
  records: fc.array(recordArb, { minLength: 1, maxLength: 4 }),
  compression: fc.constantFrom<CompressionName>('none', 'gzip'),
}).map((input) => encodeRecordBatch(input));

describe('record batch v2 known vectors', () => {
  it('encodeRecordBatch() reproduces Appendix A.1 byte for byte', () => {
    expect(encodeRecordBatch(A1_INPUT).toString('hex')).toBe(fromHex(A1_HEX).toString('hex'));
  });

  it('encodeRecordBatch() reproduces Appendix A.2 byte for byte', () => {
    expect(encodeRecordBatch(A2_INPUT).toString('hex')).toBe(fromHex(A2_HEX).toString('hex'));
  });

  it('decodeRecordBatch() reads Appendix A.1 back to its header fields and record', () => {
    const { header, records } = decodeRecordBatch(fromHex(A1_HEX));
    expect(header).toEqual({
      baseOffset: 0, batchLength: 61, partitionLeaderEpoch: -1, magic: MAGIC_V2, crc: 0xe641a44b, attributes: 0,
      compression: CompressionType.none, timestampType: TimestampType.createTime, isTransactional: false, isControl: false,
      lastOffsetDelta: 0, baseTimestamp: T, maxTimestamp: T, producerId: -1, producerEpoch: -1, baseSequence: -1,
      recordCount: 1, lastOffset: 0, sizeBytes: 73,
    });
    expect(records).toEqual([{ offset: 0, timestamp: T, key: null, value: Buffer.from('hello'), headers: [] }]);
  });

  it('decodeRecordBatch() reads Appendix A.2 back to its header fields and records', () => {
    const { header, records } = decodeRecordBatch(fromHex(A2_HEX));
    expect(header).toMatchObject({ batchLength: 75, crc: 0xf31f8fe2, lastOffsetDelta: 1, baseTimestamp: T, maxTimestamp: T + 5, recordCount: 2, lastOffset: 1, sizeBytes: 87 });
    expect(records).toEqual([
      { offset: 0, timestamp: T, key: Buffer.from('k'), value: Buffer.from('v1'), headers: [] },
      { offset: 1, timestamp: T + 5, key: null, value: Buffer.from('hello'), headers: [{ key: 'h', value: Buffer.from('x') }] },
    ]);
  });

  it('crc32c() over bytes [21, end) gives the CRCs printed in Appendix A', () => {
    expect(crc32c(fromHex(A1_HEX), 21)).toBe(0xe641a44b);
    expect(crc32c(fromHex(A2_HEX), 21)).toBe(0xf31f8fe2);
    expect(isCrcValid(fromHex(A1_HEX))).toBe(true);
    expect(isCrcValid(fromHex(A2_HEX))).toBe(true);
  });

  it('readRecordBatchHeader() needs only the 61 header bytes and throws CORRUPT_MESSAGE with fewer', () => {
    const a2 = fromHex(A2_HEX);
    expect(readRecordBatchHeader(a2.subarray(0, BATCH_HEADER_BYTES))).toEqual(readRecordBatchHeader(a2));
    const error = thrownBy(() => readRecordBatchHeader(a2.subarray(0, BATCH_HEADER_BYTES - 1)));
    expect(error.code).toBe('CORRUPT_MESSAGE');
    expect(error.details).toMatchObject({ position: 0, availableBytes: 60 });
  });
});

describe('encodeRecordBatch() and decodeRecordBatch() round trip', () => {
  it('decodeRecordBatch() gives back whatever encodeRecordBatch() was given, compressed or not', () => {
    fc.assert(fc.property(batchInputArb, (input) => {
      const buf = encodeRecordBatch(input);
      const { header, records } = decodeRecordBatch(buf);
      const timestamps = input.records.map((record) => record.timestamp ?? header.baseTimestamp);
      expect(header).toMatchObject({
        baseOffset: input.baseOffset ?? 0,
        partitionLeaderEpoch: input.partitionLeaderEpoch ?? -1,
        magic: MAGIC_V2,
        compression: input.compression === 'gzip' || input.compression === CompressionType.gzip ? CompressionType.gzip : CompressionType.none,
        isTransactional: input.isTransactional ?? false,
        isControl: false,
        lastOffsetDelta: input.records.length - 1,
        maxTimestamp: timestamps.length === 0 ? -1 : Math.max(...timestamps),
        producerId: input.producerId ?? -1,
        producerEpoch: input.producerEpoch ?? -1,
        baseSequence: input.baseSequence ?? -1,
        recordCount: input.records.length,
        sizeBytes: buf.length,
      });
      if (input.baseTimestamp !== undefined) expect(header.baseTimestamp).toBe(input.baseTimestamp);
      expect(records).toEqual(expectedRecords(input, header.baseTimestamp));
      expect(validateRecordBatch(buf)).toEqual(header);
    }), { numRuns: 150 });
  });

  it('decodeRecordBatch() gives back values up to 1 MiB, compressed or not', () => {
    const largeInputArb = fc.record({
      sizes: fc.array(fc.integer({ min: 0, max: 1 << 20 }), { minLength: 1, maxLength: 3 }),
      seed: fc.nat(255),
      compression: fc.constantFrom<'none' | 'gzip'>('none', 'gzip'),
    });
    fc.assert(fc.property(largeInputArb, ({ sizes, seed, compression }) => {
      const values = sizes.map((size, index) => {
        const value = Buffer.allocUnsafe(size);
        for (let position = 0; position < size; position++) value[position] = (position * 31 + seed + index) & 0xff;
        return value;
      });
      const input: BatchInput = { records: values.map((value, index) => ({ key: `key-${index}`, value, timestamp: T + index })), compression };
      const { records } = decodeRecordBatch(encodeRecordBatch(input));
      // Buffer.equals, not toEqual: deep equality walks a megabyte element by element for seconds.
      expect(records.length).toBe(values.length);
      records.forEach((record, index) => expect(record.value?.equals(values[index]), `value ${index}`).toBe(true));
    }), { numRuns: 6 });
  });

  it('decodeRecordBatch() returns keys and values as views of the input, not copies', () => {
    const buf = encodeRecordBatch(A2_INPUT);
    const [first] = decodeRecordBatch(buf).records;
    expect(first.key?.buffer).toBe(buf.buffer);
    expect(first.value?.buffer).toBe(buf.buffer);
  });

  it('encodeRecordBatch() writes object-form headers in property order, null values included', () => {
    const fromObject = encodeRecordBatch({ records: [{ value: 'v', timestamp: T, headers: { 'trace-id': 'abc', 'ключ-🔑': null } }] });
    const fromArray = encodeRecordBatch({ records: [{ value: 'v', timestamp: T, headers: [{ key: 'trace-id', value: 'abc' }, { key: 'ключ-🔑', value: null }] }] });
    expect(fromObject).toEqual(fromArray);
    expect(decodeRecordBatch(fromObject).records[0].headers).toEqual([{ key: 'trace-id', value: Buffer.from('abc') }, { key: 'ключ-🔑', value: null }]);
  });

  it('encodeRecordBatch() without records writes recordCount 0, lastOffsetDelta −1 and timestamps −1', () => {
    const buf = encodeRecordBatch({ records: [] });
    expect(buf.length).toBe(BATCH_HEADER_BYTES);
    expect(decodeRecordBatch(buf)).toEqual({ header: expect.objectContaining({ recordCount: 0, lastOffsetDelta: -1, baseTimestamp: -1, maxTimestamp: -1 }), records: [] });
  });

  it('encodeRecordBatch() takes baseTimestamp from the first record, else from the clock', () => {
    expect(readRecordBatchHeader(encodeRecordBatch({ records: [{ value: 'a', timestamp: T + 7 }, { value: 'b', timestamp: T }] })).baseTimestamp).toBe(T + 7);
    const before = Date.now();
    const { header, records } = decodeRecordBatch(encodeRecordBatch({ records: [{ value: 'a' }, { value: 'b', timestamp: T }] }));
    expect(header.baseTimestamp).toBeGreaterThanOrEqual(before);
    expect(header.baseTimestamp).toBeLessThanOrEqual(Date.now());
    expect(records.map((record) => record.timestamp)).toEqual([header.baseTimestamp, T]);
  });

  it('decodeRecordBatch() reports every record of a logAppendTime batch at its maxTimestamp', () => {
    const buf = encodeRecordBatch({ timestampType: TimestampType.logAppendTime, records: [{ value: 'a', timestamp: T }, { value: 'b', timestamp: T + 9 }] });
    const { header, records } = decodeRecordBatch(buf);
    expect(header.timestampType).toBe(TimestampType.logAppendTime);
    expect(records.map((record) => record.timestamp)).toEqual([T + 9, T + 9]);
  });

  it('encodeRecordBatch() refuses snappy, lz4, zstd and unknown codecs with UNSUPPORTED_COMPRESSION_TYPE', () => {
    for (const compression of ['snappy', 'lz4', 'zstd', 2, 3, 4, 7, 'brotli'] as const) {
      const error = thrownBy(() => encodeRecordBatch({ records: [{ value: 'v' }], compression: compression as BatchInput['compression'] }));
      expect(error.code).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    }
    expect(thrownBy(() => encodeRecordBatch({ records: [], compression: 'zstd' })).message).toContain('zstd');
  });

  it('encodeRecordBatch() throws INVALID_RECORD for a timestamp that is not a safe integer', () => {
    expect(thrownBy(() => encodeRecordBatch({ records: [{ value: 'v', timestamp: 1.5 }] })).code).toBe('INVALID_RECORD');
    expect(thrownBy(() => encodeRecordBatch({ baseTimestamp: -(2 ** 52), records: [{ value: 'v', timestamp: 2 ** 53 - 1 }] })).code).toBe('INVALID_RECORD');
  });
});

describe('record batches inside larger buffers', () => {
  it('decodeRecordBatch() gives the same answer for a batch alone, a copy, and the batch at any position', () => {
    fc.assert(fc.property(batchInputArb, fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 50 }), (input, before, after) => {
      const buf = encodeRecordBatch(input);
      const embedded = Buffer.concat([before, buf, after]);
      const whole = decodeRecordBatch(buf);
      expect(decodeRecordBatch(Buffer.from(buf))).toEqual(whole);
      expect(decodeRecordBatch(embedded, before.length)).toEqual(whole);
      expect(validateRecordBatch(embedded, before.length)).toEqual(whole.header);
      expect(isCrcValid(embedded, before.length)).toBe(true);
    }), { numRuns: 60 });
  });

  it('iterateRecordBatches() yields exactly the whole batches before a cut at any point', () => {
    const batchesArb = fc.array(batchInputArb.map((input) => encodeRecordBatch(input)), { minLength: 1, maxLength: 6 });
    const cutArb = batchesArb.chain((batches) => fc.tuple(fc.constant(batches), fc.nat(batches.reduce((sum, batch) => sum + batch.length, 0))));
    fc.assert(fc.property(cutArb, ([batches, cut]) => {
      const log = Buffer.concat(batches).subarray(0, cut);
      const expected: Array<{ position: number; sizeBytes: number }> = [];
      for (let position = 0, index = 0; index < batches.length && position + batches[index].length <= cut; index++) {
        expected.push({ position, sizeBytes: batches[index].length });
        position += batches[index].length;
      }
      const walked = [...iterateRecordBatches(log)];
      expect(walked.map(({ position, header }) => ({ position, sizeBytes: header.sizeBytes }))).toEqual(expected);
      for (const { position, header } of walked) expect(decodeRecordBatch(log, position).header).toEqual(header);
    }), { numRuns: 60 });
  });

  it('iterateRecordBatches() throws CORRUPT_MESSAGE at a batchLength too small to step over', () => {
    const log = Buffer.concat([fromHex(A1_HEX), fromHex(A2_HEX)]);
    log.writeInt32BE(48, 73 + 8);
    const error = thrownBy(() => [...iterateRecordBatches(log)]);
    expect(error.code).toBe('CORRUPT_MESSAGE');
    expect(error.details).toMatchObject({ position: 73, batchLength: 48 });
  });

  it('setBaseOffset() and setPartitionLeaderEpoch() rewrite the header and leave the CRC valid', () => {
    const log = Buffer.concat([fromHex(A1_HEX), fromHex(A2_HEX)]);
    setBaseOffset(log, 2 ** 40, 73);
    setPartitionLeaderEpoch(log, 7, 73);
    expect(isCrcValid(log, 73)).toBe(true);
    const { header, records } = decodeRecordBatch(log, 73);
    expect(header).toMatchObject({ baseOffset: 2 ** 40, partitionLeaderEpoch: 7, lastOffset: 2 ** 40 + 1 });
    expect(records.map((record) => record.offset)).toEqual([2 ** 40, 2 ** 40 + 1]);
    expect(log.subarray(0, 73)).toEqual(fromHex(A1_HEX));
  });
});

describe('validateRecordBatch() and decodeRecordBatch() reject bad batches', () => {
  it('validateRecordBatch() detects every single-byte change within bytes [21, end) by CRC', () => {
    fc.assert(fc.property(smallBatchArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (buf, index, mask) => {
      const position = 21 + (index % (buf.length - 21));
      buf[position] ^= mask;
      const error = thrownBy(() => validateRecordBatch(buf));
      expect(error.code).toBe('CORRUPT_MESSAGE');
      expect(error.message).toContain('CRC-32C');
      expect(thrownBy(() => decodeRecordBatch(buf)).code).toBe('CORRUPT_MESSAGE');
      expect(isCrcValid(buf)).toBe(false);
    }), { numRuns: 300 });
  });

  it('validateRecordBatch() names the stored and computed CRC in hex, with the batch position', () => {
    const buf = Buffer.concat([Buffer.alloc(5), fromHex(A1_HEX)]);
    buf[5 + 70] ^= 0x01;
    const error = thrownBy(() => validateRecordBatch(buf, 5));
    expect(error.message).toMatch(/0xe641a44b.*0x[0-9a-f]{8}/);
    expect(error.details).toMatchObject({ position: 5, expectedCrc: '0xe641a44b' });
  });

  it('validateRecordBatch() throws CORRUPT_MESSAGE for any change to batchLength or magic', () => {
    for (const position of [8, 9, 10, 11, 16]) {
      for (let bit = 0; bit < 8; bit++) {
        const buf = fromHex(A2_HEX);
        buf[position] ^= 1 << bit;
        expect(thrownBy(() => validateRecordBatch(buf)).code, `byte ${position} bit ${bit}`).toBe('CORRUPT_MESSAGE');
      }
    }
  });

  it('validateRecordBatch() and decodeRecordBatch() throw CORRUPT_MESSAGE for every truncation', () => {
    const batches = [fromHex(A2_HEX), encodeRecordBatch({ ...A2_INPUT, compression: 'gzip' })];
    for (const batch of batches) {
      for (let length = 0; length < batch.length; length++) {
        const cut = batch.subarray(0, length);
        expect(thrownBy(() => validateRecordBatch(cut)).code, `cut to ${length}`).toBe('CORRUPT_MESSAGE');
        expect(thrownBy(() => decodeRecordBatch(cut)).code, `cut to ${length}`).toBe('CORRUPT_MESSAGE');
        expect(isCrcValid(cut)).toBe(false);
      }
    }
  });

  it('validateRecordBatch() throws UNSUPPORTED_COMPRESSION_TYPE naming snappy, lz4 and zstd', () => {
    for (const [codec, id] of [['snappy', 2], ['lz4', 3], ['zstd', 4], ['unknown (7)', 7]] as const) {
      const buf = fromHex(A2_HEX);
      buf.writeInt16BE(id, 21);
      const error = thrownBy(() => validateRecordBatch(restampCrc(buf), 0, { checkRecords: false }));
      expect(error.code).toBe('UNSUPPORTED_COMPRESSION_TYPE');
      expect(error.message).toContain(codec);
      expect(thrownBy(() => decodeRecordBatch(buf)).code).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    }
  });

  it('validateRecordBatch() throws INVALID_RECORD when offset deltas do not run 0, 1, 2, …', () => {
    const inputArb = fc.integer({ min: 2, max: 10 }).chain((count) => fc.tuple(fc.constant(count), fc.nat(count - 1), fc.nat(63)));
    fc.assert(fc.property(inputArb, ([count, index, delta]) => {
      fc.pre(delta !== index);
      const buf = encodeRecordBatch({ records: Array.from({ length: count }, (_, i) => ({ value: `v${i}`, timestamp: T })) });
      // Each record here is length, attributes, timestampDelta 0, then offsetDelta: one byte each.
      buf[recordPositions(buf)[index] + 3] = delta * 2;
      restampCrc(buf);
      const error = thrownBy(() => validateRecordBatch(buf));
      expect(error.code).toBe('INVALID_RECORD');
      expect(error.details).toMatchObject({ recordIndex: index, offsetDelta: delta });
      expect(thrownBy(() => decodeRecordBatch(buf)).code).toBe('INVALID_RECORD');
      expect(validateRecordBatch(buf, 0, { checkRecords: false }).recordCount).toBe(count);
    }), { numRuns: 100 });
  });

  it('validateRecordBatch() throws INVALID_RECORD when lastOffsetDelta is not recordCount − 1', () => {
    const tooLarge = fromHex(A2_HEX);
    tooLarge.writeInt32BE(2, 23);
    restampCrc(tooLarge);
    expect(thrownBy(() => validateRecordBatch(tooLarge)).code).toBe('INVALID_RECORD');
    // A larger lastOffsetDelta is what compaction leaves behind: the frame alone still passes.
    expect(validateRecordBatch(tooLarge, 0, { checkRecords: false }).lastOffset).toBe(2);
    const tooSmall = restampCrc(fromHex(A2_HEX).fill(0, 23, 27));
    expect(thrownBy(() => validateRecordBatch(tooSmall, 0, { checkRecords: false })).code).toBe('INVALID_RECORD');
  });

  it('validateRecordBatch() throws CORRUPT_MESSAGE when records do not match recordCount or their lengths', () => {
    const withCount = (count: number): Buffer => {
      const buf = fromHex(A2_HEX);
      buf.writeInt32BE(count, 57);
      buf.writeInt32BE(count - 1, 23);
      return restampCrc(buf);
    };
    expect(thrownBy(() => validateRecordBatch(withCount(3))).code).toBe('CORRUPT_MESSAGE');
    expect(thrownBy(() => validateRecordBatch(withCount(1))).message).toContain('bytes after its 1 records');
    expect(thrownBy(() => validateRecordBatch(withCount(-1), 0, { checkRecords: false })).code).toBe('CORRUPT_MESSAGE');
    for (const length of [0x14, 0x18, 0x7e]) {
      const buf = fromHex(A1_HEX);
      buf[61] = length;
      const error = thrownBy(() => decodeRecordBatch(restampCrc(buf)));
      expect(error.code, `record length byte 0x${length.toString(16)}`).toBe('CORRUPT_MESSAGE');
      expect(error.details).toMatchObject({ position: 0, recordIndex: 0 });
    }
  });

  it('validateRecordBatch() with checkRecords: false checks the frame only', () => {
    const buf = fromHex(A1_HEX);
    buf[61] = 0x18;
    restampCrc(buf);
    expect(validateRecordBatch(buf, 0, { checkRecords: false }).recordCount).toBe(1);
    expect(thrownBy(() => validateRecordBatch(buf)).code).toBe('CORRUPT_MESSAGE');
  });

  it('validateRecordBatch() throws CORRUPT_MESSAGE for a gzip blob that fails to inflate', () => {
    const buf = encodeRecordBatch({ ...A2_INPUT, compression: 'gzip' });
    buf[BATCH_HEADER_BYTES] ^= 0xff;
    const error = thrownBy(() => validateRecordBatch(restampCrc(buf)));
    expect(error.code).toBe('CORRUPT_MESSAGE');
    expect(error.message).toContain('inflate');
  });

  it('decodeRecordBatch() throws MESSAGE_TOO_LARGE for gzip records that inflate past the limit', () => {
    const blob = gzipSync(Buffer.alloc(MAX_INFLATED_RECORDS_BYTES + 1), { level: 1 });
    const buf = Buffer.concat([encodeRecordBatch({ records: [], compression: 'gzip' }).subarray(0, BATCH_HEADER_BYTES), blob]);
    buf.writeInt32BE(buf.length - LOG_OVERHEAD_BYTES, 8);
    buf.writeInt32BE(0, 23);
    buf.writeInt32BE(1, 57);
    expect(thrownBy(() => decodeRecordBatch(restampCrc(buf))).code).toBe('MESSAGE_TOO_LARGE');
  });

  it('decodeRecordBatch() throws only MiniKafkaError for arbitrary record bytes under a valid CRC', () => {
    const recordBytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      smallBatchArb.map((batch) => batch.subarray(BATCH_HEADER_BYTES)),
      fc.tuple(smallBatchArb, fc.nat(), fc.nat(255)).map(([batch, index, byte]) => {
        const records = Buffer.from(batch.subarray(BATCH_HEADER_BYTES));
        records[index % records.length] = byte;
        return records;
      }),
    );
    fc.assert(fc.property(recordBytesArb, fc.integer({ min: -2, max: 6 }), fc.boolean(), (records, recordCount, isGzip) => {
      const buf = Buffer.concat([fromHex(A1_HEX).subarray(0, BATCH_HEADER_BYTES), records]);
      buf.writeInt32BE(buf.length - LOG_OVERHEAD_BYTES, 8);
      buf.writeInt16BE(isGzip ? CompressionType.gzip : CompressionType.none, 21);
      buf.writeInt32BE(recordCount - 1, 23);
      buf.writeInt32BE(recordCount, 57);
      try {
        const { header } = decodeRecordBatch(restampCrc(buf));
        expect(validateRecordBatch(buf)).toEqual(header);
      } catch (error) {
        expect(isMiniKafkaError(error), String(error)).toBe(true);
      }
    }), { numRuns: 500 });
  });

  it('iterateRecordBatches() and isCrcValid() throw only MiniKafkaError on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const buf = Buffer.from(bytes);
      expect(typeof isCrcValid(buf)).toBe('boolean');
      try {
        for (const { position, header } of iterateRecordBatches(buf)) expect(position + header.sizeBytes).toBeLessThanOrEqual(buf.length);
      } catch (error) {
        expect(isMiniKafkaError(error, 'CORRUPT_MESSAGE'), String(error)).toBe(true);
      }
    }), { numRuns: 300 });
  });

  it('readRecordBatchHeader() throws CORRUPT_MESSAGE for a baseOffset beyond 2^53 − 1', () => {
    const buf = fromHex(A1_HEX);
    buf.writeInt32BE(0x00200000, 0);
    const error = thrownBy(() => readRecordBatchHeader(buf));
    expect(error.code).toBe('CORRUPT_MESSAGE');
    expect(error.details).toMatchObject({ field: 'baseOffset', bytes: '0020000000000000' });
  });

  it('validateRecordBatch() throws CORRUPT_MESSAGE for a magic other than 2', () => {
    for (const magic of [0, 1, 3]) {
      const buf = fromHex(A1_HEX);
      buf[16] = magic;
      expect(thrownBy(() => validateRecordBatch(buf)).details).toMatchObject({ magic });
    }
  });
});
