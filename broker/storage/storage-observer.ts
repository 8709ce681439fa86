/**
 * What the storage engine reports about itself: fsyncs and their latency, recovery cuts, rolls,
 * deletions, index rebuilds. The broker turns these into Prometheus metrics and log lines; tests
 * count them. The engine never logs per record.
 *
 * The logger shape is pino's (`logger.warn(object, message)`), so fastify's logger fits as is.
 */

import type { FileIo } from './file-io.ts';

export interface StorageLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface RecoveryCut {
  readonly dir: string;
  readonly segmentBaseOffset: number;
  readonly position: number;
  readonly truncatedBytes: number;
  readonly reason: string;
  /** The log end offset after the cut: offsets from here on were lost or never acknowledged. */
  readonly nextOffset: number;
  readonly deletedSegments: number;
}

export interface StorageMetrics {
  fsyncCompleted(durationMs: number): void;
  recoveryCut(cut: RecoveryCut): void;
  segmentRolled(dir: string): void;
  segmentDeleted(dir: string, reason: 'retention' | 'truncation'): void;
  indexRebuilt(dir: string, segmentBaseOffset: number): void;
}

export const silentLogger: StorageLogger = { info() {}, warn() {}, error() {} };

export const noStorageMetrics: StorageMetrics = {
  fsyncCompleted() {},
  recoveryCut() {},
  segmentRolled() {},
  segmentDeleted() {},
  indexRebuilt() {},
};

/** Plain counters: enough for tests, `dump-log` and the benchmarks. */
export class StorageCounters implements StorageMetrics {
  fsyncs = 0;
  fsyncTotalMs = 0;
  recoveryCuts: RecoveryCut[] = [];
  segmentsRolled = 0;
  segmentsDeleted = 0;
  indexesRebuilt = 0;
  fsyncCompleted(durationMs: number): void {
    this.fsyncs += 1;
    this.fsyncTotalMs += durationMs;
  }
  recoveryCut(cut: RecoveryCut): void {
    this.recoveryCuts.push(cut);
  }
  segmentRolled(): void {
    this.segmentsRolled += 1;
  }
  segmentDeleted(): void {
    this.segmentsDeleted += 1;
  }
  indexRebuilt(): void {
    this.indexesRebuilt += 1;
  }
}

/** Wraps a FileIo so that every fsync (file or directory) is timed and counted. */
export function withFsyncMetrics(io: FileIo, metrics: StorageMetrics): FileIo {
  const timed = async (work: Promise<void>, startMs: number): Promise<void> => {
    await work;
    metrics.fsyncCompleted(performance.now() - startMs);
  };
  return {
    open: (path, flags) => io.open(path, flags),
    write: (fd, buffer, offset, length, position) => io.write(fd, buffer, offset, length, position),
    read: (fd, buffer, offset, length, position) => io.read(fd, buffer, offset, length, position),
    sizeOf: (fd) => io.sizeOf(fd),
    truncate: (fd, length) => io.truncate(fd, length),
    fsync: (fd) => timed(io.fsync(fd), performance.now()),
    close: (fd) => io.close(fd),
    fsyncDir: (dir) => timed(io.fsyncDir(dir), performance.now()),
    rename: (from, to) => io.rename(from, to),
    unlink: (path) => io.unlink(path),
    mkdir: (path) => io.mkdir(path),
    readdir: (path) => io.readdir(path),
    exists: (path) => io.exists(path),
    removeDir: (path) => io.removeDir(path),
  };
}
