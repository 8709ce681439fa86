/**
 * Where a record goes (kafka-facts §6.1), as Kafka's Java producer decides:
 *
 * 1. an explicit partition wins;
 * 2. a key goes to `(murmur2(keyBytes) & 0x7fffffff) % partitionCount`, over all partitions
 *    (common/murmur2.ts), so a key lands where a Java or KafkaJS producer with the same partition
 *    count puts it;
 * 3. records without a key stick to one partition until about batch.size bytes went there, then
 *    move to another chosen at random (KIP-480's sticky partitioner, with KIP-794's switch after
 *    batch.size bytes): whole batches instead of one record per partition, spread evenly over time.
 */

import { partitionForKey } from '../../common/murmur2.ts';

/** String keys up to this many UTF-8 bytes are hashed in a reused buffer, with no allocation per record. */
const SCRATCH_BYTES = 256;
/** A UTF-8 character takes at most 3 bytes per UTF-16 code unit. */
const MAX_UTF8_BYTES_PER_CODE_UNIT = 3;

interface StickyChoice {
  partition: number;
  bytesLeft: number;
}

export class Partitioner {
  readonly #batchBytes: number;
  readonly #sticky = new Map<string, StickyChoice>();
  readonly #random: () => number;
  readonly #scratch = Buffer.alloc(SCRATCH_BYTES);
  /** Views of #scratch by length: murmur2 hashes a whole Uint8Array. */
  readonly #scratchViews: Uint8Array[] = [];

  /** @param random a number in [0, 1); injectable so tests can fix the choice */
  constructor(batchBytes: number, random: () => number = Math.random) {
    this.#batchBytes = batchBytes;
    this.#random = random;
  }

  /** The partition for a record of `sizeBytes` with `key` (a string is its UTF-8 bytes; null: none), and no explicit partition. */
  partitionFor(topic: string, key: Buffer | string | null, partitionCount: number, sizeBytes: number): number {
    if (key !== null) return partitionForKey(typeof key === 'string' ? this.#utf8(key) : key, partitionCount);
    let choice = this.#sticky.get(topic);
    if (choice === undefined || choice.bytesLeft <= 0 || choice.partition >= partitionCount) {
      choice = { partition: this.#nextPartition(choice?.partition ?? -1, partitionCount), bytesLeft: this.#batchBytes };
      this.#sticky.set(topic, choice);
    }
    choice.bytesLeft -= sizeBytes;
    return choice.partition;
  }

  /** The UTF-8 bytes of `key`, in the scratch buffer when they fit (valid until the next call). */
  #utf8(key: string): Uint8Array {
    if (key.length * MAX_UTF8_BYTES_PER_CODE_UNIT > SCRATCH_BYTES) return Buffer.from(key, 'utf8');
    const length = this.#scratch.write(key, 0, 'utf8');
    return (this.#scratchViews[length] ??= new Uint8Array(this.#scratch.buffer, this.#scratch.byteOffset, length));
  }

  /** A random partition other than `previous` when there is another. */
  #nextPartition(previous: number, partitionCount: number): number {
    if (partitionCount === 1) return 0;
    if (previous < 0 || previous >= partitionCount) return Math.floor(this.#random() * partitionCount);
    const offset = 1 + Math.floor(this.#random() * (partitionCount - 1));
    return (previous + offset) % partitionCount;
  }
}
