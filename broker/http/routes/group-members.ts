/**
 * Group membership and commits for consumers over HTTP: Kafka's classic group protocol
 * (kafka-facts §7.1, docs/consumer-groups.md) one request per call.
 *
 *   POST   /groups/:group/members                    JoinGroup  → { member_id, generation_id, protocol_type, protocol_name, leader_id, members }
 *   POST   /groups/:group/members/:member/sync       SyncGroup  → { protocol_type, protocol_name, assignment, assigned }
 *   POST   /groups/:group/members/:member/heartbeat  Heartbeat  → 204
 *   DELETE /groups/:group/members/:member            LeaveGroup → 204
 *   POST   /groups/:group/offsets                    OffsetCommit → { offsets: [{ topic, partition, error_code, error }] }
 *   GET    /groups/:group/offsets?topic=&partition=  OffsetFetch  → { offsets: [{ topic, partition, offset, metadata }] }
 *
 * Bodies are JSON or msgpack, answers JSON or msgpack by Accept; bytes are base64 in JSON and bin
 * in msgpack (group-schemas.ts). A JoinGroup may also name `topics` and `assignors` instead of
 * ready-made `protocols`: the route then encodes one consumer Subscription v0 per assignor, so a
 * client in any language can join without the consumer protocol's bytes, and SyncGroup's
 * `server_assignment` lets its leader have the broker assign.
 *
 * Long polls. JoinGroup waits for the whole rebalance (up to the rebalance timeout, longer for a
 * new group's initial delay) and a follower's SyncGroup for the leader's assignment: the broker
 * sets no timeout on either (fastify's connectionTimeout and requestTimeout are 0), so the
 * client's own timeout must be above the rebalance timeout. Such a call ends when the coordinator
 * answers, when the server closes (BROKER_SHUTTING_DOWN, retriable), or when the client
 * disconnects. A disconnect does not touch the group: the member is treated exactly as Kafka
 * treats one whose JoinGroup connection died. The coordinator has no idea the connection went; the
 * member counts as joined, gets into the next generation, and is dropped when it sends no
 * SyncGroup within the rebalance timeout or no heartbeat within its session timeout, and the
 * group rebalances without it (a new member still parked is dropped after the new-member join
 * timeout). A client that rejoins with the same member id first replaces its lost call — which is
 * why clients should use `require_known_member_id`, so they know their id before the long wait.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MiniKafkaError, isMiniKafkaError } from '../../../common/errors.ts';
import { findAssignor } from '../../groups/assignors/assignor-registry.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, encodeSubscription } from '../../groups/consumer-protocol.ts';
import type { TopicPartitions } from '../../groups/consumer-protocol.ts';
import type { TopicPartitionOffset } from '../../groups/group-offsets.ts';
import { OFFSET_METADATA_MAX_BYTES } from '../../groups/group-offsets.ts';
import type { GroupProtocol, JoinGroupRequest, JoinGroupResult, ListedGroup, SyncGroupResult } from '../../groups/group-requests.ts';
import { GroupState } from '../../groups/group.ts';
import { acceptContentTypes, negotiate, sendAs } from '../content-types.ts';
import type { CommitOffsetsBody, FetchOffsetsQuery, GroupParams, HeartbeatBody, JoinGroupBody, MemberParams, SyncGroupBody } from '../group-schemas.ts';
import {
  GROUP_BODY_TYPES,
  bytesFrom,
  bytesTo,
  checkGroupId,
  commitOffsetsBody,
  fetchOffsetsQuery,
  groupAnswerTypes,
  groupParams,
  heartbeatBody,
  joinGroupBody,
  memberParams,
  syncGroupBody,
} from '../group-schemas.ts';
import type { HttpContext } from '../http-context.ts';
import { LongPolls } from '../long-polls.ts';

/** The assignor a topics-form JoinGroup offers when it names none: the first of the Java client's default list. */
const DEFAULT_ASSIGNORS = ['range'];

export function registerGroupMemberRoutes(app: FastifyInstance, { core }: HttpContext): void {
  // Parked joins and syncs, apart from the fetch long polls (whose count is the fetch purgatory
  // metric), ended the same way when the server closes.
  const parked = new LongPolls();
  app.addHook('preClose', async () => parked.abortAll());
  const groupBodies = acceptContentTypes(GROUP_BODY_TYPES);

  app.post<{ Params: GroupParams; Body: JoinGroupBody }>(
    '/groups/:group/members',
    { preParsing: groupBodies, preHandler: checkGroupId, schema: { params: groupParams, body: joinGroupBody } },
    async (request, reply) => {
      const format = negotiate(request.headers.accept, groupAnswerTypes);
      const join = toJoinGroupRequest(request.params.group, request.body, request);
      const result = await whileConnected(parked, request, reply, core.groups.coordinator.joinGroup(join));
      if (result === undefined) return;
      return sendAs(reply, format, joinAnswer(result, format));
    },
  );

  app.post<{ Params: MemberParams; Body: SyncGroupBody }>(
    '/groups/:group/members/:member/sync',
    { preParsing: groupBodies, preHandler: checkGroupId, schema: { params: memberParams, body: syncGroupBody } },
    async (request, reply) => {
      const format = negotiate(request.headers.accept, groupAnswerTypes);
      const { group, member } = request.params;
      const body = request.body;
      const serverAssignor = body.server_assignment;
      if (serverAssignor !== undefined) {
        if (body.assignments !== undefined) throw new MiniKafkaError('INVALID_REQUEST', 'send either "assignments" or "server_assignment", not both', {});
        findAssignor(serverAssignor); // INVALID_REQUEST naming the assignors the broker has
      }
      const listed = listedGroup(core, group);
      const protocolType = listed?.protocolType ?? null;
      const sync = {
        groupId: group,
        memberId: member,
        generationId: body.generation_id,
        groupInstanceId: body.group_instance_id ?? null,
        protocolType: body.protocol_type ?? null,
        protocolName: body.protocol_name ?? null,
        assignments: (body.assignments ?? []).map((entry, i) => ({ memberId: entry.member_id, assignment: checkedAssignment(protocolType, entry.assignment, `assignments[${i}].assignment`) })),
      };
      // The broker assigns only for a group waiting for its assignment; otherwise the coordinator's
      // own answer is the right one (Stable: the member's assignment; else REBALANCE_IN_PROGRESS
      // or UNKNOWN_MEMBER_ID), as it would be for a SyncGroup without server_assignment.
      const shouldAssign = serverAssignor !== undefined && listed?.state === GroupState.CompletingRebalance;
      const result = await whileConnected(parked, request, reply, core.groups.syncGroup(sync, shouldAssign ? serverAssignor : undefined));
      if (result === undefined) return;
      return sendAs(reply, format, syncAnswer(result, format));
    },
  );

  app.post<{ Params: MemberParams; Body: HeartbeatBody }>(
    '/groups/:group/members/:member/heartbeat',
    { preParsing: groupBodies, preHandler: checkGroupId, schema: { params: memberParams, body: heartbeatBody } },
    async (request, reply) => {
      const { group, member } = request.params;
      core.groups.coordinator.heartbeat({ groupId: group, memberId: member, generationId: request.body.generation_id, groupInstanceId: request.body.group_instance_id ?? null });
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: MemberParams }>('/groups/:group/members/:member', { preHandler: checkGroupId, schema: { params: memberParams } }, async (request, reply) => {
    core.groups.coordinator.leaveGroup({ groupId: request.params.group, memberId: request.params.member });
    return reply.code(204).send();
  });

  app.post<{ Params: GroupParams; Body: CommitOffsetsBody }>(
    '/groups/:group/offsets',
    { preParsing: groupBodies, preHandler: checkGroupId, schema: { params: groupParams, body: commitOffsetsBody } },
    async (request, reply) => {
      const format = negotiate(request.headers.accept, groupAnswerTypes);
      const { group } = request.params;
      const body = request.body;
      const checked = body.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? '', error: partitionError(core, group, o) }));
      const failed = checked.filter((o) => o.error !== null);
      // As on the produce routes: a request in which every partition failed the same way fails as a whole.
      if (failed.length > 0 && failed.length === checked.length && failed.every((o) => o.error!.code === failed[0].error!.code)) throw failed[0].error!;
      const valid: TopicPartitionOffset[] = checked.filter((o) => o.error === null).map(({ topic, partition, offset, metadata }) => ({ topic, partition, offset, metadata }));
      // Fencing (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS) fails the whole request.
      if (valid.length > 0 || failed.length === 0) await core.groups.commitOffsets(group, body.generation_id ?? -1, body.member_id ?? '', valid);
      return sendAs(reply, format, {
        offsets: checked.map(({ topic, partition, error }) => ({ topic, partition, error_code: error?.restCode ?? null, error: error?.message ?? null })),
      });
    },
  );

  app.get<{ Params: GroupParams; Querystring: FetchOffsetsQuery }>(
    '/groups/:group/offsets',
    { preHandler: checkGroupId, schema: { params: groupParams, querystring: fetchOffsetsQuery } },
    async (request, reply) => {
      const format = negotiate(request.headers.accept, groupAnswerTypes);
      const partitions = requestedPartitions(core, request.query);
      const offsets = core.groups.fetchOffsets(request.params.group, partitions);
      return sendAs(reply, format, { offsets: offsets.map(({ topic, partition, offset, metadata }) => ({ topic, partition, offset, metadata })) });
    },
  );
}

/**
 * Waits for a parked coordinator call while the client is there. Resolves with the call's result,
 * or undefined when the client went away (nothing to answer; the group goes on as the file header
 * says); rejects with the call's error, or BROKER_SHUTTING_DOWN when the server closes.
 */
async function whileConnected<T>(parked: LongPolls, request: FastifyRequest, reply: FastifyReply, call: Promise<T>): Promise<T | undefined> {
  const poll = parked.begin(reply);
  const ended = new Promise<undefined>((resolve, reject) => {
    const onAbort = (): void => {
      if (request.socket.destroyed) resolve(undefined);
      else reject(new MiniKafkaError('BROKER_SHUTTING_DOWN', 'the broker is shutting down and did not answer this call; send it again once the broker is back', {}));
    };
    if (poll.signal.aborted) onAbort();
    else poll.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call, ended]);
  } finally {
    poll.end();
  }
}

/** Kafka shows a member's host as Java's InetAddress prints it: "/127.0.0.1". */
function clientHostOf(request: FastifyRequest): string {
  return `/${request.socket.remoteAddress ?? 'unknown'}`;
}

function toJoinGroupRequest(groupId: string, body: JoinGroupBody, request: FastifyRequest): JoinGroupRequest {
  const clientIdHeader = request.headers['x-client-id'];
  return {
    groupId,
    memberId: body.member_id ?? '',
    groupInstanceId: body.group_instance_id ?? null,
    // The SDK sends its client.id as x-client-id on every request.
    clientId: body.client_id ?? (typeof clientIdHeader === 'string' ? clientIdHeader : ''),
    clientHost: clientHostOf(request),
    sessionTimeoutMs: body.session_timeout_ms,
    // JoinGroup v0 had no rebalance timeout and used the session timeout for both.
    rebalanceTimeoutMs: body.rebalance_timeout_ms ?? body.session_timeout_ms,
    protocolType: body.protocol_type ?? CONSUMER_PROTOCOL_TYPE,
    protocols: joinProtocols(body),
    requireKnownMemberId: body.require_known_member_id === true,
  };
}

/** `protocols` as sent, or from `topics` and `assignors` one consumer Subscription v0 per assignor. */
function joinProtocols(body: JoinGroupBody): GroupProtocol[] {
  if (body.protocols !== undefined) {
    if (body.topics !== undefined || body.assignors !== undefined) throw new MiniKafkaError('INVALID_REQUEST', 'send either "protocols" or "topics" (with "assignors"), not both', {});
    return body.protocols.map((p, i) => ({ name: p.name, metadata: bytesFrom(p.metadata, `protocols[${i}].metadata`) }));
  }
  if (body.topics === undefined) throw new MiniKafkaError('INVALID_REQUEST', 'a JoinGroup needs "protocols" ([{ name, metadata }]) or "topics" (with "assignors")', {});
  if ((body.protocol_type ?? CONSUMER_PROTOCOL_TYPE) !== CONSUMER_PROTOCOL_TYPE) {
    throw new MiniKafkaError('INVALID_REQUEST', `"topics" builds consumer subscriptions, so the protocol type must be "consumer", not ${JSON.stringify(body.protocol_type)}`, {});
  }
  const metadata = encodeSubscription({ topics: [...new Set(body.topics)] });
  return [...new Set(body.assignors ?? DEFAULT_ASSIGNORS)].map((name) => ({ name, metadata }));
}

function joinAnswer(result: JoinGroupResult, format: 'json' | 'msgpack') {
  return {
    member_id: result.memberId,
    generation_id: result.generationId,
    protocol_type: result.protocolType,
    protocol_name: result.protocolName,
    leader_id: result.leaderId,
    members: result.members.map((m) => ({ member_id: m.memberId, group_instance_id: m.groupInstanceId, metadata: bytesTo(m.metadata, format) })),
  };
}

function syncAnswer(result: SyncGroupResult, format: 'json' | 'msgpack') {
  let assigned: TopicPartitions[] | null = null;
  if (result.protocolType === CONSUMER_PROTOCOL_TYPE) {
    try {
      assigned = decodeAssignment(result.assignment).assignedPartitions.map(({ topic, partitions }) => ({ topic, partitions: [...partitions] }));
    } catch {
      assigned = null; // bytes a Kafka-protocol leader made up; the member still gets them raw
    }
  }
  return { protocol_type: result.protocolType, protocol_name: result.protocolName, assignment: bytesTo(result.assignment, format), assigned };
}

function listedGroup(core: HttpContext['core'], groupId: string): ListedGroup | undefined {
  return core.groups.coordinator.listGroups().find((g) => g.groupId === groupId);
}

/**
 * A leader's assignment bytes. In a consumer group they must decode as a consumer Assignment:
 * every member, the describe route and server-side stickiness read them, and bytes that do not
 * parse would break all three, so they are refused here rather than handed out.
 */
function checkedAssignment(protocolType: string | null, value: unknown, where: string): Buffer {
  const bytes = bytesFrom(value, where);
  if (protocolType !== CONSUMER_PROTOCOL_TYPE) return bytes;
  try {
    decodeAssignment(bytes);
  } catch (error) {
    throw new MiniKafkaError('INVALID_REQUEST', `${where} is not a consumer protocol Assignment: ${(error as Error).message}`, { field: where }, { cause: error });
  }
  return bytes;
}

/** What is wrong with one partition of a commit, as Kafka answers per partition; null when nothing. */
function partitionError(core: HttpContext['core'], groupId: string, o: CommitOffsetsBody['offsets'][number]): MiniKafkaError | null {
  if (o.metadata != null && Buffer.byteLength(o.metadata) > OFFSET_METADATA_MAX_BYTES) {
    return new MiniKafkaError('INVALID_REQUEST', `group ${groupId}: commit metadata for ${o.topic}-${o.partition} is over offset.metadata.max.bytes (${OFFSET_METADATA_MAX_BYTES} bytes)`, { groupId, topic: o.topic, partition: o.partition });
  }
  try {
    core.topics.partition(o.topic, o.partition);
  } catch (error) {
    if (isMiniKafkaError(error)) return error;
    throw error;
  }
  return null;
}

/**
 * The partitions an OffsetFetch asks about: none (every committed offset of the group); `topic`
 * alone (each listed topic, all its partitions); or `topic` and `partition` repeated in pairs.
 */
function requestedPartitions(core: HttpContext['core'], query: FetchOffsetsQuery): Array<{ topic: string; partition: number }> | undefined {
  const { topic: topics, partition: partitions } = query;
  if (topics === undefined) {
    if (partitions !== undefined) throw new MiniKafkaError('INVALID_REQUEST', '"partition" needs a "topic" for each partition', {});
    return undefined;
  }
  if (partitions === undefined) {
    return topics.flatMap((topic) => Array.from({ length: core.topics.partitionCount(topic) }, (_, partition) => ({ topic, partition })));
  }
  if (partitions.length !== topics.length) {
    throw new MiniKafkaError('INVALID_REQUEST', `"topic" and "partition" go in pairs (topic=a&partition=0&topic=a&partition=1); got ${topics.length} topics and ${partitions.length} partitions`, {
      topics: topics.length, partitions: partitions.length,
    });
  }
  return topics.map((topic, i) => ({ topic, partition: partitions[i] }));
}
