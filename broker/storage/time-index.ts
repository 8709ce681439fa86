/**
 * The sparse time index of one segment: `<base offset>.timeindex`.
 *
 * | bytes  | field          | meaning                                                     |
 * |--------|----------------|-------------------------------------------------------------|
 * | 0..7   | timestamp      | int64 BE: the largest record timestamp seen so far           |
 * | 8..11  | relativeOffset | int32 BE: last offset of the batch that carried it − base    |
 *
 * An entry (T, O) says: every record before offset O has a timestamp at or below T. Entries are
 * added with offset-index entries, and once more when the segment stops being active, but only
 * when T grows, so timestamps strictly increase and offsets never decrease. The last entry of a
 * closed segment holds the segment's largest timestamp, which retention.ms reads.
 */

import assert from 'node:assert';
import type { FileIo } from './file-io.ts';
import { IndexFile, SparseIndex } from './index-file.ts';

export const TIME_INDEX_ENTRY_BYTES = 12;

export interface TimestampOffset {
  readonly timestamp: number;
  readonly offset: number;
}

export class TimeIndex extends SparseIndex {
  private constructor(baseOffset: number, file: IndexFile) {
    super(baseOffset, file);
  }

  static open(io: FileIo, path: string, baseOffset: number, maxIndexBytes: number): { index: TimeIndex; isWellSized: boolean } {
    const { index, isWellSized } = IndexFile.open(io, path, TIME_INDEX_ENTRY_BYTES, maxIndexBytes);
    return { index: new TimeIndex(baseOffset, index), isWellSized };
  }


  entryAt(i: number): TimestampOffset {
    const view = this.file.view;
    const at = i * TIME_INDEX_ENTRY_BYTES;
    const timestamp = view.readInt32BE(at) * 0x1_0000_0000 + view.readUInt32BE(at + 4);
    return { timestamp, offset: this.baseOffset + view.readInt32BE(at + 8) };
  }

  get lastEntry(): TimestampOffset | null {
    return this.entries === 0 ? null : this.entryAt(this.entries - 1);
  }

  /** Adds (timestamp, offset) if the timestamp is newer than the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    const last = this.lastEntry;
    if (last !== null && timestamp <= last.timestamp) return;
    if (this.isFull) return;
    const relativeOffset = offset - this.baseOffset;
    assert(relativeOffset >= 0 && relativeOffset <= 0x7fffffff, `offset ${offset} does not fit time index based at ${this.baseOffset}`);
    assert(last === null || offset >= last.offset, `time index offsets must not decrease: ${offset} after ${last?.offset}`);
    const at = this.file.appendSlot();
    const view = this.file.view;
    view.writeInt32BE(Math.floor(timestamp / 0x1_0000_0000), at);
    view.writeUInt32BE(timestamp >>> 0, at + 4);
    view.writeInt32BE(relativeOffset, at + 8);
  }

  /** The greatest entry whose timestamp is strictly below `targetTimestamp`: every record before
   * its offset is older than the target, so a search for the target may start there. */
  lookup(targetTimestamp: number): TimestampOffset {
    let low = 0;
    let high = this.entries - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.entryAt(mid).timestamp < targetTimestamp) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entryAt(found);
  }

  /** Drops every entry whose offset is at or above `offset`. */
  truncateTo(offset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.entryAt(keep - 1).offset >= offset) keep--;
    this.file.truncateToEntries(keep);
  }


  /** Timestamps strictly increase, offsets never decrease and stay inside the segment. */
  isSane(nextOffset: number): boolean {
    let previous: TimestampOffset = { timestamp: Number.MIN_SAFE_INTEGER, offset: this.baseOffset };
    for (let i = 0; i < this.entries; i++) {
      const entry = this.entryAt(i);
      if (entry.timestamp <= previous.timestamp || entry.offset < previous.offset || entry.offset >= nextOffset) return false;
      previous = entry;
    }
    return true;
  }

}
