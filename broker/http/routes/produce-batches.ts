/**
 * Produce many partitions' raw record batches in one request: the SDK producer's path, Kafka's
 * Produce request in HTTP clothes (one request carries one batch for each of many partitions,
 * kafka-facts §6.2), so a producer pays one HTTP round trip per drain instead of one per batch.
 *
 *   POST /produce?acks=0|1|-1|all      Content-Type: application/vnd.minikafka.produce-batches
 *
 * Body grammar (all integers big-endian; the client's encoder is client/producer/produce-request.ts):
 *
 *   ProduceBatches => entryCount:int32 Entry × entryCount
 *   Entry          => topicLength:int16 topic:UTF-8[topicLength] partition:int32 batchLength:int32 batch:bytes[batchLength]
 *
 * `batch` is one RecordBatch v2 exactly as for `POST /topics/:topic/partitions/:partition` with a
 * raw batch: a view of the request body (no copy) is handed to core.produceBatch, which checks it
 * whole, writes its offsets into it and appends it. The framing is checked completely before
 * anything is appended: a frame that overruns the body, or bytes after the last entry, fail the
 * request with INVALID_REQUEST and nothing is written.
 *
 * Entries of the same partition are appended one after the other in request order; different
 * partitions proceed concurrently (as the JSON produce path does). Answer, one result per entry
 * in request order (JSON, or msgpack when Accept asks for it):
 *
 *   { "results": [{ "topic", "partition", "base_offset", "log_append_time", "log_start_offset", "duplicate", "error" }] }
 *
 * `error` is null, or the one error body (error_code, message, code, retriable, details) of that
 * entry's failure, whose offsets are then -1; a failure on one partition does not fail the
 * others. As on the other produce routes, when every entry failed with the same error the request
 * fails with it (its status and error body), so a produce that wrote nothing is never a 200.
 * acks as on the other produce routes; acks=0 hides offsets (-1).
 */

import type { FastifyInstance } from 'fastify';
import { MiniKafkaError, isMiniKafkaError } from '../../../common/errors.ts';
import { PRODUCE_BATCHES_MEDIA_TYPE, parseProduceBatches } from '../../../common/produce-batches.ts';
import type { ProduceResult } from '../../core/broker-core.ts';
import { MediaType, acceptContentTypes, negotiate, sendAs } from '../content-types.ts';
import { errorBody } from '../error-handler.ts';
import type { ErrorBody } from '../error-handler.ts';
import type { HttpContext } from '../http-context.ts';
import { acksQuery, toAcks } from '../schemas.ts';

interface EntryResult {
  topic: string;
  partition: number;
  base_offset: number;
  log_append_time: number;
  log_start_offset: number;
  duplicate: boolean;
  error: ErrorBody | null;
}

const answerTypes = [[MediaType.json, 'json'], [MediaType.msgpack, 'msgpack'], [MediaType.xMsgpack, 'msgpack']] as const;

export function registerProduceBatchesRoutes(app: FastifyInstance, { core }: HttpContext): void {
  app.addContentTypeParser(PRODUCE_BATCHES_MEDIA_TYPE, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post<{ Body: Buffer; Querystring: { acks?: string } }>(
    '/produce',
    { preParsing: acceptContentTypes([PRODUCE_BATCHES_MEDIA_TYPE]), schema: { querystring: acksQuery } },
    async (request, reply) => {
      const answerAs = negotiate(request.headers.accept, answerTypes);
      if (!Buffer.isBuffer(request.body)) throw new MiniKafkaError('INVALID_REQUEST', `POST /produce needs a body of type ${PRODUCE_BATCHES_MEDIA_TYPE}`, {});
      const entries = parseProduceBatches(request.body);
      const acks = toAcks(request.query.acks);
      const results: EntryResult[] = new Array(entries.length);
      const errors: Array<MiniKafkaError | null> = new Array(entries.length).fill(null);

      // Same partition: one after the other, in request order. Different partitions: together.
      const chains = new Map<string, number[]>();
      entries.forEach((entry, index) => {
        const key = `${entry.partition}:${entry.topic}`;
        const chain = chains.get(key);
        if (chain === undefined) chains.set(key, [index]);
        else chain.push(index);
      });
      await Promise.all([...chains.values()].map(async (indexes) => {
        for (const index of indexes) {
          const { topic, partition, batch } = entries[index];
          try {
            results[index] = succeeded(topic, await core.produceBatch(topic, partition, batch, acks), acks);
          } catch (error) {
            if (!isMiniKafkaError(error)) throw error;
            errors[index] = error;
            results[index] = failed(topic, partition, error);
          }
        }
      }));

      throwIfAllFailedAlike(errors);
      return sendAs(reply, answerAs, { results });
    },
  );
}

function succeeded(topic: string, result: ProduceResult, acks: number): EntryResult {
  return {
    topic,
    partition: result.partition,
    // acks=0: offsets are not reported, as on the other produce routes.
    base_offset: acks === 0 ? -1 : result.baseOffset,
    log_append_time: result.logAppendTimeMs,
    log_start_offset: result.logStartOffset,
    duplicate: result.isDuplicate,
    error: null,
  };
}

function failed(topic: string, partition: number, error: MiniKafkaError): EntryResult {
  return { topic, partition, base_offset: -1, log_append_time: -1, log_start_offset: -1, duplicate: false, error: errorBody(error) };
}

/** Every entry failed with the same code: the request fails with the first entry's error. */
function throwIfAllFailedAlike(errors: ReadonlyArray<MiniKafkaError | null>): void {
  const first = errors[0];
  if (first === null || !errors.every((error) => error !== null && error.code === first.code)) return;
  throw first;
}
