/**
 * The sparse offset index of one segment: `<base offset>.index`.
 *
 * | bytes | field          | meaning                                                  |
 * |-------|----------------|----------------------------------------------------------|
 * | 0..3  | relativeOffset | int32 BE: last offset of the indexed batch − base offset |
 * | 4..7  | position       | int32 BE: byte position of that batch in the .log file    |
 *
 * One entry for every `index.interval.bytes` of log (4096 by default), never for the first batch
 * (its position is 0). Both columns strictly increase. Entries are a hint: a lookup returns the
 * greatest entry at or below the wanted offset and the segment scans batch headers forward from
 * there. An index that fails the sanity check is rebuilt from the log, never trusted.
 */

import assert from 'node:assert';
import type { FileIo } from './file-io.ts';
import { IndexFile, SparseIndex } from './index-file.ts';

export const OFFSET_INDEX_ENTRY_BYTES = 8;

export interface OffsetPosition {
  readonly offset: number;
  readonly position: number;
}

export class OffsetIndex extends SparseIndex {
  private constructor(baseOffset: number, file: IndexFile) {
    super(baseOffset, file);
  }

  static open(io: FileIo, path: string, baseOffset: number, maxIndexBytes: number): { index: OffsetIndex; isWellSized: boolean } {
    const { index, isWellSized } = IndexFile.open(io, path, OFFSET_INDEX_ENTRY_BYTES, maxIndexBytes);
    return { index: new OffsetIndex(baseOffset, index), isWellSized };
  }


  entryAt(i: number): OffsetPosition {
    const view = this.file.view;
    const at = i * OFFSET_INDEX_ENTRY_BYTES;
    return { offset: this.baseOffset + view.readInt32BE(at), position: view.readInt32BE(at + 4) };
  }

  append(offset: number, position: number): void {
    const relativeOffset = offset - this.baseOffset;
    assert(relativeOffset >= 0 && relativeOffset <= 0x7fffffff, `offset ${offset} does not fit index based at ${this.baseOffset}`);
    if (this.entries > 0) {
      const last = this.entryAt(this.entries - 1);
      assert(offset > last.offset && position > last.position, `index entries must increase: ${offset}@${position} after ${last.offset}@${last.position}`);
    }
    const at = this.file.appendSlot();
    this.file.view.writeInt32BE(relativeOffset, at);
    this.file.view.writeInt32BE(position, at + 4);
  }

  /** The greatest entry whose offset is at or below `targetOffset`; (baseOffset, 0) if none. */
  lookup(targetOffset: number): OffsetPosition {
    const slot = this.#greatestAtOrBelow(targetOffset - this.baseOffset);
    return slot < 0 ? { offset: this.baseOffset, position: 0 } : this.entryAt(slot);
  }

  /** Drops every entry at or above `offset`. */
  truncateTo(offset: number): void {
    this.file.truncateToEntries(this.#greatestAtOrBelow(offset - this.baseOffset - 1) + 1);
  }


  /** Entries strictly increase and point inside the log: Kafka's sanity check, plus positions. */
  isSane(logSizeBytes: number): boolean {
    let previous: OffsetPosition = { offset: this.baseOffset - 1, position: 0 };
    for (let i = 0; i < this.entries; i++) {
      const entry = this.entryAt(i);
      if (entry.offset <= previous.offset || entry.position <= previous.position || entry.position >= logSizeBytes) return false;
      previous = entry;
    }
    return true;
  }


  /** Binary search: the slot of the greatest relative offset <= target, or -1. */
  #greatestAtOrBelow(targetRelative: number): number {
    const view = this.file.view;
    let low = 0;
    let high = this.entries - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (view.readInt32BE(mid * OFFSET_INDEX_ENTRY_BYTES) <= targetRelative) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }
}
