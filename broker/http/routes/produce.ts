/**
 * Produce, in Confluent REST Proxy v2's shape, plus the SDK's raw record-batch path.
 *
 *   POST /topics/:topic                       records envelope → partitioned by the core
 *   POST /topics/:topic/partitions/:partition records envelope → that partition
 *                                             or one raw RecordBatch v2 (application/vnd.kafka.record-batch)
 *   ?acks=0|1|-1|all                          default all, as Kafka ≥ 3.0 producers
 *
 * Envelope: { "records": [{ "key", "value", "partition"?, "timestamp"?, "headers"? }] } in the
 * json, binary or msgpack format (content-types.ts, record-json.ts), answered with
 *   { "offsets": [{ "partition", "offset", "error_code", "error" }], "key_schema_id": null, "value_schema_id": null }
 * one entry per record in request order; error_code is the REST code of that record's failure or
 * null. When every record failed with the same error, the request fails with it instead (its
 * HTTP status and the one error body), so a failure is never hidden behind a 200.
 *
 * Raw batch: the body is exactly one batch as a Kafka producer builds it; the Buffer fastify read
 * is handed to the core, which writes the offset into it and appends it as is. Answered with
 *   { "partition", "base_offset", "log_append_time", "log_start_offset", "duplicate" }
 * as JSON, or msgpack when Accept asks for it.
 */

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MiniKafkaError } from '../../../common/errors.ts';
import type { RecordOffset } from '../../core/broker-core.ts';
import { MediaType, RECORD_BODY_TYPES, acceptContentTypes, negotiate, recordFormatOf, sendAs } from '../content-types.ts';
import type { HttpContext } from '../http-context.ts';
import { limitNames } from '../http-limits.ts';
import type { ProduceBodyRecord } from '../record-json.ts';
import { toProduceRecords } from '../record-json.ts';
import type { PartitionParams, TopicParams } from '../schemas.ts';
import { INT32_MAX, acksQuery, partitionParams, toAcks, topicParams } from '../schemas.ts';

interface ProduceBody {
  records: ProduceBodyRecord[];
}
interface AcksQuery {
  acks?: string;
}

const recordSchema = {
  type: 'object',
  properties: {
    partition: { type: ['null', 'integer'], minimum: 0, maximum: INT32_MAX },
    timestamp: { type: ['null', 'integer'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
} as const;

const envelopeSchema = {
  type: 'object',
  required: ['records'],
  properties: { records: { type: 'array', items: recordSchema } },
} as const;

/** The same envelope schema for every record media type; the raw batch has none. */
const envelopeBody = { content: Object.fromEntries(RECORD_BODY_TYPES.map((type) => [type, { schema: envelopeSchema }])) };

const offsetsResponse = {
  type: 'object',
  properties: {
    offsets: {
      type: 'array',
      items: {
        type: 'object',
        properties: { partition: { type: 'integer' }, offset: { type: 'integer' }, error_code: { type: ['null', 'integer'] }, error: { type: ['null', 'string'] } },
      },
    },
    key_schema_id: { type: 'null' },
    value_schema_id: { type: 'null' },
  },
} as const;

const batchAnswerTypes = [[MediaType.json, 'json'], [MediaType.msgpack, 'msgpack'], [MediaType.xMsgpack, 'msgpack']] as const;

export function registerProduceRoutes(app: FastifyInstance, { core, limits }: HttpContext): void {
  /** Refuses an over-long record list before the schema walks it. */
  const checkRecordCount = async (request: FastifyRequest): Promise<void> => {
    const records = (request.body as { records?: unknown } | null | undefined)?.records;
    if (Array.isArray(records) && records.length > limits.maxRecordsPerRequest) {
      throw new MiniKafkaError('REQUEST_TOO_LARGE', `${records.length} records in one request is over ${limitNames.maxRecordsPerRequest} (${limits.maxRecordsPerRequest}); split them`, {
        limit: limitNames.maxRecordsPerRequest, maxRecords: limits.maxRecordsPerRequest, records: records.length,
      });
    }
  };

  const produceRecords = async (topic: string, request: FastifyRequest<{ Body: ProduceBody; Querystring: AcksQuery }>, partition?: number) => {
    const format = recordFormatOf(request.headers['content-type']);
    if (format === undefined || format === 'batch') throw new Error(`unreachable: preParsing admitted ${request.headers['content-type']}`);
    const records = toProduceRecords(request.body.records, format);
    const results = await core.produceRecords(topic, records, { acks: toAcks(request.query.acks), partition });
    throwIfAllFailedAlike(results);
    return {
      offsets: results.map((r) => ({ partition: r.partition, offset: r.offset, error_code: r.error?.restCode ?? null, error: r.error?.message ?? null })),
      key_schema_id: null,
      value_schema_id: null,
    };
  };

  app.post<{ Params: TopicParams; Body: ProduceBody; Querystring: AcksQuery }>(
    '/topics/:topic',
    {
      preParsing: acceptContentTypes(RECORD_BODY_TYPES),
      preValidation: checkRecordCount,
      schema: { params: topicParams, querystring: acksQuery, body: envelopeBody, response: { 200: offsetsResponse } },
    },
    async (request) => produceRecords(request.params.topic, request),
  );

  app.post<{ Params: PartitionParams; Body: ProduceBody | Buffer; Querystring: AcksQuery }>(
    '/topics/:topic/partitions/:partition',
    {
      preParsing: acceptContentTypes([...RECORD_BODY_TYPES, MediaType.recordBatch]),
      preValidation: checkRecordCount,
      schema: { params: partitionParams, querystring: acksQuery, body: envelopeBody },
    },
    async (request, reply) => {
      const { topic, partition } = request.params;
      if (!Buffer.isBuffer(request.body)) {
        return produceRecords(topic, request as FastifyRequest<{ Body: ProduceBody; Querystring: AcksQuery }>, partition);
      }
      const answerAs = negotiate(request.headers.accept, batchAnswerTypes);
      const acks = toAcks(request.query.acks);
      const result = await core.produceBatch(topic, partition, request.body, acks);
      return sendAs(reply, answerAs, {
        partition: result.partition,
        // acks=0: the offset is not reported, as Kafka's producers report -1 (same as the JSON path).
        base_offset: acks === 0 ? -1 : result.baseOffset,
        log_append_time: result.logAppendTimeMs,
        log_start_offset: result.logStartOffset,
        duplicate: result.isDuplicate,
      });
    },
  );
}

function throwIfAllFailedAlike(results: ReadonlyArray<RecordOffset>): void {
  const first = results[0]?.error;
  if (first === undefined || first === null) return;
  if (results.every((r) => r.error !== null && r.error.code === first.code)) throw first;
}
