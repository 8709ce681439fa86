/**
 * The log cleaner's key → latest offset map (Kafka's SkimpyOffsetMap), built over the dirty
 * section of a log before the log is recopied: a record survives cleaning only if no later record
 * of its key is in the map.
 *
 * Bounded memory: the map accepts entries until their estimated cost reaches `maxBytes`
 * (log.cleaner.dedupe.buffer.size); the cleaner then stops reading the dirty section there and
 * cleans only up to that offset, leaving the rest dirty for the next pass.
 *
 * Kafka stores a 16-byte MD5 digest of each key plus an 8-byte offset, 24 bytes an entry, and lives
 * with the (negligible) chance that two keys share a digest, which would drop the older key's
 * latest record. Here the key itself is the map key (its bytes as a latin1 string, one char a
 * byte), so two keys never collide, and an entry costs its key's length plus an estimate of what a
 * JavaScript Map entry with a string key and a number takes (`ENTRY_OVERHEAD_BYTES`).
 *
 * Invariant: an entry's offset only grows (records are added in offset order).
 */

import assert from 'node:assert';

/** An estimate of a Map entry's own cost in V8: the entry, the string header, the number. */
export const ENTRY_OVERHEAD_BYTES = 64;

export class OffsetMap {
  readonly maxBytes: number;
  readonly #latestOffsets = new Map<string, number>();
  #sizeBytes = 0;

  constructor(maxBytes: number) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes > 0, `an offset map needs a positive byte limit, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Keys held. */
  get size(): number {
    return this.#latestOffsets.size;
  }

  /** The estimated memory the entries take. */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** What adding `key` would cost: 0 if it is there already. */
  costOf(key: Buffer): number {
    return this.#latestOffsets.has(keyString(key)) ? 0 : entryCost(key);
  }

  /** Whether entries costing `costBytes` more still fit. */
  hasRoomFor(costBytes: number): boolean {
    return this.#sizeBytes + costBytes <= this.maxBytes;
  }

  /** Records that `key`'s latest record so far is at `offset`. The caller checks room first. */
  put(key: Buffer, offset: number): void {
    const name = keyString(key);
    const previous = this.#latestOffsets.get(name);
    assert(previous === undefined || offset > previous, `offsets go into the map in order: ${offset} after ${previous}`);
    if (previous === undefined) this.#sizeBytes += entryCost(key);
    this.#latestOffsets.set(name, offset);
  }

  /** The latest offset seen for `key`, or -1. */
  latestOffset(key: Buffer): number {
    return this.#latestOffsets.get(keyString(key)) ?? -1;
  }
}

function entryCost(key: Buffer): number {
  return key.length + ENTRY_OVERHEAD_BYTES;
}

function keyString(key: Buffer): string {
  return key.toString('latin1');
}
