/**
 * A topic's effective configuration, resolved as Kafka resolves it:
 *
 *   1. the topic's own override (set on create or alter)          → DYNAMIC_TOPIC_CONFIG
 *   2. a broker synonym set in server.properties or --config       → STATIC_BROKER_CONFIG
 *      (synonyms in catalogue order, so log.retention.ms beats log.retention.minutes beats
 *      log.retention.hours whichever way they were written)
 *   3. a broker synonym's default, then the topic config's default → DEFAULT_CONFIG
 *
 * Overrides are kept as Kafka keeps them: a map from topic-config name to the value's canonical
 * text (`retention.ms` → `"86400000"`), validated when set (validateTopicConfigOverrides,
 * alterTopicConfigOverrides) and parsed again on every resolve, so a hand-edited metadata file is
 * caught too.
 *
 * The result is the storage engine's LogConfig plus the settings that are not the log's business
 * (cleanup policy, timestamp type, min.insync.replicas, tombstone retention). One translation
 * happens on the way: time and size retention apply only when cleanup.policy includes `delete`
 * (Kafka's UnifiedLog.deleteOldSegments), so for a compact-only topic LogConfig gets -1 for
 * both while describe still shows the configured values.
 */

import { MiniKafkaError } from '../../common/errors.ts';
import { cleanupPolicyBits, resolveLogConfig } from '../storage/log-config.ts';
import type { LogConfig } from '../storage/log-config.ts';
import type { BrokerConfigEntries } from './broker-config.ts';
import { ConfigSource, isTopicConfigName, topicConfigDefinitions } from './config-definitions.ts';
import type { TopicConfigDefinition, TopicConfigName } from './config-definitions.ts';
import { formatConfigValue, parseConfigValue, unknownConfigError } from './config-value.ts';
import type { RawConfigValue } from './config-value.ts';

export const CleanupPolicy = {
  DELETE: 'delete',
  COMPACT: 'compact',
  COMPACT_DELETE: 'compact,delete',
} as const;
export type CleanupPolicy = (typeof CleanupPolicy)[keyof typeof CleanupPolicy];

export const MessageTimestampType = {
  CREATE_TIME: 'CreateTime',
  LOG_APPEND_TIME: 'LogAppendTime',
} as const;
export type MessageTimestampType = (typeof MessageTimestampType)[keyof typeof MessageTimestampType];

export interface TopicConfig {
  /** What the storage engine obeys (retention off for compact-only topics, see the header). */
  readonly log: LogConfig;
  readonly cleanupPolicy: CleanupPolicy;
  readonly messageTimestampType: MessageTimestampType;
  readonly minInsyncReplicas: number;
  readonly deleteRetentionMs: number;
}

/** A topic's overrides: topic-config name → canonical value text, as stored with the topic. */
export type TopicConfigOverrides = Readonly<Partial<Record<TopicConfigName, string>>>;

export interface ConfigSynonym {
  readonly name: string;
  /** In the synonym's own unit (`log.retention.hours` shows hours). */
  readonly value: string;
  readonly source: ConfigSource;
}

/** One line of `describe`: Kafka's DescribeConfigs entry with synonyms. */
export interface TopicConfigDescription {
  readonly name: TopicConfigName;
  readonly value: string;
  readonly source: ConfigSource;
  /** Every place a value could come from, highest precedence first; the first one is in effect. */
  readonly synonyms: readonly ConfigSynonym[];
  readonly doc: string;
}

export const AlterConfigOp = {
  SET: 'SET',
  DELETE: 'DELETE',
} as const;
export type AlterConfigOp = (typeof AlterConfigOp)[keyof typeof AlterConfigOp];

export interface TopicConfigAlteration {
  readonly name: string;
  readonly op: AlterConfigOp;
  /** Required for SET; ignored for DELETE. */
  readonly value?: RawConfigValue | null;
}

/**
 * Checks topic-config overrides as a create-topic request supplies them and returns them in
 * canonical form. Throws one INVALID_CONFIG listing every unknown name and bad value.
 */
export function validateTopicConfigOverrides(raw: Readonly<Record<string, RawConfigValue | null>>, topic?: string): TopicConfigOverrides {
  const overrides: Partial<Record<TopicConfigName, string>> = {};
  const problems: MiniKafkaError[] = [];
  for (const [name, value] of Object.entries(raw)) {
    try {
      const checked = checkedName(name, topic);
      overrides[checked] = canonicalValue(checked, value, topic);
    } catch (error) {
      if (!(error instanceof MiniKafkaError)) throw error;
      problems.push(error);
    }
  }
  throwIfAny(problems, topic);
  return Object.freeze(overrides);
}

/**
 * Applies Kafka's incremental alter (SET a value, DELETE an override to fall back to the broker's)
 * to a topic's current overrides. All or nothing: one bad alteration changes nothing.
 */
export function alterTopicConfigOverrides(current: TopicConfigOverrides, alterations: readonly TopicConfigAlteration[], topic?: string): TopicConfigOverrides {
  const next: Partial<Record<TopicConfigName, string>> = { ...current };
  const problems: MiniKafkaError[] = [];
  for (const alteration of alterations) {
    try {
      const name = checkedName(alteration.name, topic);
      if (alteration.op === AlterConfigOp.DELETE) delete next[name];
      else if (alteration.op === AlterConfigOp.SET) next[name] = canonicalValue(name, alteration.value ?? null, topic);
      else throw new MiniKafkaError('INVALID_CONFIG', `Unknown alter operation ${JSON.stringify(String(alteration.op))} for ${name}: use SET or DELETE.`, { config: name, op: String(alteration.op) });
    } catch (error) {
      if (!(error instanceof MiniKafkaError)) throw error;
      problems.push(error);
    }
  }
  throwIfAny(problems, topic);
  return Object.freeze(next);
}

/** The effective config of a topic with these overrides on this broker. Throws INVALID_CONFIG for a bad stored override. */
export function resolveTopicConfig(broker: BrokerConfigEntries, overrides: TopicConfigOverrides = {}, topic?: string): TopicConfig {
  // Overrides normally come from validateTopicConfigOverrides, but a raw map type-checks too:
  // an unknown name must not be silently ignored.
  for (const name of Object.keys(overrides)) checkedName(name, topic);
  const values = new Map<TopicConfigName, number | string>();
  for (const definition of topicConfigDefinitions.values()) {
    values.set(definition.name, effectiveValue(definition, broker, overrides, topic));
  }
  const num = (name: TopicConfigName): number => values.get(name) as number;
  const cleanupPolicy = values.get('cleanup.policy') as CleanupPolicy;
  const isDeleteEnabled = cleanupPolicy.split(',').includes(CleanupPolicy.DELETE);
  const log = resolveLogConfig({
    segmentBytes: num('segment.bytes'),
    segmentMs: num('segment.ms'),
    segmentIndexBytes: num('segment.index.bytes'),
    indexIntervalBytes: num('index.interval.bytes'),
    retentionMs: isDeleteEnabled ? num('retention.ms') : -1,
    retentionBytes: isDeleteEnabled ? num('retention.bytes') : -1,
    flushMessages: num('flush.messages'),
    flushMs: num('flush.ms'),
    maxMessageBytes: num('max.message.bytes'),
    cleanupPolicy: cleanupPolicyBits(cleanupPolicy),
    deleteRetentionMs: num('delete.retention.ms'),
  });
  return Object.freeze({
    log,
    cleanupPolicy,
    messageTimestampType: values.get('message.timestamp.type') as MessageTimestampType,
    minInsyncReplicas: num('min.insync.replicas'),
    deleteRetentionMs: num('delete.retention.ms'),
  });
}

/** Every topic config with its value, source and synonyms, in catalogue order, as `describe` shows them. */
export function describeTopicConfig(broker: BrokerConfigEntries, overrides: TopicConfigOverrides = {}, topic?: string): TopicConfigDescription[] {
  for (const name of Object.keys(overrides)) checkedName(name, topic);
  return [...topicConfigDefinitions.values()].map((definition) => {
    const synonyms = synonymChain(definition, broker, overrides, topic);
    const first = synonyms[0];
    return {
      name: definition.name,
      value: formatConfigValue(effectiveValue(definition, broker, overrides, topic)),
      source: first?.source ?? ConfigSource.DEFAULT_CONFIG,
      synonyms: synonyms.map(({ name, value, source }) => ({ name, value: formatConfigValue(value), source })),
      doc: definition.doc,
    };
  });
}

interface Candidate {
  readonly name: string;
  readonly value: number | string;
  readonly source: ConfigSource;
  /** Multiply to convert into the topic config's unit. */
  readonly scale: number;
}

/** Where this config's value could come from, highest precedence first (see the header). */
function synonymChain(definition: TopicConfigDefinition, broker: BrokerConfigEntries, overrides: TopicConfigOverrides, topic: string | undefined): Candidate[] {
  const chain: Candidate[] = [];
  const override = overrides[definition.name];
  if (override !== undefined) {
    const value = parseConfigValue(definition.name, definition, override, topicOrigin(topic)) as number | string;
    chain.push({ name: definition.name, value, source: ConfigSource.DYNAMIC_TOPIC_CONFIG, scale: 1 });
  }
  const entries = definition.brokerSynonyms.map((synonym) => {
    const entry = broker.entries.get(synonym.name);
    if (entry === undefined) throw new Error(`broker config entries lack ${synonym.name}`);
    return { entry, scale: synonym.scale };
  });
  for (const { entry, scale } of entries) {
    if (entry.source === ConfigSource.STATIC_BROKER_CONFIG && entry.value !== null) {
      chain.push({ name: entry.name, value: entry.value as number | string, source: ConfigSource.STATIC_BROKER_CONFIG, scale });
    }
  }
  // Defaults are listed even under a static setting of the same name, as Kafka's describe does.
  for (const { entry, scale } of entries) {
    const fallback = entry.definition.default;
    if (fallback !== null) chain.push({ name: entry.name, value: fallback as number | string, source: ConfigSource.DEFAULT_CONFIG, scale });
  }
  return chain;
}

function effectiveValue(definition: TopicConfigDefinition, broker: BrokerConfigEntries, overrides: TopicConfigOverrides, topic: string | undefined): number | string {
  const [first] = synonymChain(definition, broker, overrides, topic);
  if (first === undefined) return definition.default as number | string;
  if (typeof first.value !== 'number' || first.scale === 1) return first.value;
  // Kafka: a negative retention in any unit means "forever", which is -1 in milliseconds.
  const scaled = first.value < 0 ? -1 : first.value * first.scale;
  if (!Number.isSafeInteger(scaled)) throw new Error(`${first.name}=${first.value} × ${first.scale} is not a safe integer`);
  return scaled;
}

function checkedName(name: string, topic: string | undefined): TopicConfigName {
  if (!isTopicConfigName(name)) throw unknownConfigError(name, 'topic', topicOrigin(topic));
  return name;
}

function canonicalValue(name: TopicConfigName, value: RawConfigValue | null, topic: string | undefined): string {
  if (value === null) {
    throw new MiniKafkaError('INVALID_CONFIG', `Null value for configuration ${name}${topic === undefined ? '' : ` (topic ${topic})`}: give a value, or DELETE the override to use the broker's.`, { config: name, topic });
  }
  return formatConfigValue(parseConfigValue(name, topicConfigDefinitions.get(name)!, value, topicOrigin(topic)));
}

function topicOrigin(topic: string | undefined): string | undefined {
  return topic === undefined ? undefined : `topic ${topic}`;
}

function throwIfAny(problems: readonly MiniKafkaError[], topic: string | undefined): void {
  if (problems.length === 0) return;
  if (problems.length === 1) throw problems[0];
  const list = problems.map((problem) => `  - ${problem.message}`).join('\n');
  const subject = topic === undefined ? 'topic configuration' : `configuration of topic ${topic}`;
  throw new MiniKafkaError('INVALID_CONFIG', `${problems.length} problems in the ${subject}:\n${list}`, { topic, problems: problems.map((problem) => ({ message: problem.message, ...problem.details })) });
}
