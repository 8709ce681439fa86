/**
 * Topic administration: list, create, describe, delete, alter configs, add partitions, and
 * partition metadata. Shapes follow REST Proxy v2 where it has one (`GET /topics` is a list of
 * names; partitions carry `leader` and `replicas`) and take REST API v3's spellings as well on
 * create (`topic_name`, `partitions_count`, `configs` as `[{ name, value }]`).
 *
 *   GET    /topics                                  → ["orders", …]
 *   POST   /topics                                  → 201 description (200 { validate_only } when only validating)
 *   GET    /topics/:topic                           → description
 *   DELETE /topics/:topic                           → 204
 *   PUT    /topics/:topic/configs                   → description
 *   POST   /topics/:topic/partitions                → description ({ count } is the new total)
 *   GET    /topics/:topic/partitions                → [partition, …]
 *   GET    /topics/:topic/partitions/:partition     → partition
 */

import type { FastifyInstance } from 'fastify';
import { MiniKafkaError } from '../../../common/errors.ts';
import type { TopicDescription } from '../../core/broker-core.ts';
import { BROKER_ID } from '../../core/topic-manager.ts';
import { JSON_BODY_TYPES, acceptContentTypes } from '../content-types.ts';
import type { HttpContext } from '../http-context.ts';
import type { PartitionParams, TopicParams } from '../schemas.ts';
import { partitionParams, topicParams } from '../schemas.ts';

type ConfigValue = string | number | boolean;

interface CreateTopicBody {
  name?: string;
  topic_name?: string;
  partitions?: number;
  partitions_count?: number;
  replication_factor?: number;
  configs?: Record<string, ConfigValue> | Array<{ name: string; value: ConfigValue }>;
  validate_only?: boolean;
}

const configValue = { type: ['string', 'number', 'boolean'] } as const;

const createTopicBody = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    topic_name: { type: 'string' },
    partitions: { type: 'integer' },
    partitions_count: { type: 'integer' },
    replication_factor: { type: 'integer' },
    configs: {
      anyOf: [
        { type: 'object', additionalProperties: configValue },
        { type: 'array', items: { type: 'object', required: ['name', 'value'], properties: { name: { type: 'string' }, value: configValue } } },
      ],
    },
    validate_only: { type: 'boolean' },
  },
} as const;

const alterConfigsBody = {
  type: 'object',
  required: ['configs'],
  properties: { configs: { type: 'object', additionalProperties: { type: ['null', 'string', 'number', 'boolean'] } } },
} as const;

const addPartitionsBody = {
  type: 'object',
  required: ['count'],
  properties: { count: { type: 'integer' } },
} as const;

export function registerTopicRoutes(app: FastifyInstance, { core }: HttpContext): void {
  const jsonOnly = acceptContentTypes(JSON_BODY_TYPES);

  app.get('/topics', async () => core.topics.list());

  app.post<{ Body: CreateTopicBody }>('/topics', { preParsing: jsonOnly, schema: { body: createTopicBody } }, async (request, reply) => {
    const body = request.body;
    const name = pickOne(body.name, body.topic_name, 'name', 'topic_name');
    if (name === undefined) throw new MiniKafkaError('INVALID_REQUEST', 'a topic needs a "name" (or "topic_name")', {});
    const partitions = pickOne(body.partitions, body.partitions_count, 'partitions', 'partitions_count');
    const created = await core.topics.create({
      name,
      // -1 asks for the broker default, as in Kafka's CreateTopics.
      partitions: partitions === -1 ? undefined : partitions,
      replicationFactor: body.replication_factor,
      configs: configsFrom(body.configs),
      validateOnly: body.validate_only === true,
    });
    if (created === null) return reply.code(200).send({ name, validate_only: true });
    return reply.code(201).send(describeTopic(created));
  });

  app.get<{ Params: TopicParams }>('/topics/:topic', { schema: { params: topicParams } }, async (request) => describeTopic(core.topics.describe(request.params.topic)));

  app.delete<{ Params: TopicParams }>('/topics/:topic', { schema: { params: topicParams } }, async (request, reply) => {
    await core.topics.delete(request.params.topic);
    return reply.code(204).send();
  });

  app.put<{ Params: TopicParams; Body: { configs: Record<string, ConfigValue | null> } }>(
    '/topics/:topic/configs',
    { preParsing: jsonOnly, schema: { params: topicParams, body: alterConfigsBody } },
    async (request) => {
      return describeTopic(await core.topics.alterConfigs(request.params.topic, request.body.configs));
    },
  );

  app.post<{ Params: TopicParams; Body: { count: number } }>(
    '/topics/:topic/partitions',
    { preParsing: jsonOnly, schema: { params: topicParams, body: addPartitionsBody } },
    async (request) => describeTopic(await core.topics.addPartitions(request.params.topic, request.body.count)),
  );

  app.get<{ Params: TopicParams }>('/topics/:topic/partitions', { schema: { params: topicParams } }, async (request) => {
    const { topic } = request.params;
    const count = core.topics.partitionCount(topic);
    return Array.from({ length: count }, (_, partition) => describePartition(partition, core.offsets(topic, partition)));
  });

  app.get<{ Params: PartitionParams }>('/topics/:topic/partitions/:partition', { schema: { params: partitionParams } }, async (request) => {
    const { topic, partition } = request.params;
    return describePartition(partition, core.offsets(topic, partition));
  });
}

/** Either spelling of a field, not two different values. */
function pickOne<T>(first: T | undefined, second: T | undefined, firstName: string, secondName: string): T | undefined {
  if (first !== undefined && second !== undefined && first !== second) {
    throw new MiniKafkaError('INVALID_REQUEST', `"${firstName}" and "${secondName}" are the same field and disagree`, { [firstName]: first, [secondName]: second });
  }
  return first ?? second;
}

/** REST v3 lists configs as [{ name, value }]; v2 users write an object. The core checks the values. */
function configsFrom(configs: CreateTopicBody['configs']): Record<string, ConfigValue> {
  if (!Array.isArray(configs)) return configs ?? {};
  return Object.fromEntries(configs.map(({ name, value }) => [name, value]));
}

const replicas = [{ broker: BROKER_ID, leader: true, in_sync: true }];

function describePartition(partition: number, offsets: { logStartOffset: number; highWatermark: number }) {
  return { partition, leader: BROKER_ID, replicas, log_start_offset: offsets.logStartOffset, high_watermark: offsets.highWatermark };
}

export function describeTopic(description: TopicDescription) {
  return {
    name: description.name,
    topic_id: description.topicId,
    is_internal: description.isInternal,
    partitions_count: description.partitions.length,
    partitions: description.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      replicas,
      log_start_offset: p.logStartOffset,
      high_watermark: p.highWatermark,
      recovery_point: p.recoveryPoint,
      size_bytes: p.sizeBytes,
      segments: p.segments.map((s) => ({ base_offset: s.baseOffset, next_offset: s.nextOffset, size_bytes: s.sizeBytes, max_timestamp: s.maxTimestamp })),
    })),
    configs: description.configs.map(({ name, value, source }) => ({ name, value, source })),
  };
}
