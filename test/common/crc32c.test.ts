import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../common/crc32c.ts';

/** A bit-at-a-time CRC-32C from its definition: reflected polynomial 0x82F63B78, init and xorout 0xFFFFFFFF. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc & 1) === 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('crc32c() gives the check value 0xE3069283 for "123456789" (kafka-facts A.5)', () => {
    expect(crc32c(Buffer.from('123456789', 'latin1'))).toBe(0xe3069283);
  });

  it('crc32c() matches the iSCSI vectors of RFC 3720 §B.4', () => {
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, index) => index)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, index) => 31 - index)))).toBe(0x113fdb5c);
  });

  it('crc32c() of an empty range is 0', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.from('abc'), 2, 2)).toBe(0);
  });

  it('crc32c() over [start, end) equals the bit-at-a-time reference over a copy of that range', () => {
    const bytesWithRange = fc.uint8Array({ maxLength: 300 }).chain((bytes) =>
      fc.tuple(fc.constant(bytes), fc.nat(bytes.length), fc.nat(bytes.length)));
    fc.assert(fc.property(bytesWithRange, ([bytes, a, b]) => {
      const [start, end] = a <= b ? [a, b] : [b, a];
      const expected = referenceCrc32c(bytes.slice(start, end));
      expect(crc32c(bytes, start, end)).toBe(expected);
      expect(crc32c(Buffer.from(bytes.slice(start, end)))).toBe(expected);
    }), { numRuns: 300 });
  });

  it('crc32c() answers an unsigned 32-bit number', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const crc = crc32c(bytes);
      expect(Number.isInteger(crc) && crc >= 0 && crc <= 0xffffffff).toBe(true);
    }), { numRuns: 200 });
  });
});
