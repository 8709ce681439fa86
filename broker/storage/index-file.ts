/**
 * The storage under both sparse indexes: a file of fixed-size entries, mirrored in a Buffer.
 *
 * Kafka memory-maps its index files; Node cannot, so the entries live in a Buffer (an index holds
 * at most segment.index.bytes, 10 MiB by default, and is usually far smaller) and the file is
 * brought up to date with one positional write of the new tail on flush, roll and close. That is
 * safe because an index is derived data: after an unclean stop, recovery rebuilds the index of
 * every segment it scans, and segments below the recovery point had their index written and
 * fsynced when they were flushed.
 *
 * Invariants: the file never holds more entries than the Buffer; `#persistedEntries` entries of
 * the file equal the Buffer's first entries.
 */

import assert from 'node:assert';
import type { FileIo } from './file-io.ts';
import { readWholeFile } from './file-io.ts';

export class IndexFile {
  readonly path: string;
  readonly entryBytes: number;
  readonly maxEntries: number;
  readonly #io: FileIo;
  #buffer: Buffer;
  #entries = 0;
  #persistedEntries = 0;
  #fd: number;

  private constructor(io: FileIo, path: string, entryBytes: number, maxIndexBytes: number, fd: number, content: Buffer) {
    this.#io = io;
    this.path = path;
    this.entryBytes = entryBytes;
    this.maxEntries = Math.floor(maxIndexBytes / entryBytes);
    this.#fd = fd;
    this.#buffer = Buffer.alloc(Math.max(content.length, 64 * entryBytes));
    content.copy(this.#buffer);
    this.#entries = Math.floor(content.length / entryBytes);
    this.#persistedEntries = this.#entries;
  }

  /** Opens or creates the file and reads its entries. A length that is not a whole number of
   * entries is reported through `isWellSized` so the caller can rebuild. */
  static open(io: FileIo, path: string, entryBytes: number, maxIndexBytes: number): { index: IndexFile; isWellSized: boolean } {
    const exists = io.exists(path);
    const content = exists ? readWholeFile(io, path) : Buffer.alloc(0);
    const fd = io.open(path, exists ? 'r+' : 'wx+');
    const index = new IndexFile(io, path, entryBytes, maxIndexBytes, fd, content);
    return { index, isWellSized: content.length % entryBytes === 0 && index.#entries <= index.maxEntries };
  }

  get entries(): number {
    return this.#entries;
  }

  get isFull(): boolean {
    return this.#entries >= this.maxEntries;
  }

  /** The Buffer holding the entries; valid until the next append. */
  get view(): Buffer {
    return this.#buffer;
  }

  /** Reserves room for one more entry and returns its byte position in `view`. */
  appendSlot(): number {
    assert(!this.isFull, `index ${this.path} is full`);
    const needed = (this.#entries + 1) * this.entryBytes;
    if (needed > this.#buffer.length) {
      const grown = Buffer.alloc(Math.min(this.#buffer.length * 2, this.maxEntries * this.entryBytes));
      this.#buffer.copy(grown, 0, 0, this.#entries * this.entryBytes);
      this.#buffer = grown;
    }
    const position = this.#entries * this.entryBytes;
    this.#entries += 1;
    return position;
  }

  /** Keeps the first `entries` entries, in memory and on disk. */
  truncateToEntries(entries: number): void {
    assert(entries >= 0 && entries <= this.#entries);
    this.#entries = entries;
    if (this.#persistedEntries > entries) {
      this.#io.truncate(this.#fd, entries * this.entryBytes);
      this.#persistedEntries = entries;
    }
  }

  /** Writes the entries not yet in the file with one positional write. */
  writeToFile(): void {
    if (this.#persistedEntries === this.#entries) return;
    const start = this.#persistedEntries * this.entryBytes;
    const end = this.#entries * this.entryBytes;
    this.#io.write(this.#fd, this.#buffer, start, end - start, start);
    this.#persistedEntries = this.#entries;
  }

  async fsync(): Promise<void> {
    this.writeToFile();
    await this.#io.fsync(this.#fd);
  }

  close(): void {
    this.writeToFile();
    this.#io.close(this.#fd);
  }

  /** Closes without writing: for a file about to be renamed away or deleted. */
  closeWithoutWriting(): void {
    this.#io.close(this.#fd);
  }
}

/** What both sparse indexes do the same way: they keep their entries in an IndexFile. */
export abstract class SparseIndex {
  readonly baseOffset: number;
  protected readonly file: IndexFile;

  protected constructor(baseOffset: number, file: IndexFile) {
    this.baseOffset = baseOffset;
    this.file = file;
  }

  get path(): string {
    return this.file.path;
  }
  get entries(): number {
    return this.file.entries;
  }
  get isFull(): boolean {
    return this.file.isFull;
  }
  reset(): void {
    this.file.truncateToEntries(0);
  }
  writeToFile(): void {
    this.file.writeToFile();
  }
  fsync(): Promise<void> {
    return this.file.fsync();
  }
  close(): void {
    this.file.close();
  }
  closeWithoutWriting(): void {
    this.file.closeWithoutWriting();
  }
}
