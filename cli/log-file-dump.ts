/**
 * Reads a segment's `.log` file for `minikafka dump-log`: one report per record batch, and where
 * the valid batches end and why (Kafka's kafka-dump-log, read-only).
 *
 * Memory stays bounded whatever the file's size: batch headers come from the storage engine's
 * BatchScanner in header-only mode (1 MiB chunks), and each batch's CRC-32C is computed over
 * 1 MiB pieces. The CRC is not computed from a whole-batch buffer because batchLength lies outside
 * the bytes the CRC covers: a flipped bit there could make a batch claim the rest of a 1 GiB file.
 * With `records`, a batch is read whole and decoded only once its CRC has checked out, so only
 * genuine batch lengths are ever allocated.
 *
 * "Valid" means what the broker's recovery would keep (LogSegment.recover): the longest prefix of
 * whole v2 batches whose CRC matches and whose offsets increase inside the segment. The walk goes
 * on past a CRC or offset problem, since the framing still holds and later batches are worth
 * seeing (as Kafka's tool does), and stops only where the bytes are no longer batches.
 *
 * Two things the bytes mean only in context:
 * - a batch the log cleaner stamped (attributes bit 6, hasDeleteHorizonMs) holds its delete
 *   horizon in baseTimestamp, so it is reported as `deleteHorizonMs`, not as a timestamp;
 * - a `.log` of `__consumer_offsets` (its directory is `__consumer_offsets-<partition>`) holds
 *   Kafka's OffsetCommit and GroupMetadata records: with `records`, each record's key and value
 *   are also decoded (`offsetsTopic`) with the broker's own decoders (offsets-topic-records.ts),
 *   so a learner sees what each consumer group committed, not hex.
 */

import nodePath from 'node:path';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { isMiniKafkaError } from '../common/errors.ts';
import type { DecodedRecord, RecordBatchHeader } from '../common/record-batch.ts';
import { BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, MAGIC_V2, TimestampType, decodeRecordBatch } from '../common/record-batch.ts';
import { CRC_START_POSITION, MIN_BATCH_LENGTH, compressionName } from '../common/record-batch-header.ts';
import { BatchScanner } from '../broker/storage/batch-scanner.ts';
import type { FileIo } from '../broker/storage/file-io.ts';
import { nodeFileIo } from '../broker/storage/file-io.ts';
import { deleteHorizonMsOf } from '../broker/storage/cleaned-batch.ts';
import { parsePartitionDirName } from '../broker/storage/file-names.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription } from '../broker/groups/consumer-protocol.ts';
import type { TopicPartitions } from '../broker/groups/consumer-protocol.ts';
import type { GroupMemberSnapshot, MemberIdentity } from '../broker/groups/group-snapshot.ts';
import type { OffsetsTopicKey } from '../broker/groups/offsets-topic-records.ts';
import { OFFSETS_TOPIC, decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsTopicKey } from '../broker/groups/offsets-topic-records.ts';
import { displayBytes } from './display-bytes.ts';

/** Relative offsets are int32 in both index files, so a segment spans at most this many offsets. */
const MAX_RELATIVE_OFFSET = 0x7fffffff;
const CRC_PIECE_BYTES = 1 << 20;

/** Why the valid prefix ends, in the storage engine's words (SegmentRecovery.stopReason). */
export type LogStopReason = 'end' | 'partial' | 'invalid' | 'crc' | 'offset';

export interface RecordReport {
  readonly offset: number;
  readonly timestamp: number;
  /** −1 for a null key, as on the wire. */
  readonly keySizeBytes: number;
  readonly key: string | null;
  readonly valueSizeBytes: number;
  readonly value: string | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: string | null }>;
  /** Only in a `__consumer_offsets` log: the key and value decoded as Kafka's group records. */
  readonly offsetsTopic?: OffsetsTopicRecordReport;
}

/**
 * A `__consumer_offsets` record decoded (kafka-facts §7.2). The key's version says what it is:
 * 0 or 1 an OffsetCommit, 2 a GroupMetadata. A null value is a tombstone: the key is deleted.
 */
export interface OffsetsTopicRecordReport {
  /** null when the key could not be decoded (see `error`). */
  readonly type: 'OffsetCommit' | 'GroupMetadata' | null;
  readonly keyVersion: number | null;
  readonly key: OffsetCommitKeyReport | GroupMetadataKeyReport | null;
  /** null for a tombstone, or when it could not be decoded. */
  readonly valueVersion: number | null;
  readonly value: OffsetCommitValueReport | GroupMetadataValueReport | null;
  readonly isTombstone: boolean;
  /** Why the key or the value could not be decoded; null when both were. */
  readonly error: string | null;
}

export interface OffsetCommitKeyReport {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

export interface GroupMetadataKeyReport {
  readonly group: string;
}

export interface OffsetCommitValueReport {
  /** The committed offset: the next offset the group will read from that partition. */
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  /** When the broker accepted the commit, ms since the epoch. */
  readonly commitTimestamp: number;
}

export interface GroupMetadataValueReport {
  /** `consumer` for Kafka consumers; null when the group never had a member. */
  readonly protocolType: string | null;
  readonly generation: number;
  /** The assignor the group chose (`range`, `roundrobin`, …). */
  readonly protocol: string | null;
  readonly leader: string | null;
  readonly currentStateTimestamp: number;
  readonly members: readonly GroupMemberReport[];
}

export interface GroupMemberReport extends MemberIdentity {
  /** The topics of the member's consumer-protocol Subscription; null for another protocol type or bytes that do not decode. */
  readonly subscribedTopics: readonly string[] | null;
  /** The partitions of its consumer-protocol Assignment; null as for subscribedTopics. */
  readonly assignedPartitions: readonly TopicPartitions[] | null;
}

export interface BatchReport {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly recordCount: number;
  readonly position: number;
  readonly sizeBytes: number;
  readonly crc: string;
  readonly crcValid: boolean;
  readonly magic: number;
  readonly partitionLeaderEpoch: number;
  readonly compression: string;
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  /** The first record's timestamp; null when the header holds a delete horizon instead. */
  readonly baseTimestamp: number | null;
  /** Attributes bit 6 (hasDeleteHorizonMs): the log cleaner's delete horizon, kept in the baseTimestamp field; else null. */
  readonly deleteHorizonMs: number | null;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  readonly isTransactional: boolean;
  readonly isControl: boolean;
  /** Only with `records`: the decoded records, or null when they could not be decoded. */
  readonly records?: RecordReport[] | null;
  /** Only with `records`, when `records` is null: why. */
  readonly recordsError?: string;
}

export interface LogFileSummary {
  readonly sizeBytes: number;
  /** Bytes from the start of the file that recovery would keep. */
  readonly validBytes: number;
  readonly stopReason: LogStopReason;
  /** One sentence on where and why the valid batches end; null when the whole file is valid. */
  readonly stopDetail: string | null;
  /** Bytes after the last batch the walk could frame (a torn or garbage tail); 0 if none. */
  readonly unreadableBytes: number;
}

export interface LogDumpOptions {
  /** From the file name; null when the file is not named like a segment (offsets are not checked against it). */
  readonly segmentBaseOffset: number | null;
  readonly records: boolean;
  readonly io?: FileIo;
}

/** Whether the `.log` at `path` belongs to `__consumer_offsets`: its directory is `__consumer_offsets-<partition>`. */
export function isOffsetsTopicLog(path: string): boolean {
  return parsePartitionDirName(nodePath.basename(nodePath.dirname(nodePath.resolve(path))))?.topic === OFFSETS_TOPIC;
}

/**
 * Yields a report for every batch of the .log at `path`, in file order, and returns the summary.
 * A generator so the caller can write each report out (and wait for a slow reader) before the
 * next batch is read.
 */
export function* readLogFile(path: string, options: LogDumpOptions): Generator<BatchReport, LogFileSummary, void> {
  const io = options.io ?? nodeFileIo;
  const fd = io.open(path, 'r');
  try {
    return yield* walkBatches(io, fd, options, options.records && isOffsetsTopicLog(path));
  } finally {
    io.close(fd);
  }
}

function* walkBatches(io: FileIo, fd: number, options: LogDumpOptions, isOffsetsTopic: boolean): Generator<BatchReport, LogFileSummary, void> {
  const sizeBytes = io.sizeOf(fd);
  const scanner = new BatchScanner(io, fd, sizeBytes, 0, { wholeBatches: false });
  const scratch = Buffer.allocUnsafe(Math.min(CRC_PIECE_BYTES, Math.max(sizeBytes, 1)));
  const segmentBaseOffset = options.segmentBaseOffset;
  let nextOffset = segmentBaseOffset ?? 0;
  let validBytes = 0;
  let stop: { reason: LogStopReason; detail: string } | null = null;
  for (;;) {
    const scanned = unlessShrunk(io, fd, sizeBytes, () => scanner.next());
    if (scanned === null || 'shrunk' in scanned) {
      if (scanned !== null) stop ??= { reason: 'partial', detail: scanned.shrunk };
      break;
    }
    const { position, header } = scanned;
    const computedCrc = unlessShrunk(io, fd, sizeBytes, () => crcOfBatch(io, fd, position, header.sizeBytes, scratch));
    if (typeof computedCrc !== 'number') {
      stop ??= { reason: 'partial', detail: computedCrc.shrunk };
      break;
    }
    const crcValid = computedCrc === header.crc;
    const report = batchReport(position, header, crcValid);
    yield options.records ? { ...report, ...recordsOf(io, fd, position, header, crcValid, isOffsetsTopic) } : report;
    if (stop !== null) continue;
    if (!crcValid) {
      stop = { reason: 'crc', detail: `the batch at position ${position} (offsets ${header.baseOffset} to ${header.lastOffset}) fails its CRC-32C check: the header says ${hex32(header.crc)}, its bytes give ${hex32(computedCrc)}` };
    } else {
      const offsetProblem = offsetProblemOf(header, position, nextOffset, segmentBaseOffset);
      if (offsetProblem !== null) {
        stop = { reason: 'offset', detail: offsetProblem };
      } else {
        validBytes = position + header.sizeBytes;
        nextOffset = header.lastOffset + 1;
      }
    }
  }
  const scanEnd = scanner.position;
  if (stop === null && scanner.stopReason !== null && scanner.stopReason !== 'end') {
    stop = { reason: scanner.stopReason, detail: describeUnreadable(io, fd, scanEnd, sizeBytes) };
  }
  return {
    sizeBytes,
    validBytes,
    stopReason: stop?.reason ?? 'end',
    stopDetail: stop?.detail ?? null,
    unreadableBytes: sizeBytes - scanEnd,
  };
}

/**
 * Runs a read; if it fails because the file got shorter since it was opened (a running broker
 * cut it during recovery or a truncation), says so instead of failing. Any other failure is
 * rethrown.
 */
function unlessShrunk<T>(io: FileIo, fd: number, sizeBytes: number, read: () => T): T | { shrunk: string } {
  try {
    return read();
  } catch (error) {
    const nowBytes = io.sizeOf(fd);
    if (nowBytes >= sizeBytes) throw error;
    return { shrunk: `the file shrank from ${sizeBytes} to ${nowBytes} bytes while it was read (a broker truncated it)` };
  }
}

function crcOfBatch(io: FileIo, fd: number, position: number, sizeBytes: number, scratch: Buffer): number {
  let crc = 0;
  const end = position + sizeBytes;
  for (let at = position + CRC_START_POSITION; at < end;) {
    const readBytes = io.read(fd, scratch, 0, Math.min(scratch.length, end - at), at);
    if (readBytes === 0) throw new Error(`short read at ${at}`);
    crc = nativeCrc32c(scratch.subarray(0, readBytes), crc);
    at += readBytes;
  }
  return crc >>> 0;
}

/**
 * The rule LogSegment.recover applies after the CRC: offsets increase and fit the segment. Without
 * a segment name there is no base offset to fit, and only the increase is checked.
 */
function offsetProblemOf(header: RecordBatchHeader, position: number, nextOffset: number, segmentBaseOffset: number | null): string | null {
  const batch = `the batch at position ${position} (offsets ${header.baseOffset} to ${header.lastOffset})`;
  if (header.baseOffset < nextOffset) return `${batch} starts below offset ${nextOffset}, where the previous batch ended (or the segment's base offset)`;
  if (header.lastOffsetDelta < 0) return `${batch} has a negative lastOffsetDelta ${header.lastOffsetDelta}`;
  if (segmentBaseOffset !== null && header.lastOffset - segmentBaseOffset > MAX_RELATIVE_OFFSET) return `${batch} reaches past base offset ${segmentBaseOffset} + 2^31 − 1, which the indexes cannot address`;
  return null;
}

function batchReport(position: number, header: RecordBatchHeader, crcValid: boolean): BatchReport {
  const deleteHorizonMs = deleteHorizonMsOf(header);
  return {
    baseOffset: header.baseOffset,
    lastOffset: header.lastOffset,
    recordCount: header.recordCount,
    position,
    sizeBytes: header.sizeBytes,
    crc: hex32(header.crc),
    crcValid,
    magic: header.magic,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    compression: compressionName(header.compression),
    timestampType: header.timestampType === TimestampType.logAppendTime ? 'LogAppendTime' : 'CreateTime',
    baseTimestamp: deleteHorizonMs === null ? header.baseTimestamp : null,
    deleteHorizonMs,
    maxTimestamp: header.maxTimestamp,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    // Kafka's lastSequence: sequences run with offsets inside a batch; −1 stays −1.
    lastSequence: header.baseSequence < 0 ? -1 : (header.baseSequence + header.lastOffsetDelta) % 2 ** 31,
    isTransactional: header.isTransactional,
    isControl: header.isControl,
  };
}

function recordsOf(io: FileIo, fd: number, position: number, header: RecordBatchHeader, crcValid: boolean, isOffsetsTopic: boolean): { records: RecordReport[] | null; recordsError?: string } {
  if (!crcValid) return { records: null, recordsError: 'not decoded: the batch fails its CRC check, so its bytes cannot be trusted' };
  const bytes = Buffer.allocUnsafe(header.sizeBytes);
  const readBytes = io.read(fd, bytes, 0, header.sizeBytes, position);
  if (readBytes !== header.sizeBytes) return { records: null, recordsError: `not decoded: only ${readBytes} of its ${header.sizeBytes} bytes could be read` };
  try {
    const records = decodeRecordBatch(bytes, 0).records;
    return { records: records.map((record) => (isOffsetsTopic ? { ...recordReport(record), offsetsTopic: offsetsTopicReport(record) } : recordReport(record))) };
  } catch (error) {
    if (!isMiniKafkaError(error)) throw error;
    return { records: null, recordsError: `not decoded: ${error.message}` };
  }
}

function recordReport(record: DecodedRecord): RecordReport {
  return {
    offset: record.offset,
    timestamp: record.timestamp,
    keySizeBytes: record.key === null ? -1 : record.key.length,
    key: displayBytes(record.key),
    valueSizeBytes: record.value === null ? -1 : record.value.length,
    value: displayBytes(record.value),
    headers: record.headers.map((header) => ({ key: header.key, value: displayBytes(header.value) })),
  };
}

/**
 * Decodes one `__consumer_offsets` record with the broker's decoders. A record they refuse is
 * reported, not thrown: the point of the tool is to show what is there, damaged or not.
 */
function offsetsTopicReport(record: DecodedRecord): OffsetsTopicRecordReport {
  const isTombstone = record.value === null;
  if (record.key === null) return { type: null, keyVersion: null, key: null, valueVersion: null, value: null, isTombstone, error: 'a record without a key: every __consumer_offsets record has one' };
  const keyVersion = record.key.length >= 2 ? record.key.readInt16BE(0) : null;
  let decodedKey: OffsetsTopicKey;
  try {
    decodedKey = decodeOffsetsTopicKey(record.key);
  } catch (error) {
    if (!isMiniKafkaError(error)) throw error;
    return { type: null, keyVersion, key: null, valueVersion: null, value: null, isTombstone, error: `key not decoded: ${error.message}` };
  }
  const type = decodedKey.kind === 'offset' ? 'OffsetCommit' : 'GroupMetadata';
  const key = decodedKey.kind === 'offset' ? { group: decodedKey.groupId, topic: decodedKey.topic, partition: decodedKey.partition } : { group: decodedKey.groupId };
  if (record.value === null) return { type, keyVersion, key, valueVersion: null, value: null, isTombstone, error: null };
  const valueVersion = record.value.length >= 2 ? record.value.readInt16BE(0) : null;
  try {
    const value = decodedKey.kind === 'offset' ? offsetCommitValueReport(record.value) : groupMetadataValueReport(decodedKey.groupId, record.value);
    return { type, keyVersion, key, valueVersion, value, isTombstone, error: null };
  } catch (error) {
    if (!isMiniKafkaError(error)) throw error;
    return { type, keyVersion, key, valueVersion, value: null, isTombstone, error: `value not decoded: ${error.message}` };
  }
}

function offsetCommitValueReport(value: Buffer): OffsetCommitValueReport {
  const { offset, leaderEpoch, metadata, commitTimestampMs } = decodeOffsetCommitValue(value);
  return { offset, leaderEpoch, metadata, commitTimestamp: commitTimestampMs };
}

function groupMetadataValueReport(groupId: string, value: Buffer): GroupMetadataValueReport {
  const group = decodeGroupMetadataValue(groupId, value);
  const isConsumer = group.protocolType === CONSUMER_PROTOCOL_TYPE;
  return {
    protocolType: group.protocolType,
    generation: group.generationId,
    protocol: group.protocolName,
    leader: group.leaderId,
    currentStateTimestamp: group.stateTimestampMs,
    members: group.members.map((member) => memberReport(member, isConsumer)),
  };
}

/** A member, with its subscription and assignment read through the consumer protocol when the group speaks it. */
function memberReport(member: GroupMemberSnapshot, isConsumer: boolean): GroupMemberReport {
  const orNull = <T>(decode: () => T): T | null => {
    if (!isConsumer) return null;
    try {
      return decode();
    } catch (error) {
      if (!isMiniKafkaError(error)) throw error;
      return null;
    }
  };
  return {
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId,
    clientId: member.clientId,
    clientHost: member.clientHost,
    rebalanceTimeoutMs: member.rebalanceTimeoutMs,
    sessionTimeoutMs: member.sessionTimeoutMs,
    subscribedTopics: orNull(() => decodeSubscription(member.subscription).topics),
    assignedPartitions: orNull(() => decodeAssignment(member.assignment).assignedPartitions),
  };
}

/** Says why the bytes at `position` are not a whole v2 batch, from its first header bytes. */
function describeUnreadable(io: FileIo, fd: number, position: number, sizeBytes: number): string {
  const remaining = sizeBytes - position;
  if (remaining < BATCH_HEADER_BYTES) {
    return `only ${remaining} bytes remain at position ${position}, fewer than the ${BATCH_HEADER_BYTES} bytes of a batch header (a torn write)`;
  }
  const head = Buffer.alloc(BATCH_HEADER_BYTES);
  io.read(fd, head, 0, BATCH_HEADER_BYTES, position);
  const magic = head.readInt8(16);
  const batchLength = head.readInt32BE(8);
  if (magic !== MAGIC_V2) return `the bytes at position ${position} are not a record batch: magic byte ${magic}, not ${MAGIC_V2}`;
  if (batchLength < MIN_BATCH_LENGTH) return `the bytes at position ${position} are not a record batch: batchLength ${batchLength} is below the ${MIN_BATCH_LENGTH} bytes of an empty batch`;
  const declaredBytes = LOG_OVERHEAD_BYTES + batchLength;
  if (declaredBytes > remaining) {
    return `the file ends inside the batch at position ${position}: it declares ${declaredBytes} bytes but only ${remaining} remain (a torn write)`;
  }
  return `the batch header at position ${position} holds an int64 field outside the safe integer range`;
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
