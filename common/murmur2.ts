/**
 * Kafka's murmur2 hash and the key → partition rule built on it (kafka-facts §6.1).
 *
 * Java's producer, KafkaJS's default partitioner and librdkafka's `murmur2_random` all send a
 * keyed record to `(murmur2(keyBytes) & 0x7fffffff) % numPartitions`, over every partition of the
 * topic. Matching that bit for bit means a record keyed `user-123` lands in the same partition
 * whether minikafka's client or a Kafka client produced it.
 *
 * This is MurmurHash2 (32-bit) as Kafka's `Utils.murmur2` computes it: seed 0x9747b28c,
 * multiplier 0x5bd1e995, shift 24, the input read as little-endian 4-byte words, the 1–3 byte
 * tail mixed in at shifts 16/8/0. Java's `int` wraps at 32 bits; here every multiply is
 * `Math.imul` and every right shift is `>>>` (Java's `>>>`), so no intermediate ever leaves the
 * 32-bit range. The result is a signed int32, as Java returns it.
 */

import assert from 'node:assert';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's murmur2 of `data`, as a signed 32-bit integer. Works on any view (honours byteOffset). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const wordsEnd = length - (length % 4);
  for (let i = 0; i < wordsEnd; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // Java's switch falls through from case 3 to case 1; the multiply happens once, only when there is a tail.
  const tailLength = length % 4;
  if (tailLength === 3) h ^= data[wordsEnd + 2] << 16;
  if (tailLength >= 2) h ^= data[wordsEnd + 1] << 8;
  if (tailLength >= 1) {
    h ^= data[wordsEnd];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit. Not `Math.abs`, which differs for negatives and overflows at -2^31. */
export function toPositive(hash: number): number {
  return hash & 0x7fffffff;
}

/**
 * The partition Kafka's default partitioner picks for a keyed record.
 *
 * @param keyBytes the serialized key (for a string key, its UTF-8 bytes)
 * @param numPartitions how many partitions the topic has; a positive integer
 * @returns a partition number in [0, numPartitions)
 *
 * @example
 * partitionForKey(new TextEncoder().encode('user-123'), 6) // → 2, as Kafka's Java producer picks
 */
export function partitionForKey(keyBytes: Uint8Array, numPartitions: number): number {
  assert(Number.isSafeInteger(numPartitions) && numPartitions > 0, `numPartitions must be a positive integer, got ${numPartitions}`);
  return toPositive(murmur2(keyBytes)) % numPartitions;
}
