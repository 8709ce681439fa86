/**
 * The cleaner checkpoint of one log: the offset up to which the log cleaner's offset map has
 * covered the log, i.e. where the dirty section starts (log-cleaner.ts).
 *
 *   <partition dir>/cleaner-offset-checkpoint
 *
 *   0                  format version
 *   1                  number of entries
 *   orders 0 1200      topic, partition, offset
 *
 * Kafka's text checkpoint format (checkpoint-file.ts), but one file per log with one entry, where
 * Kafka keeps one file per data directory: a file in the partition directory goes away with its
 * log, so a topic deleted and created again never inherits an offset from its namesake. Written
 * atomically and durably (temporary file, fsync, rename, directory fsync); the loader removes a
 * leftover `.tmp`. A missing or unreadable file means "everything is dirty": more work, never a
 * lost record.
 */

import path from 'node:path';
import { formatCheckpoint, parseCheckpoint } from './checkpoint-file.ts';
import type { FileIo } from './file-io.ts';
import { readWholeFile, writeFileAtomic } from './file-io.ts';
import { parsePartitionDirName } from './file-names.ts';
import type { StorageLogger } from './storage-observer.ts';
import { silentLogger } from './storage-observer.ts';

export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';

/** The cleaner checkpoint of the log in `dir`, or null if it has none or it does not parse. */
export function readCleanerCheckpoint(io: FileIo, dir: string, logger: StorageLogger = silentLogger): number | null {
  const file = path.join(dir, CLEANER_OFFSET_CHECKPOINT);
  if (!io.exists(file)) return null;
  try {
    const entries = [...parseCheckpoint(readWholeFile(io, file).toString('utf8')).values()];
    if (entries.length !== 1) throw new Error(`expected one entry, found ${entries.length}`);
    return entries[0];
  } catch (error) {
    logger.warn({ file, error: (error as Error).message }, 'ignoring an unreadable cleaner checkpoint: the whole log counts as dirty');
    return null;
  }
}

/** Saves the cleaner checkpoint atomically and durably (temporary file, fsync, rename, directory fsync). */
export function writeCleanerCheckpoint(io: FileIo, dir: string, offset: number): Promise<void> {
  const name = path.basename(dir);
  // The entry names the partition as Kafka's file does; a log opened outside a data directory has
  // no partition name, and only the offset is ever read back.
  const key = parsePartitionDirName(name) === null ? `${name}-0` : name;
  return writeFileAtomic(io, dir, CLEANER_OFFSET_CHECKPOINT, Buffer.from(formatCheckpoint(new Map([[key, offset]])), 'utf8'));
}
