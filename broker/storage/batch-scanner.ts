/**
 * Walks the record batches of a .log file from a byte position, reading the file in large chunks
 * rather than one read per batch.
 *
 * Two modes: headers only (to find offsets and positions: lookups, loading a segment's tail) and
 * whole batches (recovery, which checks every CRC). The scanner only judges structure: a length
 * that fits, magic byte 2, offsets that are safe integers. Whether a batch's CRC is right or its
 * offsets fit the segment is the caller's rule.
 *
 * It stops with a reason: `end` (clean end of file), `partial` (the file ends inside a batch: a
 * torn write) or `invalid` (the bytes at this position are not a v2 batch header).
 */

import type { RecordBatchHeader } from '../../common/record-batch.ts';
import { BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, MAGIC_V2, readRecordBatchHeader } from '../../common/record-batch.ts';
import type { FileIo } from './file-io.ts';

export type ScanStopReason = 'end' | 'partial' | 'invalid';

export interface ScannedBatch {
  readonly position: number;
  readonly header: RecordBatchHeader;
  /** The whole batch (whole-batch mode only); a view into the scanner's chunk, valid until next(). */
  readonly bytes: Buffer | null;
}

const MAGIC_POSITION = 16;
const DEFAULT_CHUNK_BYTES = 1 << 20;

export class BatchScanner {
  readonly #io: FileIo;
  readonly #fd: number;
  readonly #fileSizeBytes: number;
  readonly #wholeBatches: boolean;
  readonly #chunkBytes: number;
  #chunk: Buffer = Buffer.alloc(0);
  #chunkPosition = 0;
  #position: number;
  #stopReason: ScanStopReason | null = null;

  constructor(io: FileIo, fd: number, fileSizeBytes: number, startPosition: number, options: { wholeBatches: boolean; chunkBytes?: number }) {
    this.#io = io;
    this.#fd = fd;
    this.#fileSizeBytes = fileSizeBytes;
    this.#position = startPosition;
    this.#wholeBatches = options.wholeBatches;
    this.#chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  /** Where the scan stands: after a stop, the first byte that is not part of a good batch. */
  get position(): number {
    return this.#position;
  }

  get stopReason(): ScanStopReason | null {
    return this.#stopReason;
  }

  next(): ScannedBatch | null {
    if (this.#stopReason !== null) return null;
    const position = this.#position;
    const remaining = this.#fileSizeBytes - position;
    if (remaining === 0) return this.#stop('end');
    if (remaining < BATCH_HEADER_BYTES) return this.#stop('partial');
    const headerAt = this.#ensure(position, BATCH_HEADER_BYTES);
    const batchLength = this.#chunk.readInt32BE(headerAt + 8);
    if (this.#chunk[headerAt + MAGIC_POSITION] !== MAGIC_V2 || batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES) {
      return this.#stop('invalid');
    }
    const sizeBytes = LOG_OVERHEAD_BYTES + batchLength;
    if (sizeBytes > remaining) return this.#stop('partial');
    let header: RecordBatchHeader;
    try {
      header = readRecordBatchHeader(this.#chunk, headerAt);
    } catch {
      return this.#stop('invalid');
    }
    let bytes: Buffer | null = null;
    if (this.#wholeBatches) {
      const at = this.#ensure(position, sizeBytes);
      bytes = this.#chunk.subarray(at, at + sizeBytes);
    }
    this.#position = position + sizeBytes;
    return { position, header, bytes };
  }

  #stop(reason: ScanStopReason): null {
    this.#stopReason = reason;
    return null;
  }

  /** Makes bytes [position, position + length) present in the chunk; returns their index in it. */
  #ensure(position: number, length: number): number {
    const chunkEnd = this.#chunkPosition + this.#chunk.length;
    if (position >= this.#chunkPosition && position + length <= chunkEnd) return position - this.#chunkPosition;
    const wanted = Math.min(Math.max(length, this.#chunkBytes), this.#fileSizeBytes - position);
    if (this.#chunk.length < wanted || this.#chunk.length > 4 * wanted) this.#chunk = Buffer.allocUnsafe(wanted);
    const read = this.#io.read(this.#fd, this.#chunk, 0, wanted, position);
    this.#chunkPosition = position;
    this.#chunk = this.#chunk.subarray(0, read);
    if (read < length) throw new Error(`short read at ${position}: wanted ${length} bytes, got ${read}`);
    return 0;
  }
}
