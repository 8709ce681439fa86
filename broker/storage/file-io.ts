/**
 * The file operations the storage engine uses, in one narrow interface.
 *
 * Why an interface: durability is the lesson here, and it can only be tested if a test can see
 * which bytes reached the disk. The real implementation is plain `node:fs`; the power-loss test
 * wraps it and remembers what each fsync made durable (test/helpers/power-loss-io.ts).
 *
 * Why synchronous writes and reads: an append must assign its offset and write its bytes with no
 * `await` in between, so appends to one partition stay serialized without locks (Kafka uses a
 * lock; we use the event loop). A write into the page cache takes microseconds; going through the
 * thread pool would cost more than it saves. fsync is the slow call, so it alone is asynchronous,
 * and group commit shares one fsync among every append waiting for it.
 */

import fs from 'node:fs';

export interface FileIo {
  /** Opens a file; `flags` as in fs.openSync ('r', 'r+', 'wx+'). */
  open(path: string, flags: string): number;
  /** Writes all of `length` bytes at `position`, or throws (partial writes are retried inside). */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): void;
  /** Reads up to `length` bytes at `position`; returns how many were read (fewer at end of file). */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  sizeOf(fd: number): number;
  truncate(fd: number, length: number): void;
  /** Makes every byte written to fd so far durable. */
  fsync(fd: number): Promise<void>;
  close(fd: number): void;
  /** Makes the directory's entries (creates, renames, deletes) durable. */
  fsyncDir(path: string): Promise<void>;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  mkdir(path: string): void;
  readdir(path: string): string[];
  exists(path: string): boolean;
  /** Removes a directory and everything in it. */
  removeDir(path: string): void;
}

export const nodeFileIo: FileIo = {
  open: (path, flags) => fs.openSync(path, flags),
  write(fd, buffer, offset, length, position) {
    let written = 0;
    while (written < length) {
      written += fs.writeSync(fd, buffer, offset + written, length - written, position + written);
    }
  },
  read: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  sizeOf: (fd) => fs.fstatSync(fd).size,
  truncate: (fd, length) => fs.ftruncateSync(fd, length),
  fsync: (fd) =>
    new Promise((resolve, reject) => {
      fs.fsync(fd, (error) => (error ? reject(error) : resolve()));
    }),
  close: (fd) => fs.closeSync(fd),
  fsyncDir: (path) =>
    new Promise((resolve, reject) => {
      fs.open(path, 'r', (openError, fd) => {
        if (openError) return reject(openError);
        fs.fsync(fd, (syncError) => {
          fs.close(fd, () => (syncError ? reject(syncError) : resolve()));
        });
      });
    }),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.unlinkSync(path),
  mkdir: (path) => fs.mkdirSync(path, { recursive: true }),
  readdir: (path) => fs.readdirSync(path),
  exists: (path) => fs.existsSync(path),
  removeDir: (path) => fs.rmSync(path, { recursive: true, force: true }),
};

/** Reads a whole small file (an index, a checkpoint) through the interface. */
export function readWholeFile(io: FileIo, path: string): Buffer {
  const fd = io.open(path, 'r');
  try {
    const size = io.sizeOf(fd);
    const buffer = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = io.read(fd, buffer, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    io.close(fd);
  }
}

/**
 * Replaces a small file atomically and durably: write a temporary file, fsync it, rename it over
 * the old one, fsync the directory. A crash leaves either the old or the new file, never half.
 */
export async function writeFileAtomic(io: FileIo, dir: string, name: string, content: Uint8Array): Promise<void> {
  const finalPath = `${dir}/${name}`;
  const tmpPath = `${finalPath}.tmp`;
  if (io.exists(tmpPath)) io.unlink(tmpPath);
  const fd = io.open(tmpPath, 'wx+');
  try {
    io.write(fd, content, 0, content.length, 0);
    await io.fsync(fd);
  } finally {
    io.close(fd);
  }
  io.rename(tmpPath, finalPath);
  await io.fsyncDir(dir);
}
