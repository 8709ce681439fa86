/**
 * File and directory names in a data directory, as Kafka names them (docs/on-disk-format.md lists
 * every file, with its format).
 *
 *   <data dir>/<topic>-<partition>/<20-digit base offset>.log | .index | .timeindex
 *
 * A segment is named after its base offset (the offset of its first record), zero-padded to 20
 * digits so that names sort in offset order. The same 20-digit form with `.snapshot` names a
 * producer-state snapshot taken at that log end offset (broker/core/partition.ts). Only the three
 * segment suffixes parse as segment files here; apart from the transient names below, the loader
 * leaves every other name alone.
 *
 * Transient suffixes, appended to a full name: `.deleted` (a segment file being removed),
 * `.tmp` (a file being replaced atomically: writeFileAtomic in file-io.ts), `.cleaned` and `.swap`
 * (a segment the log cleaner wrote, before and during its swap; segment-swap.ts defines them and
 * finishes or discards them at startup).
 *
 * Other names: `cleaner-offset-checkpoint` in a partition directory (cleaner-checkpoint.ts); in the
 * data directory the two offset checkpoints (checkpoint-file.ts), `.kafka_cleanshutdown`
 * (log-manager.ts), `.lock` and `.lock.owner` (data-dir-lock.ts), and the broker core's
 * `minikafka-topics.json` (topic-store.ts) and `producer-id-block` (producer-ids.ts).
 */

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';

const OFFSET_DIGITS = 20;
const segmentNamePattern = /^(\d{20})\.(log|index|timeindex)$/;

export function offsetFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(OFFSET_DIGITS, '0') + suffix;
}

/** Parses `00000000000000000042.log` into { baseOffset: 42, suffix: '.log' }, or null. */
export function parseSegmentFileName(name: string): { baseOffset: number; suffix: string } | null {
  const match = segmentNamePattern.exec(name);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, suffix: `.${match[2]}` };
}

/** `orders` partition 3 lives in `orders-3`. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Splits `my-topic-12` at its last dash; topic names may contain dashes themselves. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const match = /^(.+)-(0|[1-9]\d{0,8})$/.exec(name);
  if (match === null) return null;
  return { topic: match[1], partition: Number(match[2]) };
}
