import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMiniKafkaError } from '../../common/errors.ts';
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../common/varint.ts';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** An independent oracle: zigzag and LEB128 in BigInt, straight from the definition in kafka-facts §2.2. */
function referenceVarlong(value: bigint): Buffer {
  let zigzag = value >= 0n ? value * 2n : -value * 2n - 1n;
  const bytes: number[] = [];
  while (zigzag > 0x7fn) {
    bytes.push(Number(zigzag & 0x7fn) | 0x80);
    zigzag >>= 7n;
  }
  bytes.push(Number(zigzag));
  return Buffer.from(bytes);
}

function encodeVarint(value: number): Buffer {
  const buf = Buffer.alloc(sizeOfVarint(value));
  expect(writeVarint(buf, value, 0)).toBe(buf.length);
  return buf;
}

function encodeVarlong(value: number): Buffer {
  const buf = Buffer.alloc(sizeOfVarlong(value));
  expect(writeVarlong(buf, value, 0)).toBe(buf.length);
  return buf;
}

function corruptCode(read: () => unknown): string | undefined {
  try {
    read();
  } catch (error) {
    return isMiniKafkaError(error) ? error.code : `not a MiniKafkaError: ${String(error)}`;
  }
  return undefined;
}

const edgeLongs = [
  0, 1, -1, 63, -64, 64, -65, 2 ** 30 - 1, -(2 ** 30), 2 ** 30, -(2 ** 30) - 1, INT32_MAX, INT32_MIN,
  2 ** 31, INT32_MIN - 1, 2 ** 32, -(2 ** 32), 2 ** 52, -(2 ** 52), 2 ** 53 - 1, -(2 ** 53 - 1), 1_700_000_000_000,
];

describe('varint', () => {
  it.each([
    [0, '00'], [-1, '01'], [1, '02'], [5, '0a'], [64, '8001'],
  ])('writeVarint() and writeVarlong() encode %i as %s (kafka-facts §2.2)', (value, hex) => {
    expect(encodeVarint(value).toString('hex')).toBe(hex);
    expect(encodeVarlong(value).toString('hex')).toBe(hex);
    expect(readVarint(Buffer.from(hex, 'hex'), 0)).toEqual({ value, position: hex.length / 2 });
    expect(readVarlong(Buffer.from(hex, 'hex'), 0)).toEqual({ value, position: hex.length / 2 });
  });

  it('writeVarint() takes 5 bytes for the int32 extremes', () => {
    expect(encodeVarint(INT32_MIN).toString('hex')).toBe('ffffffff0f');
    expect(encodeVarint(INT32_MAX).toString('hex')).toBe('feffffff0f');
  });

  it('readVarint() reads back every int32 that writeVarint() wrote, at any position', () => {
    fc.assert(fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.nat(16), (value, position) => {
      const buf = Buffer.alloc(position + 5 + 3, 0xaa);
      const end = writeVarint(buf, value, position);
      expect(end - position).toBe(sizeOfVarint(value));
      expect(buf.subarray(position, end)).toEqual(referenceVarlong(BigInt(value)));
      expect(readVarint(buf, position)).toEqual({ value, position: end });
    }), { numRuns: 500 });
  });

  it('writeVarlong() matches a BigInt reference and readVarlong() reads it back, for every safe integer', () => {
    const safeInteger = fc.oneof(fc.maxSafeInteger(), fc.constantFrom(...edgeLongs), fc.integer({ min: -(2 ** 35), max: 2 ** 35 }));
    fc.assert(fc.property(safeInteger, fc.nat(16), (value, position) => {
      const buf = Buffer.alloc(position + 10 + 3, 0xaa);
      const end = writeVarlong(buf, value, position);
      expect(end - position).toBe(sizeOfVarlong(value));
      expect(buf.subarray(position, end)).toEqual(referenceVarlong(BigInt(value)));
      expect(readVarlong(buf, position)).toEqual({ value, position: end });
    }), { numRuns: 500 });
  });

  it('readVarint() and readVarlong() read a run of values back to back, one after another', () => {
    fc.assert(fc.property(fc.array(fc.maxSafeInteger(), { maxLength: 50 }), (values) => {
      const buf = Buffer.alloc(values.reduce((sum, value) => sum + sizeOfVarlong(value), 0));
      let position = 0;
      for (const value of values) position = writeVarlong(buf, value, position);
      expect(position).toBe(buf.length);
      position = 0;
      for (const value of values) {
        const read = readVarlong(buf, position);
        expect(read.value).toBe(value);
        position = read.position;
      }
      expect(position).toBe(buf.length);
    }), { numRuns: 100 });
  });

  it('readVarint() and readVarlong() accept padded encodings within the byte limit', () => {
    expect(readVarint(Buffer.from('80808000', 'hex'), 0)).toEqual({ value: 0, position: 4 });
    expect(readVarlong(Buffer.from('828080808080808000', 'hex'), 0)).toEqual({ value: 1, position: 9 });
  });

  it('readVarint() and readVarlong() throw CORRUPT_MESSAGE at every truncation of a multi-byte value', () => {
    for (const value of edgeLongs) {
      const long = encodeVarlong(value);
      for (let length = 0; length < long.length; length++) {
        expect(corruptCode(() => readVarlong(long.subarray(0, length), 0)), `varlong ${value} cut to ${length}`).toBe('CORRUPT_MESSAGE');
      }
      if ((value | 0) !== value) continue;
      const int = encodeVarint(value);
      for (let length = 0; length < int.length; length++) {
        expect(corruptCode(() => readVarint(int.subarray(0, length), 0)), `varint ${value} cut to ${length}`).toBe('CORRUPT_MESSAGE');
      }
    }
  });

  it('readVarint() throws CORRUPT_MESSAGE past 5 bytes or 32 bits', () => {
    expect(corruptCode(() => readVarint(Buffer.from('808080808000', 'hex'), 0))).toBe('CORRUPT_MESSAGE');
    expect(corruptCode(() => readVarint(Buffer.from('ffffffff1f', 'hex'), 0))).toBe('CORRUPT_MESSAGE');
    expect(readVarint(Buffer.from('ffffffff0f', 'hex'), 0).value).toBe(INT32_MIN);
  });

  it('readVarlong() throws CORRUPT_MESSAGE past 10 bytes or 64 bits', () => {
    expect(corruptCode(() => readVarlong(Buffer.from('8080808080808080808000', 'hex'), 0))).toBe('CORRUPT_MESSAGE');
    expect(corruptCode(() => readVarlong(Buffer.from('ffffffffffffffffff02', 'hex'), 0))).toBe('CORRUPT_MESSAGE');
  });

  it('readVarlong() throws CORRUPT_MESSAGE for int64 values outside the safe integer range', () => {
    for (const value of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      expect(corruptCode(() => readVarlong(referenceVarlong(value), 0)), String(value)).toBe('CORRUPT_MESSAGE');
    }
  });
});
