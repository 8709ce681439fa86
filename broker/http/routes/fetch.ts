/**
 * Fetch from one partition without a consumer group, in Redpanda's HTTP Proxy shape:
 *
 *   GET /topics/:topic/partitions/:partition/records?offset=N&max_bytes=B&timeout=MS
 *
 * - offset (required): the first offset wanted. Outside [log start offset, log end offset] it
 *   is OFFSET_OUT_OF_RANGE, with the valid range in the error's details.
 * - max_bytes (default 1 MiB, Kafka's max.partition.fetch.bytes): a soft cap; at least one whole
 *   batch comes back, and asks above fetch.max.bytes are capped to it.
 * - timeout (default 0): how long to wait when nothing is there yet (long poll). The wait ends
 *   as soon as an append arrives, or when the client disconnects, or the server closes. Above
 *   minikafka.fetch.max.wait.ms it is an INVALID_REQUEST naming that limit.
 *
 * Accept picks the answer: a JSON array of records `[{ topic, partition, offset, timestamp, key,
 * value, headers }]` in the json (the default), binary or msgpack format, or, for
 * application/vnd.kafka.record-batch, the batches' bytes exactly as stored (the SDK's path; the
 * first batch may begin before `offset`, as in Kafka). Every answer carries the partition's
 * `x-high-watermark` and `x-log-start-offset` headers.
 */

import type { FastifyInstance } from 'fastify';
import { MiniKafkaError, isMiniKafkaError } from '../../../common/errors.ts';
import type { FetchResult } from '../../core/broker-core.ts';
import type { RecordFormat } from '../content-types.ts';
import { MediaType, negotiate, responseMediaType, sendAs } from '../content-types.ts';
import type { HttpContext } from '../http-context.ts';
import { limitNames } from '../http-limits.ts';
import { toFetchedRecords } from '../record-json.ts';
import type { PartitionParams } from '../schemas.ts';
import { offsetNumber, partitionParams } from '../schemas.ts';

/** Kafka consumer's max.partition.fetch.bytes default. */
const DEFAULT_MAX_BYTES = 1_048_576;

interface FetchQuery {
  offset: number;
  max_bytes?: number;
  timeout?: number;
}

const fetchQuery = {
  type: 'object',
  required: ['offset'],
  properties: {
    offset: offsetNumber,
    max_bytes: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    timeout: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
} as const;

/** Server preference first: JSON for a browser or curl that accepts anything. */
const fetchAnswerTypes: ReadonlyArray<readonly [string, RecordFormat]> = [
  [MediaType.kafkaJson, 'json'],
  [MediaType.json, 'json'],
  [MediaType.kafkaBinary, 'binary'],
  [MediaType.msgpack, 'msgpack'],
  [MediaType.xMsgpack, 'msgpack'],
  [MediaType.recordBatch, 'batch'],
];

export function registerFetchRoutes(app: FastifyInstance, { core, limits, longPolls }: HttpContext): void {
  app.get<{ Params: PartitionParams; Querystring: FetchQuery }>(
    '/topics/:topic/partitions/:partition/records',
    { schema: { params: partitionParams, querystring: fetchQuery } },
    async (request, reply) => {
      const { topic, partition } = request.params;
      const { offset, max_bytes: maxBytes = DEFAULT_MAX_BYTES, timeout: maxWaitMs = 0 } = request.query;
      const format = negotiate(request.headers.accept, fetchAnswerTypes);
      if (maxWaitMs > limits.fetchMaxWaitMs) {
        throw new MiniKafkaError('INVALID_REQUEST', `timeout ${maxWaitMs} ms is over ${limitNames.fetchMaxWaitMs} (${limits.fetchMaxWaitMs} ms)`, {
          limit: limitNames.fetchMaxWaitMs, maxWaitMs: limits.fetchMaxWaitMs, timeout: maxWaitMs,
        });
      }
      const poll = maxWaitMs > 0 ? longPolls.begin(reply) : null;
      let result: FetchResult;
      try {
        result = await core.fetch(topic, partition, { offset, maxBytes: Math.min(maxBytes, limits.fetchMaxBytes), maxWaitMs, signal: poll?.signal });
      } catch (error) {
        throw withPartition(error, topic, partition);
      } finally {
        poll?.end();
      }
      // The bytes sit in a pooled read buffer: it may be used again only once the answer is out.
      reply.raw.once('finish', result.release);
      reply.header('x-high-watermark', String(result.highWatermark)).header('x-log-start-offset', String(result.logStartOffset));
      if (format === 'batch') return reply.type(responseMediaType.batch).send(result.bytes);
      const records = toFetchedRecords(topic, partition, result.bytes, offset, format);
      if (format === 'msgpack') return sendAs(reply, 'msgpack', records);
      return reply.type(responseMediaType[format]).send(records);
    },
  );
}

/** The storage engine's range error names a directory; the client wants the topic and partition. */
function withPartition(error: unknown, topic: string, partition: number): unknown {
  if (!isMiniKafkaError(error, 'OFFSET_OUT_OF_RANGE')) return error;
  const { offset, logStartOffset, nextOffset } = error.details;
  return new MiniKafkaError('OFFSET_OUT_OF_RANGE', `topic ${topic} partition ${partition}: ${error.message}`, {
    topic, partition, offset, logStartOffset, highWatermark: nextOffset,
  }, { cause: error });
}
