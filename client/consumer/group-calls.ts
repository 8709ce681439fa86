/**
 * The consumer's calls to the broker's group routes (docs/http-api.md, "Consumer groups"), one
 * method per Kafka API, typed, with the JSON field names translated at this edge and nowhere
 * else:
 *
 *   join       POST   /groups/{group}/members                    JoinGroup (a long poll)
 *   sync       POST   /groups/{group}/members/{member}/sync       SyncGroup (a long poll for followers)
 *   heartbeat  POST   /groups/{group}/members/{member}/heartbeat  Heartbeat
 *   leave      DELETE /groups/{group}/members/{member}            LeaveGroup
 *   commit     POST   /groups/{group}/offsets                    OffsetCommit
 *   committed  GET    /groups/{group}/offsets?topic=&partition=  OffsetFetch
 *   offsets    GET    /topics/{topic}/partitions/{p}/offsets     ListOffsets (earliest, latest, by time)
 *
 * The join uses the route's convenience form (topics and assignor names; the broker builds the
 * Subscription bytes) and the leader's sync asks for server-side assignment, so the SDK carries
 * no assignor and no consumer-protocol codec. No retries here: the caller knows which errors mean
 * "rejoin" and which mean "try again" (group-membership.ts).
 */

import { MiniKafkaClientError } from '../errors.ts';
import { topicPath } from '../metadata.ts';
import type { Transport } from '../transport.ts';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

export interface JoinRequest {
  /** '' for a new member. */
  readonly memberId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly topics: ReadonlyArray<string>;
  readonly assignors: ReadonlyArray<string>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface JoinAnswer {
  readonly memberId: string;
  readonly generationId: number;
  /** The assignor the members voted for. */
  readonly protocolName: string;
  readonly leaderId: string;
  /** The leader's answer lists every member; the others' none. */
  readonly memberIds: ReadonlyArray<string>;
}

export interface Assignment {
  readonly topic: string;
  readonly partitions: ReadonlyArray<number>;
}

interface JoinBody {
  member_id: string;
  generation_id: number;
  protocol_name: string | null;
  leader_id: string;
  members: Array<{ member_id: string }>;
}

interface CommitBody {
  offsets: Array<{ topic: string; partition: number; error_code: number | null; error: string | null }>;
}

export class GroupCalls {
  readonly #transport: Transport;
  readonly #groupPath: string;
  readonly #groupId: string;

  constructor(transport: Transport, groupId: string) {
    this.#transport = transport;
    this.#groupId = groupId;
    this.#groupPath = `/groups/${encodeURIComponent(groupId)}`;
  }

  /**
   * JoinGroup with `require_known_member_id`: a new member is first answered MEMBER_ID_REQUIRED
   * with its id (KIP-394), so a join lost in flight is replaced by the next one with the same id
   * rather than leaving a ghost member behind (docs/consumer-groups.md, "Consumer groups over HTTP").
   */
  async join(request: JoinRequest): Promise<JoinAnswer> {
    const body = await this.#transport.requestJson<JoinBody>({
      method: 'POST',
      path: `${this.#groupPath}/members`,
      contentType: 'application/json',
      body: JSON.stringify({
        member_id: request.memberId,
        session_timeout_ms: request.sessionTimeoutMs,
        rebalance_timeout_ms: request.rebalanceTimeoutMs,
        topics: request.topics,
        assignors: request.assignors,
        require_known_member_id: true,
      }),
      timeoutMs: request.timeoutMs,
      signal: request.signal,
    });
    return {
      memberId: body.member_id,
      generationId: body.generation_id,
      protocolName: body.protocol_name ?? '',
      leaderId: body.leader_id,
      memberIds: body.members.map((m) => m.member_id),
    };
  }

  /** SyncGroup; the leader passes the voted assignor as `serverAssignor` and the broker assigns. */
  async sync(request: { memberId: string; generationId: number; serverAssignor: string | null; timeoutMs: number; signal?: AbortSignal }): Promise<Assignment[]> {
    const body = await this.#transport.requestJson<{ assigned: Assignment[] | null }>({
      method: 'POST',
      path: this.#memberPath(request.memberId, '/sync'),
      contentType: 'application/json',
      body: JSON.stringify(request.serverAssignor === null
        ? { generation_id: request.generationId }
        : { generation_id: request.generationId, server_assignment: request.serverAssignor }),
      timeoutMs: request.timeoutMs,
      signal: request.signal,
    });
    // A consumer group's bytes always decode (the broker checks a leader's assignment); null would be another protocol type.
    if (body.assigned === null) {
      throw new MiniKafkaClientError('UNEXPECTED_RESPONSE', `group ${this.#groupId}: SyncGroup answered an assignment that is not the consumer protocol's; is another kind of client in this group?`, {
        retriable: false, details: { groupId: this.#groupId },
      });
    }
    return body.assigned;
  }

  async heartbeat(memberId: string, generationId: number, timeoutMs: number): Promise<void> {
    await this.#transport.request({
      method: 'POST', path: this.#memberPath(memberId, '/heartbeat'), contentType: 'application/json', body: JSON.stringify({ generation_id: generationId }), timeoutMs,
    });
  }

  async leave(memberId: string, timeoutMs: number): Promise<void> {
    await this.#transport.request({ method: 'DELETE', path: this.#memberPath(memberId, ''), timeoutMs });
  }

  /**
   * OffsetCommit. Fencing errors (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS)
   * fail the whole request and are thrown; a partition the broker refused alone is thrown too,
   * as the first such error, after the others were stored.
   */
  async commit(memberId: string, generationId: number, offsets: ReadonlyArray<TopicPartitionOffset>, timeoutMs: number): Promise<void> {
    const body = await this.#transport.requestJson<CommitBody>({
      method: 'POST',
      path: `${this.#groupPath}/offsets`,
      contentType: 'application/json',
      body: JSON.stringify({ generation_id: generationId, member_id: memberId, offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })) }),
      timeoutMs,
    });
    const failed = body.offsets.find((o) => o.error_code !== null);
    if (failed !== undefined) {
      throw new MiniKafkaClientError('UNKNOWN_TOPIC_OR_PARTITION', `group ${this.#groupId}: the commit of ${failed.topic}-${failed.partition} was refused: ${failed.error}`, {
        retriable: false, errorCode: failed.error_code, details: { groupId: this.#groupId, topic: failed.topic, partition: failed.partition },
      });
    }
  }

  /** OffsetFetch: the committed offset of each partition, -1 where the group has none. */
  async committed(partitions: ReadonlyArray<TopicPartition>, timeoutMs: number): Promise<Map<string, number>> {
    const query = partitions.map((p) => `topic=${encodeURIComponent(p.topic)}&partition=${p.partition}`).join('&');
    const body = await this.#transport.requestJson<{ offsets: TopicPartitionOffset[] }>({ method: 'GET', path: `${this.#groupPath}/offsets?${query}`, timeoutMs });
    const committed = new Map<string, number>();
    for (const o of body.offsets) committed.set(partitionKey(o.topic, o.partition), o.offset);
    return committed;
  }

  /** ListOffsets: the log start offset and the high watermark. */
  async logOffsets(topic: string, partition: number, timeoutMs: number): Promise<{ logStartOffset: number; highWatermark: number }> {
    const body = await this.#transport.requestJson<{ beginning_offset: number; end_offset: number }>({ method: 'GET', path: `${topicPath(topic)}/partitions/${partition}/offsets`, timeoutMs });
    return { logStartOffset: body.beginning_offset, highWatermark: body.end_offset };
  }

  /** ListOffsets by time: the first offset whose record timestamp is ≥ `timestampMs`, or -1 when none is. */
  async offsetForTimestamp(topic: string, partition: number, timestampMs: number, timeoutMs: number): Promise<number> {
    const body = await this.#transport.requestJson<{ offset: number }>({ method: 'GET', path: `${topicPath(topic)}/partitions/${partition}/offsets?timestamp=${timestampMs}`, timeoutMs });
    return body.offset;
  }

  #memberPath(memberId: string, suffix: string): string {
    return `${this.#groupPath}/members/${encodeURIComponent(memberId)}${suffix}`;
  }
}

/** One string per partition, for maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
