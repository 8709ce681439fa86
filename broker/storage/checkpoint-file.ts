/**
 * Kafka's text checkpoint files, one per data directory:
 *
 *   recovery-point-offset-checkpoint   per partition: offset up to which an fsync covered the log
 *   log-start-offset-checkpoint        per partition: first readable offset
 *
 * Format (Kafka's CheckpointFile), one item per line:
 *
 *   0                      format version
 *   2                      number of entries
 *   orders 0 1200          topic, partition, offset
 *   orders 1 980
 *
 * A checkpoint is replaced atomically (temporary file, fsync, rename, fsync of the directory), so
 * a crash leaves the old one or the new one. A file that does not parse is ignored with a warning:
 * that only costs a longer recovery (from offset 0), never data.
 */

import type { FileIo } from './file-io.ts';
import { readWholeFile, writeFileAtomic } from './file-io.ts';

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';

const FORMAT_VERSION = 0;

/** Keys are partition directory names (`topic-partition`), values offsets. */
export type OffsetCheckpoint = Map<string, number>;

export function formatCheckpoint(entries: OffsetCheckpoint): string {
  const lines = [String(FORMAT_VERSION), String(entries.size)];
  for (const [key, offset] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
    const dash = key.lastIndexOf('-');
    lines.push(`${key.slice(0, dash)} ${key.slice(dash + 1)} ${offset}`);
  }
  return lines.join('\n') + '\n';
}

/** Parses a checkpoint; throws an Error saying what is wrong with it. */
export function parseCheckpoint(text: string): OffsetCheckpoint {
  const lines = text.split('\n').filter((line) => line.length > 0);
  if (lines[0] !== String(FORMAT_VERSION)) throw new Error(`unknown checkpoint version ${JSON.stringify(lines[0])}`);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count !== lines.length - 2) throw new Error(`checkpoint says ${lines[1]} entries but holds ${lines.length - 2}`);
  const entries: OffsetCheckpoint = new Map();
  for (const line of lines.slice(2)) {
    const match = /^(\S+) (\d+) (\d+)$/.exec(line);
    if (match === null || !Number.isSafeInteger(Number(match[3]))) throw new Error(`bad checkpoint line ${JSON.stringify(line)}`);
    entries.set(`${match[1]}-${match[2]}`, Number(match[3]));
  }
  return entries;
}

export function readCheckpoint(io: FileIo, dir: string, name: string, onBadFile: (error: Error) => void): OffsetCheckpoint {
  const file = `${dir}/${name}`;
  if (!io.exists(file)) return new Map();
  try {
    return parseCheckpoint(readWholeFile(io, file).toString('utf8'));
  } catch (error) {
    onBadFile(error as Error);
    return new Map();
  }
}

export function writeCheckpoint(io: FileIo, dir: string, name: string, entries: OffsetCheckpoint): Promise<void> {
  return writeFileAtomic(io, dir, name, Buffer.from(formatCheckpoint(entries), 'utf8'));
}
