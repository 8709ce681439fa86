/**
 * One fetch's answer for one partition, turned into what the application gets: the records at
 * or after the fetch offset, as KafkaJS-shaped messages with their key and value deserialized.
 *
 * The bytes are Kafka's record batches as the log stores them (GET …/records with Accept
 * application/vnd.kafka.record-batch), so, as a Kafka consumer must (kafka-facts §8):
 *
 * - the first batch may begin before the fetch offset: its earlier records are skipped;
 * - the answer may end inside a batch: the partial batch is left for the next fetch
 *   (iterateRecordBatches stops before it);
 * - control batches (transaction markers) are never handed to the application, but the offsets
 *   they take are stepped over;
 * - a compacted batch may have gaps in its offsets, or no record at all: the next fetch starts
 *   after the batch's last offset, not after its last record.
 *
 * `nextOffset` is where the next fetch starts: after the last offset of every batch seen, so a
 * fetch that only held control batches or emptied batches still moves forward. nextFetchOffset
 * finds it from the batch headers alone, so the fetch loop can send the next fetch before the
 * runner decodes this answer (decodeFetch).
 *
 * Every batch's CRC is checked (forEachRecord validates as decodeRecordBatch does). A damaged
 * batch or a value the deserializer refuses is an error naming the topic, partition and offset;
 * the consumer stops on it rather than skip a record silently.
 */

import { forEachRecord, iterateRecordBatches } from '../../common/record-batch.ts';
import { MiniKafkaClientError } from '../errors.ts';
import type { Deserializer } from './consumer-config.ts';

/** Header values as KafkaJS gives them: a Buffer, or an array of them for a repeated key. */
export type ConsumedHeaders = Record<string, Buffer | null | Array<Buffer | null>>;

export interface ConsumerMessage<K = Buffer, V = Buffer> {
  readonly topic: string;
  readonly partition: number;
  /** As KafkaJS: the int64 as a string. */
  readonly offset: string;
  /** Milliseconds since the epoch, as a string (KafkaJS). For a logAppendTime topic, the broker's append time. */
  readonly timestamp: string;
  readonly key: K | null;
  readonly value: V | null;
  readonly headers: ConsumedHeaders;
}

/**
 * Where the fetch after this answer starts, from the batch headers alone (no record is read and
 * no CRC checked): after the last offset of every whole batch at or after `fetchOffset`. The
 * fetch loop sends its next fetch from here at once and leaves decoding to the runner, so one
 * fetch is on its way while the previous answer is decoded. Throws CORRUPT_MESSAGE when a batch
 * length cannot be stepped over.
 */
export function nextFetchOffset(bytes: Buffer, topic: string, partition: number, fetchOffset: number): number {
  let nextOffset = fetchOffset;
  try {
    for (const { header } of iterateRecordBatches(bytes)) {
      if (header.lastOffset + 1 > nextOffset) nextOffset = header.lastOffset + 1;
    }
  } catch (error) {
    throw undecodable(error, topic, partition, fetchOffset);
  }
  return nextOffset;
}

export interface DecodedFetch<K, V> {
  readonly messages: Array<ConsumerMessage<K, V>>;
  /** Where the next fetch starts; > the fetch offset when any batch at or after it was whole in the answer. */
  readonly nextOffset: number;
}

export function decodeFetch<K, V>(
  bytes: Buffer, topic: string, partition: number, fetchOffset: number, keyDeserializer: Deserializer<K>, valueDeserializer: Deserializer<V>,
): DecodedFetch<K, V> {
  const messages: Array<ConsumerMessage<K, V>> = [];
  let nextOffset = fetchOffset;
  try {
    for (const { position, header } of iterateRecordBatches(bytes)) {
      if (header.lastOffset < fetchOffset) continue;
      if (header.lastOffset + 1 > nextOffset) nextOffset = header.lastOffset + 1;
      if (header.isControl) continue;
      forEachRecord(bytes, position, (offset, timestamp, key, value, headers) => {
        if (offset < fetchOffset) return;
        messages.push({
          topic,
          partition,
          offset: String(offset),
          timestamp: String(timestamp),
          key: deserialize(keyDeserializer, key, 'key', topic, partition, offset),
          value: deserialize(valueDeserializer, value, 'value', topic, partition, offset),
          headers: toHeaders(headers),
        });
      });
    }
  } catch (error) {
    throw undecodable(error, topic, partition, fetchOffset);
  }
  return { messages, nextOffset };
}

function undecodable(error: unknown, topic: string, partition: number, fetchOffset: number): MiniKafkaClientError {
  if (error instanceof MiniKafkaClientError) return error;
  const code = (error as { code?: unknown }).code;
  return new MiniKafkaClientError(typeof code === 'string' ? code : 'CORRUPT_MESSAGE', `topic ${topic} partition ${partition}: the fetch at offset ${fetchOffset} holds a batch that does not decode: ${(error as Error).message}`, {
    retriable: false, cause: error, details: { topic, partition, offset: fetchOffset },
  });
}

function deserialize<T>(deserializer: Deserializer<T>, bytes: Buffer | null, field: 'key' | 'value', topic: string, partition: number, offset: number): T | null {
  if (bytes === null) return null;
  try {
    return deserializer.deserialize(bytes);
  } catch (error) {
    throw new MiniKafkaClientError('INVALID_RECORD', `topic ${topic} partition ${partition} offset ${offset}: the ${deserializer.name} deserializer refused the record's ${field}: ${(error as Error).message}`, {
      retriable: false, cause: error, details: { topic, partition, offset, field, deserializer: deserializer.name },
    });
  }
}

function toHeaders(headers: ReadonlyArray<{ key: string; value: Buffer | null }>): ConsumedHeaders {
  const result: ConsumedHeaders = {};
  for (const { key, value } of headers) {
    // A record header named __proto__ must not reach the object's prototype.
    if (!Object.hasOwn(result, key)) {
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    const existing = result[key];
    if (Array.isArray(existing)) existing.push(value);
    else result[key] = [existing, value];
  }
  return result;
}
