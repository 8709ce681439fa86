/**
 * The data directory and every partition log in it (Kafka's LogManager).
 *
 *   <data dir>/
 *     .lock/                              held while a broker runs (data-dir-lock.ts)
 *     .kafka_cleanshutdown                present only between a clean stop and the next start
 *     recovery-point-offset-checkpoint    per partition: fsynced up to (checkpoint-file.ts)
 *     log-start-offset-checkpoint         per partition: first readable offset
 *     <topic>-<partition>/                one PartitionLog each
 *
 * Startup: lock, note whether the clean-shutdown marker is there, then remove it (durably) before
 * anything is written, so a crash from now on is seen as unclean. Logs are opened on demand with
 * their topic's config; each recovers from its checkpointed recovery point if the stop was
 * unclean. Shutdown: flush and close every log, write both checkpoints, write the marker last.
 *
 * Periodic work (start()): checkpoints every log.flush.offset.checkpoint.interval.ms (60 s) and
 * retention every log.retention.check.interval.ms (5 min), both on unref'd timers.
 */

import path from 'node:path';
import { MiniKafkaError } from '../../common/errors.ts';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT, readCheckpoint, writeCheckpoint } from './checkpoint-file.ts';
import type { OffsetCheckpoint } from './checkpoint-file.ts';
import type { DataDirLock } from './data-dir-lock.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { FileIo } from './file-io.ts';
import { nodeFileIo, writeFileAtomic } from './file-io.ts';
import { parsePartitionDirName, partitionDirName } from './file-names.ts';
import type { LogConfig } from './log-config.ts';
import { LogCleaner } from './log-cleaner.ts';
import { PartitionLog } from './partition-log.ts';
import type { StorageLogger, StorageMetrics } from './storage-observer.ts';
import { noStorageMetrics, silentLogger, withFsyncMetrics } from './storage-observer.ts';

export const CLEAN_SHUTDOWN_MARKER = '.kafka_cleanshutdown';

export interface LogManagerOptions {
  readonly dataDir: string;
  readonly io?: FileIo;
  readonly clock?: Clock;
  readonly logger?: StorageLogger;
  readonly metrics?: StorageMetrics;
  /** log.flush.offset.checkpoint.interval.ms */
  readonly checkpointIntervalMs?: number;
  /** log.retention.check.interval.ms */
  readonly retentionCheckIntervalMs?: number;
  /** log.cleaner.backoff.ms */
  readonly cleanerBackoffMs?: number;
  /** log.cleaner.dedupe.buffer.size */
  readonly cleanerDedupeBufferBytes?: number;
  /** Take the proper-lockfile lock (default true; the power-loss test runs without it). */
  readonly lock?: boolean;
}

export class LogManager {
  readonly dataDir: string;
  /** Whether the previous stop was clean; decides whether logs are scanned on open. */
  readonly hadCleanShutdown: boolean;
  readonly #io: FileIo;
  readonly #clock: Clock;
  readonly #logger: StorageLogger;
  readonly #metrics: StorageMetrics;
  readonly #lock: DataDirLock | null;
  readonly #logs = new Map<string, PartitionLog>();
  readonly #recoveryPoints: OffsetCheckpoint;
  readonly #logStartOffsets: OffsetCheckpoint;
  readonly #checkpointIntervalMs: number;
  readonly #retentionCheckIntervalMs: number;
  readonly #timers: NodeJS.Timeout[] = [];
  /** Compacts the logs whose cleanup.policy includes compact (log-cleaner.ts). */
  readonly cleaner: LogCleaner;
  #isClosed = false;

  private constructor(options: LogManagerOptions, io: FileIo, lock: DataDirLock | null, hadCleanShutdown: boolean) {
    this.dataDir = options.dataDir;
    this.#io = io;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#metrics = options.metrics ?? noStorageMetrics;
    this.#lock = lock;
    this.hadCleanShutdown = hadCleanShutdown;
    this.#checkpointIntervalMs = options.checkpointIntervalMs ?? 60_000;
    this.#retentionCheckIntervalMs = options.retentionCheckIntervalMs ?? 300_000;
    const onBadFile = (error: Error): void => this.#logger.warn({ dataDir: this.dataDir, error: error.message }, 'ignoring an unreadable checkpoint: logs will be recovered from offset 0');
    this.cleaner = new LogCleaner({
      logs: () => this.#logs.values(),
      io,
      clock: this.#clock,
      logger: this.#logger,
      backoffMs: options.cleanerBackoffMs,
      dedupeBufferBytes: options.cleanerDedupeBufferBytes,
    });
    this.#recoveryPoints = readCheckpoint(io, this.dataDir, RECOVERY_POINT_CHECKPOINT, onBadFile);
    this.#logStartOffsets = readCheckpoint(io, this.dataDir, LOG_START_OFFSET_CHECKPOINT, onBadFile);
  }

  /** Locks the data directory (creating it if needed) and consumes the clean-shutdown marker. */
  static async open(options: LogManagerOptions): Promise<LogManager> {
    const metrics = options.metrics ?? noStorageMetrics;
    const io = withFsyncMetrics(options.io ?? nodeFileIo, metrics);
    const isNew = !io.exists(options.dataDir) || io.readdir(options.dataDir).length === 0;
    io.mkdir(options.dataDir);
    const logger = options.logger ?? silentLogger;
    const lock = options.lock === false ? null : lockDataDir(options.dataDir, (error) => logger.error({ dataDir: options.dataDir, error: error.message }, 'the data directory lock was compromised'));
    const markerPath = path.join(options.dataDir, CLEAN_SHUTDOWN_MARKER);
    const hadCleanShutdown = io.exists(markerPath);
    if (hadCleanShutdown) {
      io.unlink(markerPath);
      await io.fsyncDir(options.dataDir);
    }
    const manager = new LogManager(options, io, lock, hadCleanShutdown);
    const state = isNew ? 'new: nothing to recover' : hadCleanShutdown ? 'after a clean shutdown: no recovery needed' : 'after an unclean shutdown: logs will be recovered from their recovery points';
    logger.info({ dataDir: options.dataDir, hadCleanShutdown, isNew }, `data directory opened, ${state}`);
    return manager;
  }

  /** Partitions that have a directory on disk, whether opened yet or not. */
  listPartitionsOnDisk(): Array<{ topic: string; partition: number }> {
    const found: Array<{ topic: string; partition: number }> = [];
    for (const name of this.#io.readdir(this.dataDir)) {
      const parsed = parsePartitionDirName(name);
      if (parsed !== null) found.push(parsed);
    }
    return found;
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(partitionDirName(topic, partition));
  }

  get logs(): ReadonlyMap<string, PartitionLog> {
    return this.#logs;
  }

  /** Opens the partition's log (creating its directory if new) with the topic's config. */
  openLog(topic: string, partition: number, config: LogConfig): PartitionLog {
    this.#assertOpen();
    const key = partitionDirName(topic, partition);
    const existing = this.#logs.get(key);
    if (existing !== undefined) return existing;
    const log = PartitionLog.open({
      dir: path.join(this.dataDir, key),
      config,
      io: this.#io,
      clock: this.#clock,
      logger: this.#logger,
      metrics: this.#metrics,
      hadCleanShutdown: this.hadCleanShutdown,
      recoveryPoint: this.#recoveryPoints.get(key) ?? 0,
      logStartOffset: this.#logStartOffsets.get(key) ?? 0,
    });
    this.#logs.set(key, log);
    return log;
  }

  /** Closes the log and removes its directory. */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const key = partitionDirName(topic, partition);
    const log = this.#logs.get(key);
    this.#logs.delete(key);
    this.#recoveryPoints.delete(key);
    this.#logStartOffsets.delete(key);
    if (log !== undefined) await log.delete();
    else this.#io.removeDir(path.join(this.dataDir, key));
    await this.#io.fsyncDir(this.dataDir);
  }

  /** Starts the checkpoint and retention timers and the log cleaner. */
  start(): void {
    this.cleaner.start();
    this.#every(this.#checkpointIntervalMs, () => this.checkpoint(), 'checkpoint');
    this.#every(this.#retentionCheckIntervalMs, async () => void this.runRetention(), 'retention');
  }

  /** Applies retention to every open log; returns how many segments were deleted. */
  runRetention(): number {
    let deleted = 0;
    for (const log of this.#logs.values()) deleted += log.deleteOldSegments();
    return deleted;
  }

  /** Writes both checkpoint files from the logs' current recovery points and log start offsets. */
  async checkpoint(): Promise<void> {
    for (const [key, log] of this.#logs) {
      this.#recoveryPoints.set(key, log.recoveryPoint);
      this.#logStartOffsets.set(key, log.logStartOffset);
    }
    await writeCheckpoint(this.#io, this.dataDir, RECOVERY_POINT_CHECKPOINT, this.#recoveryPoints);
    await writeCheckpoint(this.#io, this.dataDir, LOG_START_OFFSET_CHECKPOINT, this.#logStartOffsets);
  }

  /** Flushes everything durably, then writes the clean-shutdown marker and releases the lock. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const timer of this.#timers) clearInterval(timer);
    await this.cleaner.close();
    try {
      for (const log of this.#logs.values()) await log.close();
      await this.checkpoint();
      await writeFileAtomic(this.#io, this.dataDir, CLEAN_SHUTDOWN_MARKER, Buffer.alloc(0));
    } finally {
      try {
        this.#lock?.release();
      } catch (error) {
        // A lock proper-lockfile already gave up on (reported through onCompromised): nothing to release.
        this.#logger.error({ dataDir: this.dataDir, error: (error as Error).message }, 'releasing the data directory lock failed');
      }
    }
    this.#logger.info({ dataDir: this.dataDir }, 'data directory closed cleanly');
  }

  #every(intervalMs: number, task: () => Promise<void>, name: string): void {
    const timer = setInterval(() => {
      task().catch((error: unknown) => this.#logger.error({ dataDir: this.dataDir, error }, `${name} failed`));
    }, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new MiniKafkaError('KAFKA_STORAGE_ERROR', `the data directory ${this.dataDir} is closed`, { dataDir: this.dataDir });
  }
}
