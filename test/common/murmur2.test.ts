import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, toPositive } from '../../common/murmur2.ts';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * An independent oracle: the same algorithm written over BigInt with explicit mod-2^32 wrapping,
 * so it shares no 32-bit tricks (Math.imul, >>>, | 0) with the code under test.
 */
function bigIntMurmur2(data: Uint8Array): number {
  const MOD = 1n << 32n;
  const wrap = (x: bigint): bigint => ((x % MOD) + MOD) % MOD;
  const m = 0x5bd1e995n;
  let h = wrap(0x9747b28cn ^ BigInt(data.length));
  const words = Math.floor(data.length / 4);
  for (let w = 0; w < words; w++) {
    let k = 0n;
    for (let b = 3; b >= 0; b--) k = k * 256n + BigInt(data[w * 4 + b]);
    k = wrap(k * m);
    k ^= k >> 24n;
    k = wrap(k * m);
    h = wrap(h * m);
    h ^= k;
  }
  const tail = data.length % 4;
  const base = words * 4;
  if (tail >= 1) {
    if (tail === 3) h ^= BigInt(data[base + 2]) << 16n;
    if (tail >= 2) h ^= BigInt(data[base + 1]) << 8n;
    h ^= BigInt(data[base]);
    h = wrap(h * m);
  }
  h ^= h >> 13n;
  h = wrap(h * m);
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h));
}

describe('murmur2', () => {
  it("murmur2() matches Kafka's own UtilsTest vectors", () => {
    expect(murmur2(utf8('21'))).toBe(-973932308);
    expect(murmur2(utf8('foobar'))).toBe(-790332482);
    expect(murmur2(utf8('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(utf8('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(utf8('abc'))).toBe(479470107);
  });

  it('murmur2() and partitionForKey() match kafka-facts Appendix A.3 for 3, 6 and 12 partitions', () => {
    const vectors: Array<[string, number, number, number, number]> = [
      ['', 275646681, 0, 3, 9],
      ['a', -1563381124, 1, 4, 4],
      ['hello', 2132663229, 0, 3, 9],
      ['kafka', -798503068, 1, 4, 4],
      ['user-123', -1468255980, 2, 2, 8],
      ['order-42', 501153024, 0, 0, 0],
    ];
    for (const [key, hash, p3, p6, p12] of vectors) {
      expect(murmur2(utf8(key)), key).toBe(hash);
      expect([partitionForKey(utf8(key), 3), partitionForKey(utf8(key), 6), partitionForKey(utf8(key), 12)], key).toEqual([p3, p6, p12]);
    }
  });

  it('murmur2() equals a BigInt reference for every length, including each tail length 0-3', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
      expect(murmur2(bytes)).toBe(bigIntMurmur2(bytes));
    }), { numRuns: 1000 });
  });

  it('murmur2() reads a subarray view from its byteOffset, not from the start of the underlying buffer', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(39), (bytes, cut) => {
      const start = cut % bytes.length;
      const view = bytes.subarray(start);
      expect(murmur2(view)).toBe(murmur2(Uint8Array.from(view)));
      expect(murmur2(Buffer.from(view))).toBe(murmur2(view));
    }));
  });

  it('murmur2() answers a signed 32-bit integer', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const hash = murmur2(bytes);
      expect(hash).toBe(hash | 0);
    }));
  });

  it('toPositive() clears the sign bit rather than negating, as Kafka does', () => {
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff);
    expect(toPositive(-973932308)).not.toBe(973932308);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(2147483647);
    expect(toPositive(5)).toBe(5);
  });

  it('partitionForKey() answers a partition in [0, numPartitions) for any key', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 10_000 }), (bytes, numPartitions) => {
      const partition = partitionForKey(bytes, numPartitions);
      expect(Number.isInteger(partition) && partition >= 0 && partition < numPartitions).toBe(true);
      expect(partition).toBe((bigIntMurmur2(bytes) & 0x7fffffff) % numPartitions);
    }));
  });

  it('partitionForKey() throws when numPartitions is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => partitionForKey(utf8('k'), bad)).toThrow(/numPartitions/);
    }
  });
});
