/**
 * The body of `POST /produce`: many partitions' record batches in one request, Kafka's Produce
 * request in HTTP clothes (one request carries one batch for each of many partitions,
 * kafka-facts §6.2). The SDK's producer encodes it (client/producer/sender.ts); the broker parses
 * it (broker/http/routes/produce-batches.ts); docs/http-api.md documents it.
 *
 *   ProduceBatches => entryCount:int32 Entry × entryCount
 *   Entry          => topicLength:int16 topic:UTF-8[topicLength] partition:int32 batchLength:int32 batch:bytes[batchLength]
 *
 * All integers big-endian. `batch` is one RecordBatch v2 (record-batch.ts). The encoder sizes
 * first, allocates once and writes in place: each batch is copied once, into the body. The parser
 * checks the whole frame before returning anything, and hands out views of the body, no copies.
 */

import assert from 'node:assert';
import { MiniKafkaError } from './errors.ts';

export const PRODUCE_BATCHES_MEDIA_TYPE = 'application/vnd.minikafka.produce-batches';

/** entryCount. */
const REQUEST_HEADER_BYTES = 4;
/** topicLength, partition, batchLength around an entry's topic and batch. */
const ENTRY_FRAME_BYTES = 2 + 4 + 4;
const TOPIC_LENGTH_MAX = 0x7fff;

export interface ProduceEntry {
  readonly topic: string;
  readonly partition: number;
  /** Parsed: a view into the request body. */
  readonly batch: Buffer;
}

/** The bytes an entry takes in the body. */
export function sizeOfEntry(topicBytes: number, batchBytes: number): number {
  return ENTRY_FRAME_BYTES + topicBytes + batchBytes;
}

/** The body for `entries` (at least one; topic names already validated). */
export function encodeProduceBatches(entries: ReadonlyArray<ProduceEntry>): Buffer {
  assert(entries.length > 0, 'a produce request carries at least one batch');
  let total = REQUEST_HEADER_BYTES;
  const topicBytes: number[] = new Array(entries.length);
  for (let index = 0; index < entries.length; index++) {
    topicBytes[index] = Buffer.byteLength(entries[index].topic, 'utf8');
    assert(topicBytes[index] <= TOPIC_LENGTH_MAX, 'topic names are validated long before this');
    total += sizeOfEntry(topicBytes[index], entries[index].batch.length);
  }
  const body = Buffer.allocUnsafe(total);
  body.writeInt32BE(entries.length, 0);
  let position = REQUEST_HEADER_BYTES;
  for (let index = 0; index < entries.length; index++) {
    const { topic, partition, batch } = entries[index];
    position = body.writeInt16BE(topicBytes[index], position);
    position += body.write(topic, position, topicBytes[index], 'utf8');
    position = body.writeInt32BE(partition, position);
    position = body.writeInt32BE(batch.length, position);
    position += batch.copy(body, position);
  }
  assert(position === total, 'the body is filled exactly');
  return body;
}

/** Splits the body into its entries, checking the whole frame first; throws INVALID_REQUEST naming the byte position. */
export function parseProduceBatches(body: Buffer): ProduceEntry[] {
  if (body.length < REQUEST_HEADER_BYTES) throw framingError(`the body has ${body.length} bytes; it needs at least ${REQUEST_HEADER_BYTES} for entryCount`, 0);
  const entryCount = body.readInt32BE(0);
  const maxEntries = Math.floor((body.length - REQUEST_HEADER_BYTES) / ENTRY_FRAME_BYTES);
  if (entryCount < 1 || entryCount > maxEntries) {
    throw framingError(`entryCount is ${entryCount}; it must be at least 1, and a body of ${body.length} bytes frames at most ${maxEntries} entries (${ENTRY_FRAME_BYTES} bytes each before topic and batch)`, 0);
  }
  const entries: ProduceEntry[] = new Array(entryCount);
  let position = REQUEST_HEADER_BYTES;
  for (let index = 0; index < entryCount; index++) {
    if (position + ENTRY_FRAME_BYTES > body.length) throw framingError(`entry ${index} starts at byte ${position} but its frame needs ${ENTRY_FRAME_BYTES} bytes and ${body.length - position} remain`, position);
    const topicLength = body.readInt16BE(position);
    if (topicLength < 0 || position + 2 + topicLength + 8 > body.length) throw framingError(`entry ${index}: topicLength ${topicLength} at byte ${position} overruns the body`, position);
    const topic = body.toString('utf8', position + 2, position + 2 + topicLength);
    position += 2 + topicLength;
    const partition = body.readInt32BE(position);
    const batchLength = body.readInt32BE(position + 4);
    position += 8;
    if (partition < 0) throw framingError(`entry ${index}: partition ${partition} is negative`, position - 8);
    if (batchLength < 0 || position + batchLength > body.length) throw framingError(`entry ${index}: batchLength ${batchLength} at byte ${position - 4} overruns the body`, position - 4);
    entries[index] = { topic, partition, batch: body.subarray(position, position + batchLength) };
    position += batchLength;
  }
  if (position !== body.length) throw framingError(`${body.length - position} bytes follow the last of the ${entryCount} entries`, position);
  return entries;
}

function framingError(message: string, position: number): MiniKafkaError {
  return new MiniKafkaError('INVALID_REQUEST', `produce-batches body: ${message}`, { position });
}
