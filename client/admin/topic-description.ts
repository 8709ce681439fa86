/**
 * A topic as `GET /topics/{topic}` describes it, in the SDK's camelCase: per partition its leader
 * and offsets (log start offset, high watermark, recovery point), size and segments; every topic
 * config with its effective value and source (DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG,
 * DEFAULT_CONFIG). Offsets are numbers (safe integers), as the broker keeps them.
 */

export type ConfigValue = string | number | boolean;

export interface PartitionDescription {
  readonly partition: number;
  readonly leader: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly recoveryPoint: number;
  readonly sizeBytes: number;
  readonly segments: ReadonlyArray<{ readonly baseOffset: number; readonly nextOffset: number; readonly sizeBytes: number; readonly maxTimestamp: number }>;
}

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly source: string;
}

export interface TopicDescription {
  readonly name: string;
  readonly topicId: string;
  readonly isInternal: boolean;
  readonly partitions: ReadonlyArray<PartitionDescription>;
  readonly configs: ReadonlyArray<ConfigEntry>;
}

/** The broker's JSON (broker/http/routes/topics.ts, describeTopic). */
export interface TopicDescriptionBody {
  name: string;
  topic_id: string;
  is_internal: boolean;
  partitions: Array<{
    partition: number;
    leader: number;
    log_start_offset: number;
    high_watermark: number;
    recovery_point: number;
    size_bytes: number;
    segments: Array<{ base_offset: number; next_offset: number; size_bytes: number; max_timestamp: number }>;
  }>;
  configs: Array<{ name: string; value: string | null; source: string }>;
}

export function toTopicDescription(body: TopicDescriptionBody): TopicDescription {
  return {
    name: body.name,
    topicId: body.topic_id,
    isInternal: body.is_internal,
    partitions: body.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      logStartOffset: p.log_start_offset,
      highWatermark: p.high_watermark,
      recoveryPoint: p.recovery_point,
      sizeBytes: p.size_bytes,
      segments: p.segments.map((s) => ({ baseOffset: s.base_offset, nextOffset: s.next_offset, sizeBytes: s.size_bytes, maxTimestamp: s.max_timestamp })),
    })),
    configs: body.configs.map(({ name, value, source }) => ({ name, value, source })),
  };
}
