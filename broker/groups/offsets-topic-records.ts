/**
 * The records of the internal topic `__consumer_offsets`, in Kafka's layouts
 * (group-coordinator/src/main/resources/common/message/*.json; kafka-facts §7.2), so that the
 * bytes a learner dumps with `minikafka dump-log --records` are the ones Kafka would write.
 *
 * Every record has a key; the key's version says what it is:
 *
 *   OffsetCommitKey (version 1)   => version:int16 group:string topic:string partition:int32
 *   OffsetCommitValue (version 3) => version:int16 offset:int64 leaderEpoch:int32 metadata:string commitTimestamp:int64
 *   GroupMetadataKey (version 2)  => version:int16 group:string
 *   GroupMetadataValue (version 3)=> version:int16 protocolType:string generation:int32
 *                                    protocol:nullable_string leader:nullable_string currentStateTimestamp:int64
 *                                    members:[memberId:string groupInstanceId:nullable_string clientId:string
 *                                    clientHost:string rebalanceTimeout:int32 sessionTimeout:int32
 *                                    subscription:bytes assignment:bytes]
 *
 *   string = int16 length + UTF-8; nullable_string: length -1 for null; bytes = int32 length + bytes;
 *   arrays = int32 count + items. A null value (tombstone) deletes the key: compaction then drops it.
 *
 * The group's state is not stored (Kafka does not either): no members means Empty, members mean
 * Stable. A Dead group is a tombstone.
 */

import { MiniKafkaError } from '../../common/errors.ts';
import type { GroupMemberSnapshot, GroupSnapshot } from './group-snapshot.ts';

export const OFFSETS_TOPIC = '__consumer_offsets';

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
const OFFSET_COMMIT_VALUE_VERSION = 3;
const GROUP_METADATA_VALUE_VERSION = 3;

export interface CommittedOffset {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
}

export type OffsetsTopicKey =
  | { readonly kind: 'offset'; readonly groupId: string; readonly topic: string; readonly partition: number }
  | { readonly kind: 'group'; readonly groupId: string };

/**
 * The partition of `__consumer_offsets` that holds a group: Java's String.hashCode of the id,
 * made non-negative as Kafka's Utils.abs does (abs(MIN_VALUE) = 0), modulo the partition count.
 * Kafka's own vectors: my-group → 12, console-consumer-1 → 24, kafkajs-group → 43 of 50.
 */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(hash, 31) + groupId.charCodeAt(i)) | 0;
  const positive = hash === -0x80000000 ? 0 : Math.abs(hash);
  return positive % partitions;
}

// ---- encoding --------------------------------------------------------------------------------

export function encodeOffsetCommitKey(groupId: string, topic: string, partition: number): Buffer {
  return new Writer().int16(OFFSET_COMMIT_KEY_VERSION).string(groupId).string(topic).int32(partition).done();
}

export function encodeGroupMetadataKey(groupId: string): Buffer {
  return new Writer().int16(GROUP_METADATA_KEY_VERSION).string(groupId).done();
}

export function encodeOffsetCommitValue(value: CommittedOffset): Buffer {
  return new Writer().int16(OFFSET_COMMIT_VALUE_VERSION).int64(value.offset).int32(value.leaderEpoch).string(value.metadata).int64(value.commitTimestampMs).done();
}

export function encodeGroupMetadataValue(snapshot: GroupSnapshot): Buffer {
  const writer = new Writer()
    .int16(GROUP_METADATA_VALUE_VERSION)
    .string(snapshot.protocolType ?? '')
    .int32(snapshot.generationId)
    .nullableString(snapshot.protocolName)
    .nullableString(snapshot.leaderId)
    .int64(snapshot.stateTimestampMs)
    .int32(snapshot.members.length);
  for (const member of snapshot.members) {
    writer
      .string(member.memberId)
      .nullableString(member.groupInstanceId)
      .string(member.clientId)
      .string(member.clientHost)
      .int32(member.rebalanceTimeoutMs)
      .int32(member.sessionTimeoutMs)
      .bytes(member.subscription)
      .bytes(member.assignment);
  }
  return writer.done();
}

// ---- decoding --------------------------------------------------------------------------------

export function decodeOffsetsTopicKey(key: Buffer): OffsetsTopicKey {
  const reader = new Reader(key);
  const version = reader.int16();
  if (version === 0 || version === OFFSET_COMMIT_KEY_VERSION) {
    return { kind: 'offset', groupId: reader.string(), topic: reader.string(), partition: reader.int32() };
  }
  if (version === GROUP_METADATA_KEY_VERSION) return { kind: 'group', groupId: reader.string() };
  throw corrupt(`unknown key version ${version}`);
}

export function decodeOffsetCommitValue(value: Buffer): CommittedOffset {
  const reader = new Reader(value);
  const version = reader.int16();
  if (version !== OFFSET_COMMIT_VALUE_VERSION) throw corrupt(`unsupported offset commit value version ${version}`);
  return { offset: reader.int64(), leaderEpoch: reader.int32(), metadata: reader.string(), commitTimestampMs: reader.int64() };
}

export function decodeGroupMetadataValue(groupId: string, value: Buffer): GroupSnapshot {
  const reader = new Reader(value);
  const version = reader.int16();
  if (version !== GROUP_METADATA_VALUE_VERSION) throw corrupt(`unsupported group metadata value version ${version}`);
  const protocolType = reader.string();
  const generationId = reader.int32();
  const protocolName = reader.nullableString();
  const leaderId = reader.nullableString();
  const stateTimestampMs = reader.int64();
  const count = reader.int32();
  const members: GroupMemberSnapshot[] = [];
  for (let i = 0; i < count; i++) {
    members.push({
      memberId: reader.string(),
      groupInstanceId: reader.nullableString(),
      clientId: reader.string(),
      clientHost: reader.string(),
      rebalanceTimeoutMs: reader.int32(),
      sessionTimeoutMs: reader.int32(),
      subscription: reader.bytes(),
      assignment: reader.bytes(),
    });
  }
  return {
    groupId,
    state: members.length === 0 ? 'Empty' : 'Stable',
    protocolType: protocolType === '' ? null : protocolType,
    protocolName,
    generationId,
    leaderId,
    stateTimestampMs,
    members,
  };
}

function corrupt(problem: string): MiniKafkaError {
  return new MiniKafkaError('CORRUPT_MESSAGE', `${OFFSETS_TOPIC} record: ${problem}`, {});
}

/** Sizes as it goes and concatenates once: these records are small and written per commit. */
class Writer {
  readonly #parts: Buffer[] = [];

  int16(value: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(value);
    this.#parts.push(b);
    return this;
  }
  int32(value: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(value);
    this.#parts.push(b);
    return this;
  }
  int64(value: number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(BigInt(value));
    this.#parts.push(b);
    return this;
  }
  string(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > 0x7fff) throw new MiniKafkaError('INVALID_REQUEST', `a string of ${bytes.length} bytes does not fit Kafka's int16 length`, {});
    return this.int16(bytes.length).#push(bytes);
  }
  nullableString(value: string | null): this {
    return value === null ? this.int16(-1) : this.string(value);
  }
  bytes(value: Buffer): this {
    return this.int32(value.length).#push(value);
  }
  done(): Buffer {
    return Buffer.concat(this.#parts);
  }
  #push(bytes: Buffer): this {
    this.#parts.push(bytes);
    return this;
  }
}

class Reader {
  readonly #buffer: Buffer;
  #at = 0;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }
  int16(): number {
    this.#need(2);
    const value = this.#buffer.readInt16BE(this.#at);
    this.#at += 2;
    return value;
  }
  int32(): number {
    this.#need(4);
    const value = this.#buffer.readInt32BE(this.#at);
    this.#at += 4;
    return value;
  }
  int64(): number {
    this.#need(8);
    const value = Number(this.#buffer.readBigInt64BE(this.#at));
    this.#at += 8;
    if (!Number.isSafeInteger(value)) throw corrupt('an int64 beyond the safe integer range');
    return value;
  }
  string(): string {
    const value = this.nullableString();
    if (value === null) throw corrupt('a null where a string is required');
    return value;
  }
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    this.#need(length);
    const value = this.#buffer.toString('utf8', this.#at, this.#at + length);
    this.#at += length;
    return value;
  }
  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) return Buffer.alloc(0);
    this.#need(length);
    const value = Buffer.from(this.#buffer.subarray(this.#at, this.#at + length));
    this.#at += length;
    return value;
  }
  #need(bytes: number): void {
    if (this.#at + bytes > this.#buffer.length) throw corrupt('a record shorter than its fields');
  }
}
