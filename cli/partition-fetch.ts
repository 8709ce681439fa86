/**
 * One read of one partition, for `minikafka consume` without a group: a stateless fetch through
 * the SDK's transport (`GET /topics/{t}/partitions/{p}/records`, Kafka's record batches as the log
 * stores them), decoded with the common codec.
 *
 * As a Kafka consumer must (kafka-facts §8): the first batch may begin before the fetch offset,
 * and its earlier records are skipped; control batches are never shown, but their offsets are
 * stepped over; a compacted batch may have gaps or no records, so the next fetch starts after the
 * last offset of the last batch, not after its last record. Every batch's CRC is checked by the
 * decoder: a damaged batch is an error naming the partition and offset, never skipped silently.
 *
 * The answer's `x-high-watermark` and `x-log-start-offset` headers come back with the records, so
 * the caller knows where the log ends without another request.
 */

import { TimestampType, decodeRecordBatch, iterateRecordBatches } from '../common/record-batch.ts';
import { MiniKafkaClientError } from '../client/errors.ts';
import type { Transport } from '../client/transport.ts';
import type { ConsumedRecord } from './record-format.ts';

export interface PartitionFetchRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** 0: answer at once; more: wait that long for a record at `offset` (long poll). */
  readonly maxWaitMs: number;
  /** Kafka's max.partition.fetch.bytes: a soft cap, whole batches, at least one. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

export interface PartitionFetchResult {
  readonly records: ConsumedRecord[];
  /** Where the next fetch starts: past every batch in the answer that reached `offset`. */
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

const RECORD_BATCH_MEDIA_TYPE = 'application/vnd.kafka.record-batch';

export async function fetchPartition(transport: Transport, request: PartitionFetchRequest): Promise<PartitionFetchResult> {
  const { topic, partition, offset } = request;
  const path = `/topics/${encodeURIComponent(topic)}/partitions/${partition}/records?offset=${offset}&max_bytes=${request.maxBytes}&timeout=${request.maxWaitMs}`;
  const response = await transport.request({
    method: 'GET',
    path,
    accept: RECORD_BATCH_MEDIA_TYPE,
    // The long poll is the broker's wait; the request may take that long plus the transfer.
    timeoutMs: request.maxWaitMs + 30_000,
    signal: request.signal,
  });
  const highWatermark = Number(response.headers['x-high-watermark']);
  const logStartOffset = Number(response.headers['x-log-start-offset']);
  return { ...decodeBatches(response.body, topic, partition, offset), highWatermark, logStartOffset };
}

/** The records at or after `offset` in a fetch answer, and where the next fetch starts. */
export function decodeBatches(bytes: Buffer, topic: string, partition: number, offset: number): { records: ConsumedRecord[]; nextOffset: number } {
  const records: ConsumedRecord[] = [];
  let nextOffset = offset;
  try {
    // iterateRecordBatches stops before a batch cut off at the end of the answer: the next fetch reads it whole.
    for (const { position, header } of iterateRecordBatches(bytes)) {
      if (header.lastOffset < offset) continue;
      nextOffset = Math.max(nextOffset, header.lastOffset + 1);
      if (header.isControl) continue;
      const timestampType = header.timestampType === TimestampType.logAppendTime ? 'LogAppendTime' : 'CreateTime';
      for (const record of decodeRecordBatch(bytes, position).records) {
        if (record.offset < offset) continue;
        records.push({ topic, partition, offset: record.offset, timestamp: record.timestamp, timestampType, key: record.key, value: record.value, headers: record.headers });
      }
    }
  } catch (error) {
    throw new MiniKafkaClientError('CORRUPT_MESSAGE', `topic ${topic} partition ${partition}: the fetch at offset ${offset} holds a batch that does not decode: ${(error as Error).message}`, {
      retriable: false, cause: error, details: { topic, partition, offset },
    });
  }
  return { records, nextOffset };
}
