/**
 * Consumer groups as the admin client gives them, in the SDK's camelCase: a group as
 * `GET /groups/{group}` describes it (members with their partitions, and per partition what
 * `kafka-consumer-groups --describe` prints: committed offset, log end offset, lag, owner), the
 * list of groups, and an offset reset's plan. Offsets are numbers; `null` is Kafka's tool's `-`
 * (no commit yet, no owner). Lag is the log end offset (high watermark) minus the committed
 * offset (docs/consumer-groups.md, "How lag is computed").
 */

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface ListedGroup {
  readonly groupId: string;
  /** 'consumer' for consumers; '' for a group that only has committed offsets. */
  readonly protocolType: string;
  readonly state: GroupState;
}

export interface GroupMemberDescription {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  /** As Kafka shows it: "/127.0.0.1". */
  readonly clientHost: string;
  /** The member's partitions; for a group of another protocol type, its assignment bytes in base64. */
  readonly assignment: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }> | string;
}

export interface GroupPartitionDescription {
  readonly topic: string;
  readonly partition: number;
  /** The committed offset (the next one the group reads), null without a commit. */
  readonly committedOffset: number | null;
  /** The partition's high watermark: the offset its next record gets. */
  readonly logEndOffset: number;
  /** logEndOffset − committedOffset; null without a commit. */
  readonly lag: number | null;
  /** The owner while the group is Stable, else null. */
  readonly memberId: string | null;
  readonly clientId: string | null;
  readonly clientHost: string | null;
  /** The commit's metadata string ('' without one). */
  readonly metadata: string;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  /** The assignor in use ('' unless the group is Stable, as in Kafka). */
  readonly protocol: string;
  readonly generationId: number;
  readonly leaderId: string | null;
  readonly members: ReadonlyArray<GroupMemberDescription>;
  readonly partitions: ReadonlyArray<GroupPartitionDescription>;
  /** The sum of the lags that are known. */
  readonly totalLag: number;
}

export interface ResetPlanRow {
  readonly topic: string;
  readonly partition: number;
  /** null where the group had no commit. */
  readonly currentOffset: number | null;
  readonly newOffset: number;
}

export interface ResetOffsetsResult {
  /** False for a dry run: nothing was committed. */
  readonly executed: boolean;
  readonly plan: ReadonlyArray<ResetPlanRow>;
}

/** The broker's JSON (broker/http/routes/groups.ts). */
export interface GroupDescriptionBody {
  group_id: string;
  state: GroupState;
  protocol_type: string;
  protocol: string;
  generation_id: number;
  leader_id: string | null;
  members: Array<{ member_id: string; group_instance_id: string | null; client_id: string; host: string; assignment: Array<{ topic: string; partitions: number[] }> | string }>;
  partitions: Array<{
    topic: string; partition: number; current_offset: number | null; log_end_offset: number; lag: number | null;
    consumer_id: string | null; host: string | null; client_id: string | null; metadata: string;
  }>;
  total_lag: number;
}

export interface ResetOffsetsBody {
  executed: boolean;
  plan: Array<{ topic: string; partition: number; current_offset: number | null; new_offset: number }>;
}

export function toGroupDescription(body: GroupDescriptionBody): GroupDescription {
  return {
    groupId: body.group_id,
    state: body.state,
    protocolType: body.protocol_type,
    protocol: body.protocol,
    generationId: body.generation_id,
    leaderId: body.leader_id,
    members: body.members.map((m) => ({ memberId: m.member_id, groupInstanceId: m.group_instance_id, clientId: m.client_id, clientHost: m.host, assignment: m.assignment })),
    partitions: body.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      committedOffset: p.current_offset,
      logEndOffset: p.log_end_offset,
      lag: p.lag,
      memberId: p.consumer_id,
      clientId: p.client_id,
      clientHost: p.host,
      metadata: p.metadata,
    })),
    totalLag: body.total_lag,
  };
}

export function toResetOffsetsResult(body: ResetOffsetsBody): ResetOffsetsResult {
  return {
    executed: body.executed,
    plan: body.plan.map((row) => ({ topic: row.topic, partition: row.partition, currentOffset: row.current_offset, newOffset: row.new_offset })),
  };
}
