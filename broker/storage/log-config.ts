/**
 * The settings one partition log obeys, under Kafka's topic-config names (as camelCase fields with
 * the unit last). The broker maps `segment.bytes`, `log.segment.bytes` and friends onto this shape;
 * the storage engine knows nothing of config files or topics.
 *
 * Defaults are Kafka's (storage/.../log/LogConfig.java), except where noted.
 */

export interface LogConfig {
  /** segment.bytes: roll to a new segment before the active one would pass this size. */
  readonly segmentBytes: number;
  /** segment.ms: roll once the active segment's records span more than this much time. */
  readonly segmentMs: number;
  /** segment.index.bytes: the most an .index or .timeindex file may hold; a full index rolls the segment. */
  readonly segmentIndexBytes: number;
  /** index.interval.bytes: bytes of log between two index entries. */
  readonly indexIntervalBytes: number;
  /** retention.ms: delete closed segments whose newest record is older than this; -1 keeps forever. */
  readonly retentionMs: number;
  /** retention.bytes: delete the oldest closed segments while the partition is larger than this; -1 = no limit. */
  readonly retentionBytes: number;
  /** flush.messages: fsync once this many records are unflushed. Kafka's default never fsyncs on append. */
  readonly flushMessages: number;
  /** flush.ms: fsync once the oldest unflushed append is this old. */
  readonly flushMs: number;
  /** max.message.bytes: the largest batch (after compression) one append accepts. */
  readonly maxMessageBytes: number;
  /**
   * cleanup.policy, as bits (`CleanupPolicyBits`) so that every field stays a number: 1 delete,
   * 2 compact, 3 compact,delete. Only the compact bit matters here: it lets the log cleaner
   * (log-cleaner.ts) rewrite the log. Retention obeys retentionMs and retentionBytes whatever the
   * bits say, so a compact-only topic gets -1 for both (broker/config/topic-config.ts).
   */
  readonly cleanupPolicy: number;
  /** delete.retention.ms: how long a tombstone survives once the log cleaner has first rewritten its batch. */
  readonly deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio: the cleaner takes a log once dirty bytes / cleanable bytes reach this (0..1). */
  readonly minCleanableDirtyRatio: number;
}

/** The two policies of cleanup.policy, as bits of LogConfig.cleanupPolicy. */
export const CleanupPolicyBits = { delete: 1, compact: 2 } as const;

/** Kafka's Long.MAX_VALUE defaults for the flush settings, as the largest safe integer here. */
export const NEVER = Number.MAX_SAFE_INTEGER;

export const defaultLogConfig: LogConfig = Object.freeze({
  segmentBytes: 1_073_741_824,
  segmentMs: 604_800_000,
  segmentIndexBytes: 10_485_760,
  indexIntervalBytes: 4096,
  retentionMs: 604_800_000,
  retentionBytes: -1,
  flushMessages: NEVER,
  flushMs: NEVER,
  maxMessageBytes: 1_048_588,
  cleanupPolicy: CleanupPolicyBits.delete,
  deleteRetentionMs: 86_400_000,
  minCleanableDirtyRatio: 0.5,
});

/** `compact,delete` (either order) → 3; throws RangeError for anything but delete and compact. */
export function cleanupPolicyBits(policy: string): number {
  let bits = 0;
  for (const name of policy.split(',').map((part) => part.trim())) {
    if (!Object.hasOwn(CleanupPolicyBits, name)) throw new RangeError(`unknown cleanup.policy ${JSON.stringify(name)} in ${JSON.stringify(policy)}`);
    bits |= CleanupPolicyBits[name as keyof typeof CleanupPolicyBits];
  }
  return bits;
}

/** Whether cleanup.policy includes compact: the log cleaner may rewrite this log. */
export function isCompacted(config: LogConfig): boolean {
  return (config.cleanupPolicy & CleanupPolicyBits.compact) !== 0;
}

/** Fills in Kafka's defaults and rejects values the log cannot work with (a programmer error here:
 * the broker validates user input against its config catalogue before it gets this far). */
export function resolveLogConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  const config = { ...defaultLogConfig, ...stripUndefined(overrides) };
  for (const [name, value] of Object.entries(config)) {
    if (name === 'minCleanableDirtyRatio') continue;
    if (!Number.isSafeInteger(value)) throw new RangeError(`log config ${name} must be a safe integer, got ${value}`);
  }
  const ratio = config.minCleanableDirtyRatio;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) throw new RangeError(`minCleanableDirtyRatio must be between 0 and 1, got ${ratio}`);
  if (config.cleanupPolicy < 1 || config.cleanupPolicy > 3) throw new RangeError(`cleanupPolicy must be 1 (delete), 2 (compact) or 3 (both), got ${config.cleanupPolicy}`);
  if (config.deleteRetentionMs < 0) throw new RangeError(`deleteRetentionMs must be >= 0`);
  if (config.segmentBytes < 61 + 12) throw new RangeError(`segmentBytes ${config.segmentBytes} cannot hold one batch`);
  // Index entries store positions as int32, so a segment may not grow past 2 GiB (Kafka's
  // segment.bytes is an int for the same reason).
  if (config.segmentBytes > 0x7fffffff) throw new RangeError(`segmentBytes ${config.segmentBytes} is above 2147483647`);
  if (config.segmentIndexBytes < 12) throw new RangeError(`segmentIndexBytes ${config.segmentIndexBytes} cannot hold one index entry`);
  if (config.indexIntervalBytes < 0) throw new RangeError(`indexIntervalBytes must be >= 0`);
  if (config.segmentMs < 1) throw new RangeError(`segmentMs must be >= 1`);
  if (config.flushMessages < 1) throw new RangeError(`flushMessages must be >= 1`);
  if (config.flushMs < 0) throw new RangeError(`flushMs must be >= 0`);
  if (config.retentionMs < -1 || config.retentionBytes < -1) throw new RangeError(`retention limits must be >= -1`);
  return Object.freeze(config);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
