/**
 * Kafka's ListOffsets for one partition, in REST Proxy v2's shape:
 *
 *   GET /topics/:topic/partitions/:partition/offsets              → { "beginning_offset", "end_offset" }
 *   GET /topics/:topic/partitions/:partition/offsets?timestamp=T  → { "offset", "timestamp" }
 *
 * beginning_offset is the log start offset, end_offset the high watermark (the offset the next
 * record gets). T is milliseconds since the epoch or an ISO-8601 date; the answer is the first
 * record whose timestamp is ≥ T, or offset -1 and timestamp -1 when there is none, as Kafka
 * answers. Kafka's special timestamps work too: -1 gives the end offset, -2 the beginning offset
 * (each with timestamp -1).
 */

import type { FastifyInstance } from 'fastify';
import { MiniKafkaError } from '../../../common/errors.ts';
import type { HttpContext } from '../http-context.ts';
import type { PartitionParams } from '../schemas.ts';
import { partitionParams } from '../schemas.ts';

const LATEST_TIMESTAMP = -1;
const EARLIEST_TIMESTAMP = -2;
const isoDatePattern = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

const offsetsQuery = {
  type: 'object',
  properties: { timestamp: { type: 'string', maxLength: 64 } },
} as const;

export function registerOffsetRoutes(app: FastifyInstance, { core }: HttpContext): void {
  app.get<{ Params: PartitionParams; Querystring: { timestamp?: string } }>(
    '/topics/:topic/partitions/:partition/offsets',
    { schema: { params: partitionParams, querystring: offsetsQuery } },
    async (request) => {
      const { topic, partition } = request.params;
      const offsets = core.offsets(topic, partition);
      if (request.query.timestamp === undefined) return { beginning_offset: offsets.logStartOffset, end_offset: offsets.highWatermark };
      const timestampMs = parseTimestamp(request.query.timestamp);
      if (timestampMs === LATEST_TIMESTAMP) return { offset: offsets.highWatermark, timestamp: -1 };
      if (timestampMs === EARLIEST_TIMESTAMP) return { offset: offsets.logStartOffset, timestamp: -1 };
      return core.offsetForTimestamp(topic, partition, timestampMs) ?? { offset: -1, timestamp: -1 };
    },
  );
}

function parseTimestamp(text: string): number {
  const value = /^-?\d{1,16}$/.test(text) ? Number(text) : isoDatePattern.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || (value < 0 && value !== LATEST_TIMESTAMP && value !== EARLIEST_TIMESTAMP)) {
    throw new MiniKafkaError('INVALID_REQUEST', `timestamp ${JSON.stringify(text)} is neither milliseconds since the epoch, -1 (latest), -2 (earliest), nor an ISO-8601 date`, { timestamp: text });
  }
  return value;
}
