/**
 * The consumer protocol: the bytes a Kafka consumer puts inside JoinGroup (its Subscription, one
 * per assignor it offers) and inside SyncGroup (each member's Assignment). The broker only relays
 * these bytes ("embedded protocol"); minikafka decodes them for three reasons: to know which
 * topics a group reads (a topic that gains partitions triggers a rebalance), to assign on the
 * server for HTTP clients that ask, and to show assignments in describe.
 *
 * Every message starts with an int16 version. Later versions only append fields, so a decoder
 * that reads the fields it knows and ignores the rest understands every version: that is what
 * Kafka's own ConsumerProtocol does (a version above the highest it knows is read as the highest).
 * This decoder is also tolerant of the other direction: a message that ends exactly where a
 * field would start gets that field's default. KafkaJS needs this: it writes version 1 in the
 * version field but the v0 layout (topics, userData) after it.
 *
 * Primitive types (kafka-facts §10.2), all big-endian:
 *
 *   int16, int32      two's complement
 *   string            int16 length N ≥ 0, then N bytes of UTF-8
 *   nullable string   as string; length -1 = null
 *   bytes             int32 length N, then N bytes; length -1 = null
 *   [T]               int32 count N ≥ 0, then N items of T
 */

import { MiniKafkaError } from '../../common/errors.ts';

/** Partitions of one topic, ascending. */
export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface Subscription {
  readonly version: number;
  readonly topics: readonly string[];
  readonly userData: Buffer | null;
  /** v1+: what the member owned before this rebalance (empty when the message does not say). */
  readonly ownedPartitions: readonly TopicPartitions[];
  /** v2+: the generation of ownedPartitions; -1 when the message does not say. */
  readonly generationId: number;
  /** v3+: the member's rack (`client.rack`), or null. */
  readonly rackId: string | null;
}

export interface Assignment {
  readonly version: number;
  readonly assignedPartitions: readonly TopicPartitions[];
  readonly userData: Buffer | null;
}

/** The protocol type consumers send in JoinGroup; other types (Kafka Connect's "connect") carry other bytes. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

const INT16_MAX = 0x7fff;
const INT32_MAX = 0x7fff_ffff;

/** Reads the primitive types from a buffer, refusing to read past its end. */
class Reader {
  readonly #buffer: Buffer;
  readonly #what: string;
  #position = 0;

  constructor(buffer: Buffer, what: string) {
    this.#buffer = buffer;
    this.#what = what;
  }

  get isAtEnd(): boolean {
    return this.#position === this.#buffer.length;
  }

  int16(): number {
    this.#need(2);
    const value = this.#buffer.readInt16BE(this.#position);
    this.#position += 2;
    return value;
  }

  int32(): number {
    this.#need(4);
    const value = this.#buffer.readInt32BE(this.#position);
    this.#position += 4;
    return value;
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) this.#fail(`a string length of ${length}`);
    this.#need(length);
    const value = this.#buffer.toString('utf8', this.#position, this.#position + length);
    this.#position += length;
    return value;
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) this.#fail('a null string where a string is required');
    return value;
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) this.#fail(`a bytes length of ${length}`);
    this.#need(length);
    // A copy: the caller's buffer may be a slice of a request that is reused.
    const value = Buffer.from(this.#buffer.subarray(this.#position, this.#position + length));
    this.#position += length;
    return value;
  }

  /** An array whose items take at least `minItemBytes` each, so a lying count cannot allocate much. */
  array<T>(minItemBytes: number, readItem: () => T): T[] {
    const count = this.int32();
    if (count < 0) this.#fail(`an array count of ${count}`);
    if (count * minItemBytes > this.#buffer.length - this.#position) this.#fail(`an array count of ${count}, more than the remaining ${this.#buffer.length - this.#position} bytes can hold`);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(readItem());
    return items;
  }

  #need(bytes: number): void {
    if (this.#position + bytes > this.#buffer.length) this.#fail(`${bytes} more bytes at position ${this.#position}, past the end (${this.#buffer.length} bytes)`);
  }

  #fail(problem: string): never {
    throw new MiniKafkaError('INVALID_REQUEST', `${this.#what} does not parse: ${problem}`, { position: this.#position, length: this.#buffer.length });
  }
}

/** Collects the pieces of a message and joins them once, at the end. */
class Writer {
  readonly #chunks: Buffer[] = [];

  int16(value: number): this {
    const chunk = Buffer.alloc(2);
    chunk.writeInt16BE(value);
    this.#chunks.push(chunk);
    return this;
  }

  int32(value: number): this {
    const chunk = Buffer.alloc(4);
    chunk.writeInt32BE(value);
    this.#chunks.push(chunk);
    return this;
  }

  string(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > INT16_MAX) throw new MiniKafkaError('INVALID_REQUEST', `a string of ${bytes.length} bytes is longer than the ${INT16_MAX} a Kafka string can hold`, { bytes: bytes.length });
    this.int16(bytes.length);
    this.#chunks.push(bytes);
    return this;
  }

  nullableBytes(value: Buffer | null): this {
    if (value === null) return this.int32(-1);
    this.int32(value.length);
    this.#chunks.push(value);
    return this;
  }

  array<T>(items: readonly T[], writeItem: (item: T) => void): this {
    this.int32(items.length);
    for (const item of items) writeItem(item);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

function readTopicPartitions(reader: Reader): TopicPartitions {
  const topic = reader.string();
  const partitions = reader.array(4, () => reader.int32());
  return { topic, partitions };
}

function writeTopicPartitions(writer: Writer, { topic, partitions }: TopicPartitions): void {
  writer.string(topic).array(partitions, (partition) => {
    if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) throw new MiniKafkaError('INVALID_REQUEST', `topic ${topic}: partition ${partition} is not an int32 partition number`, { topic, partition });
    writer.int32(partition);
  });
}

/*
 * Subscription (ConsumerProtocolSubscription.json)
 *
 *   v0: version int16, topics [string], userData bytes
 *   v1: + ownedPartitions [topic string, partitions [int32]]
 *   v2: + generationId int32
 *   v3: + rackId nullable string
 */

export function decodeSubscription(bytes: Buffer): Subscription {
  const reader = new Reader(bytes, 'consumer protocol Subscription');
  const version = reader.int16();
  if (version < 0) throw new MiniKafkaError('INVALID_REQUEST', `consumer protocol Subscription has version ${version}; versions are never negative`, { version });
  const topics = reader.array(2, () => reader.string());
  const userData = reader.isAtEnd ? null : reader.nullableBytes();
  const ownedPartitions = version >= 1 && !reader.isAtEnd ? reader.array(6, () => readTopicPartitions(reader)) : [];
  const generationId = version >= 2 && !reader.isAtEnd ? reader.int32() : -1;
  const rackId = version >= 3 && !reader.isAtEnd ? reader.nullableString() : null;
  // Anything after the fields of v3 belongs to a later version: ignored, as Kafka does.
  return { version, topics, userData, ownedPartitions, generationId, rackId };
}

export interface SubscriptionToEncode {
  readonly topics: readonly string[];
  readonly userData?: Buffer | null;
  /** Written only by version 1. */
  readonly ownedPartitions?: readonly TopicPartitions[];
}

/** Encodes version 0 (topics, userData) or version 1 (+ ownedPartitions). userData defaults to empty bytes, as KafkaJS writes. */
export function encodeSubscription(subscription: SubscriptionToEncode, version: 0 | 1 = 0): Buffer {
  const writer = new Writer().int16(version);
  writer.array(subscription.topics, (topic) => writer.string(topic));
  writer.nullableBytes(subscription.userData === undefined ? Buffer.alloc(0) : subscription.userData);
  if (version === 1) writer.array(subscription.ownedPartitions ?? [], (owned) => writeTopicPartitions(writer, owned));
  return writer.toBuffer();
}

/*
 * Assignment (ConsumerProtocolAssignment.json); every version so far has the v0 fields
 *
 *   v0: version int16, assignedPartitions [topic string, partitions [int32]], userData bytes
 */

/** Decodes any version. Zero bytes, which the coordinator hands a member the leader left out, decode as an empty assignment. */
export function decodeAssignment(bytes: Buffer): Assignment {
  if (bytes.length === 0) return { version: 0, assignedPartitions: [], userData: null };
  const reader = new Reader(bytes, 'consumer protocol Assignment');
  const version = reader.int16();
  if (version < 0) throw new MiniKafkaError('INVALID_REQUEST', `consumer protocol Assignment has version ${version}; versions are never negative`, { version });
  const assignedPartitions = reader.array(6, () => readTopicPartitions(reader));
  const userData = reader.isAtEnd ? null : reader.nullableBytes();
  return { version, assignedPartitions, userData };
}

/** Encodes version 0. userData defaults to empty bytes, as KafkaJS writes. */
export function encodeAssignment(assignedPartitions: readonly TopicPartitions[], userData: Buffer | null = Buffer.alloc(0)): Buffer {
  const writer = new Writer().int16(0);
  writer.array(assignedPartitions, (assigned) => writeTopicPartitions(writer, assigned));
  writer.nullableBytes(userData);
  return writer.toBuffer();
}
