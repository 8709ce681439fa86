/**
 * The body of `POST /produce`: many partitions' record batches in one request (the broker's
 * side is broker/http/routes/produce-batches.ts; docs/http-api.md documents both).
 *
 *   ProduceBatches => entryCount:int32 Entry × entryCount
 *   Entry          => topicLength:int16 topic:UTF-8[topicLength] partition:int32 batchLength:int32 batch:bytes[batchLength]
 *
 * All integers big-endian. Sized first, allocated once, written in place: each batch is copied
 * once, into the body.
 */

import assert from 'node:assert';

export const PRODUCE_BATCHES_MEDIA_TYPE = 'application/vnd.minikafka.produce-batches';

const REQUEST_HEADER_BYTES = 4;
const ENTRY_FRAME_BYTES = 2 + 4 + 4;
const TOPIC_LENGTH_MAX = 0x7fff;

export interface ProduceEntry {
  readonly topic: string;
  readonly partition: number;
  readonly batch: Buffer;
}

/** One entry's outcome, in request order. */
export interface ProduceEntryResult {
  readonly topic: string;
  readonly partition: number;
  readonly base_offset: number;
  readonly log_append_time: number;
  readonly log_start_offset: number;
  readonly duplicate: boolean;
  readonly error: { error_code: number; message: string; code: string; retriable: boolean; details?: Record<string, unknown> } | null;
}

export interface ProduceBatchesResponse {
  readonly results: ProduceEntryResult[];
}

/** The bytes an entry takes in the body. */
export function sizeOfEntry(topicBytes: number, batchBytes: number): number {
  return ENTRY_FRAME_BYTES + topicBytes + batchBytes;
}

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
