/**
 * Consumer-group administration, what `kafka-consumer-groups` does (kafka-facts §7):
 *
 *   GET    /groups[?state=Stable…]        → [{ group_id, protocol_type, state }]
 *   GET    /groups/:group                 → state, members, and per partition committed offset,
 *                                           log end offset, lag and owner; total_lag
 *   DELETE /groups/:group                 → 204 (NON_EMPTY_GROUP while it has members)
 *   POST   /groups/:group/offsets/reset   → { executed, plan: [{ topic, partition, current_offset, new_offset }] }
 *
 * The describe answer carries every column of `kafka-consumer-groups --describe` (GROUP TOPIC
 * PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID): where Kafka prints "-"
 * (no commit yet, no owner) the field is null. A group that has only committed offsets (no
 * member ever joined) is a known group. Lag is computed by core.groups (docs/consumer-groups.md,
 * "How lag is computed").
 *
 * An offset reset follows Kafka's tool: a dry run unless `execute` is true, and refused with
 * NON_EMPTY_GROUP while the group has live members (their next commit would undo it). Targets are
 * clamped into [log start offset, log end offset], as Kafka clamps them.
 *
 * These are control routes: JSON bodies, JSON answers. The routes a consumer itself uses (join,
 * sync, heartbeat, commit) are in group-members.ts.
 */

import type { FastifyInstance } from 'fastify';
import { MiniKafkaError } from '../../../common/errors.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment } from '../../groups/consumer-protocol.ts';
import type { TopicPartitions } from '../../groups/consumer-protocol.ts';
import type { GroupWithLag, ResetStrategy } from '../../groups/group-service.ts';
import { GroupState } from '../../groups/group.ts';
import { JSON_BODY_TYPES, acceptContentTypes } from '../content-types.ts';
import type { GroupParams, ListGroupsQuery, ResetOffsetsBody } from '../group-schemas.ts';
import { checkGroupId, groupParams, listGroupsQuery, resetOffsetsBody } from '../group-schemas.ts';
import type { HttpContext } from '../http-context.ts';

/** The same shape as the offsets route's ?timestamp= (offsets.ts): a date, optionally a time and zone. */
const isoDatePattern = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function registerGroupRoutes(app: FastifyInstance, { core }: HttpContext): void {
  app.get<{ Querystring: ListGroupsQuery }>('/groups', { schema: { querystring: listGroupsQuery } }, async (request) => {
    const states = request.query.state?.map(parseState);
    return core.groups.coordinator.listGroups(states).map((g) => ({ group_id: g.groupId, protocol_type: g.protocolType, state: g.state }));
  });

  app.get<{ Params: GroupParams }>('/groups/:group', { preHandler: checkGroupId, schema: { params: groupParams } }, async (request) => {
    return describeGroup(request.params.group, core.groups.describeWithLag(request.params.group));
  });

  app.delete<{ Params: GroupParams }>('/groups/:group', { preHandler: checkGroupId, schema: { params: groupParams } }, async (request, reply) => {
    await core.groups.deleteGroup(request.params.group);
    return reply.code(204).send();
  });

  app.post<{ Params: GroupParams; Body: ResetOffsetsBody }>(
    '/groups/:group/offsets/reset',
    { preParsing: acceptContentTypes(JSON_BODY_TYPES), preHandler: checkGroupId, schema: { params: groupParams, body: resetOffsetsBody } },
    async (request) => {
      const { group } = request.params;
      const body = request.body;
      const strategy = parseResetTarget(body.to);
      const targets = resetTargets(body, () => core.groups.fetchOffsets(group));
      const execute = body.execute === true;
      const plan = await core.groups.resetOffsets(group, targets, strategy, execute);
      return {
        executed: execute,
        plan: plan.map((row) => ({ topic: row.topic, partition: row.partition, current_offset: row.currentOffset, new_offset: row.newOffset })),
      };
    },
  );
}

const groupStates = Object.values(GroupState);

/** Kafka's tool takes state names in any case (`--state stable`). */
function parseState(text: string): GroupState {
  const state = groupStates.find((s) => s.toLowerCase() === text.toLowerCase());
  if (state === undefined) throw new MiniKafkaError('INVALID_REQUEST', `state ${JSON.stringify(text)} is not a group state; use one of ${groupStates.join(', ')}`, { state: text, states: groupStates });
  return state;
}

function describeGroup(groupId: string, { description, partitions, totalLag }: GroupWithLag) {
  const protocolType = description?.protocolType ?? '';
  return {
    group_id: groupId,
    // A group the coordinator does not know but whose offsets are stored has no members: Empty.
    state: description?.state ?? GroupState.Empty,
    protocol_type: protocolType,
    protocol: description?.protocolName ?? '',
    generation_id: description?.generationId ?? 0,
    leader_id: description?.leaderId ?? null,
    members: (description?.members ?? []).map((member) => ({
      member_id: member.memberId,
      group_instance_id: member.groupInstanceId,
      client_id: member.clientId,
      host: member.clientHost,
      assignment: describeAssignment(protocolType, member.assignment),
    })),
    partitions: partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      current_offset: p.committedOffset,
      log_end_offset: p.logEndOffset,
      lag: p.lag,
      consumer_id: p.memberId,
      host: p.host,
      client_id: p.clientId,
      metadata: p.metadata,
    })),
    total_lag: totalLag,
  };
}

/** Consumer groups: the decoded partitions. Other protocol types (Connect's) carry their own bytes: base64. */
function describeAssignment(protocolType: string, bytes: Buffer): TopicPartitions[] | string {
  if (protocolType !== CONSUMER_PROTOCOL_TYPE) return bytes.toString('base64');
  try {
    return decodeAssignment(bytes).assignedPartitions.map(({ topic, partitions }) => ({ topic, partitions: [...partitions] }));
  } catch {
    // A leader may hand out bytes of its own making; show them rather than fail the describe.
    return bytes.toString('base64');
  }
}

/**
 * `to`: "earliest" | "latest" | { offset } | { timestamp } | { datetime } | { shift_by }, the
 * choices of `kafka-consumer-groups --reset-offsets` (--to-earliest, --to-latest, --to-offset,
 * --to-datetime, --shift-by; a timestamp in ms is --to-datetime without the formatting).
 */
function parseResetTarget(to: ResetOffsetsBody['to']): ResetStrategy {
  if (to === 'earliest' || to === 'latest') return { kind: to };
  const invalid = (problem: string): MiniKafkaError =>
    new MiniKafkaError('INVALID_REQUEST', `"to" ${problem}; it is "earliest", "latest", { "offset": N }, { "timestamp": ms }, { "datetime": "ISO 8601" } or { "shift_by": N }`, { field: 'to' });
  if (typeof to === 'string') throw invalid(`is ${JSON.stringify(String(to).slice(0, 40))}`);
  const keys = Object.keys(to);
  if (keys.length !== 1) throw invalid(`has ${keys.length === 0 ? 'no field' : `the fields ${keys.slice(0, 6).join(', ')}`} where it needs exactly one`);
  const value = to[keys[0]];
  switch (keys[0]) {
    case 'offset':
      if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(`offset ${JSON.stringify(value)} is not a non-negative integer`);
      return { kind: 'offset', offset: value as number };
    case 'timestamp':
      if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(`timestamp ${JSON.stringify(value)} is not milliseconds since the epoch`);
      return { kind: 'timestamp', timestampMs: value as number };
    case 'datetime': {
      const timestampMs = typeof value === 'string' && isoDatePattern.test(value) ? Date.parse(value) : Number.NaN;
      if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw invalid(`datetime ${JSON.stringify(value)} is not an ISO-8601 date such as 2026-01-31T12:00:00Z`);
      return { kind: 'timestamp', timestampMs };
    }
    case 'shift_by':
      if (!Number.isSafeInteger(value)) throw invalid(`shift_by ${JSON.stringify(value)} is not an integer`);
      return { kind: 'shift', by: value as number };
    default:
      throw invalid(`has an unknown field ${JSON.stringify(keys[0].slice(0, 40))}`);
  }
}

/** The partitions to reset: those listed (each once, in order), or with all_topics every topic the group has committed offsets for. */
function resetTargets(body: ResetOffsetsBody, committed: () => ReadonlyArray<{ topic: string }>): Array<{ topic: string; partitions?: number[] }> {
  if ((body.topics === undefined) === (body.all_topics !== true)) {
    throw new MiniKafkaError('INVALID_REQUEST', 'name the partitions to reset with either "topics" or "all_topics": true (one of them)', {});
  }
  if (body.topics === undefined) return [...new Set(committed().map((c) => c.topic))].map((topic) => ({ topic }));
  const byTopic = new Map<string, Set<number> | 'all'>();
  for (const entry of body.topics) {
    const { topic, partitions } = typeof entry === 'string' ? { topic: entry, partitions: undefined } : entry;
    const known = byTopic.get(topic);
    if (partitions === undefined || known === 'all') byTopic.set(topic, 'all');
    else byTopic.set(topic, new Set([...(known ?? []), ...partitions]));
  }
  return [...byTopic].map(([topic, partitions]) => (partitions === 'all' ? { topic } : { topic, partitions: [...partitions].sort((a, b) => a - b) }));
}
