/**
 * The config catalogue: every setting the broker accepts, under Kafka's names, in one table.
 *
 * Each entry is either
 * - a broker-only config (`scope: 'broker'`), set in server.properties or with `--config`; or
 * - a topic config (`scope: 'topic'`), set per topic on create or alter, together with its broker
 *   synonyms: the broker configs that give it a default for every topic without an override
 *   (`segment.bytes` ← `log.segment.bytes`). Synonyms are listed highest precedence first and may
 *   use another unit (`log.retention.hours` × 3 600 000 = `retention.ms`), as in Kafka.
 *
 * Defaults are Kafka's (LogConfig.java, ServerLogConfigs.java, kafka-facts §1.2, §3.2, §4), with
 * Kafka's Long.MAX_VALUE written as NEVER (Number.MAX_SAFE_INTEGER); every deviation is noted on
 * its entry. A `null` default means "unset": a lower synonym or the topic default applies.
 *
 * docs/configuration.md documents the same names and defaults; a test keeps them in step. Values
 * are parsed and checked in config-value.ts; broker-config.ts and topic-config.ts resolve them.
 */

import { NEVER } from '../storage/log-config.ts';

export const ConfigType = {
  INT: 'int',
  LONG: 'long',
  BOOLEAN: 'boolean',
  STRING: 'string',
  LIST: 'list',
} as const;
export type ConfigType = (typeof ConfigType)[keyof typeof ConfigType];

/** Where an effective value came from, named as Kafka's DescribeConfigs names it. */
export const ConfigSource = {
  DEFAULT_CONFIG: 'DEFAULT_CONFIG',
  STATIC_BROKER_CONFIG: 'STATIC_BROKER_CONFIG',
  DYNAMIC_TOPIC_CONFIG: 'DYNAMIC_TOPIC_CONFIG',
} as const;
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource];

/** A parsed value. Lists are kept as their canonical comma-separated string. `null` = unset. */
export type ConfigValue = number | boolean | string | null;

export type ConfigValidator =
  /** An integer in [min, max]; max is the type's own limit unless the config narrows it. */
  | { readonly kind: 'range'; readonly min: number; readonly max: number }
  /** One of a fixed set of strings, matched exactly (Kafka's names are case-sensitive). */
  | { readonly kind: 'oneOf'; readonly values: readonly string[] }
  /** A comma-separated list: between minItems and maxItems distinct items, each from `items` when given. */
  | { readonly kind: 'list'; readonly minItems: number; readonly maxItems: number; readonly items?: readonly string[] }
  | { readonly kind: 'nonEmpty' }
  | { readonly kind: 'any' };

interface DefinitionBase {
  readonly type: ConfigType;
  readonly default: ConfigValue;
  readonly validator: ConfigValidator;
  /** One line: what the setting does (docs/configuration.md has the trade-offs). */
  readonly doc: string;
  /** Why minikafka's default or range differs from Kafka's, when it does. */
  readonly deviation?: string;
}

export interface BrokerOnlyDefinition extends DefinitionBase {
  readonly scope: 'broker';
}

export interface BrokerSynonymDefinition extends DefinitionBase {
  readonly name: string;
  /** topic value = synonym value × scale (3 600 000 for an hours synonym of a ms config). */
  readonly scale: number;
}

export interface TopicDefinition extends DefinitionBase {
  readonly scope: 'topic';
  readonly brokerSynonyms: readonly BrokerSynonymDefinition[];
}

export type ConfigDefinition = BrokerOnlyDefinition | TopicDefinition;

export const INT_MAX = 2_147_483_647;
export const INT_MIN = -2_147_483_648;
export const LONG_MAX = Number.MAX_SAFE_INTEGER;
export const LONG_MIN = Number.MIN_SAFE_INTEGER;

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;

/**
 * The smallest segment that holds one batch: a 61-byte batch header plus a 12-byte record. Kafka
 * 4.0 requires 1 MiB (KIP-1030); minikafka allows tiny segments so that rolling, retention and
 * recovery can be watched after a handful of records.
 */
export const MIN_SEGMENT_BYTES = 73;
/** The smallest index file that holds one entry of each kind (the time index's entries are 12 bytes). */
export const MIN_SEGMENT_INDEX_BYTES = 12;

/** The data directory used when neither `--data-dir`, `log.dirs` nor `log.dir` is given. */
export const DEFAULT_DATA_DIR = './data';

const intAtLeast = (min: number): ConfigValidator => ({ kind: 'range', min, max: INT_MAX });
const longAtLeast = (min: number): ConfigValidator => ({ kind: 'range', min, max: LONG_MAX });
const CLEANUP_POLICY_ITEMS = ['compact', 'delete'] as const;
const TIMESTAMP_TYPES = ['CreateTime', 'LogAppendTime'] as const;

export const configCatalogue = {
  // ---- broker-only configs -------------------------------------------------------------------
  'log.dirs': {
    scope: 'broker', type: 'list', default: null,
    validator: { kind: 'list', minItems: 1, maxItems: 1 },
    doc: 'The data directory (takes precedence over log.dir; --data-dir takes precedence over both).',
    deviation: 'Kafka spreads partitions over several directories; minikafka keeps them in one, so exactly one entry is accepted.',
  },
  'log.dir': {
    scope: 'broker', type: 'string', default: DEFAULT_DATA_DIR, validator: { kind: 'nonEmpty' },
    doc: 'The data directory, used when log.dirs is not set.',
    deviation: "Kafka's default is /tmp/kafka-logs; minikafka uses ./data so it never touches a real Kafka's directory.",
  },
  'num.partitions': {
    scope: 'broker', type: 'int', default: 1, validator: intAtLeast(1),
    doc: 'Partitions of a topic created without a partition count, including auto-created topics.',
  },
  'auto.create.topics.enable': {
    scope: 'broker', type: 'boolean', default: true, validator: { kind: 'any' },
    doc: 'Create a topic the first time it is produced to or its metadata is requested.',
  },
  'default.replication.factor': {
    scope: 'broker', type: 'int', default: 1, validator: { kind: 'range', min: 1, max: 1 },
    doc: 'Replicas of a topic created without a replication factor.',
    deviation: 'minikafka is a single broker, so 1 is the only possible value.',
  },
  'offsets.topic.num.partitions': {
    scope: 'broker', type: 'int', default: 50, validator: intAtLeast(1),
    doc: 'Partitions of __consumer_offsets; a group is coordinated by partition abs(hashCode(groupId)) % this. Fixed once the topic exists.',
  },
  'offsets.topic.segment.bytes': {
    scope: 'broker', type: 'int', default: 104_857_600, validator: intAtLeast(MIN_SEGMENT_BYTES),
    doc: 'segment.bytes of __consumer_offsets: small segments close sooner, so compaction reaches them sooner.',
  },
  'offsets.retention.minutes': {
    scope: 'broker', type: 'int', default: 10_080, validator: intAtLeast(1),
    doc: "How long the committed offsets of a group outlive the group's last member (counted from when it became Empty, or its last commit if later).",
  },
  'offsets.retention.check.interval.ms': {
    scope: 'broker', type: 'int', default: 600_000, validator: intAtLeast(1),
    doc: 'How often expired group offsets are looked for.',
  },
  'group.initial.rebalance.delay.ms': {
    scope: 'broker', type: 'int', default: 3_000, validator: intAtLeast(0),
    doc: 'How long the first rebalance of an empty group waits for more members, so consumers started together share one rebalance.',
  },
  'group.min.session.timeout.ms': {
    scope: 'broker', type: 'int', default: 6_000, validator: intAtLeast(0),
    doc: 'The shortest session timeout a consumer may ask for; less is refused with INVALID_SESSION_TIMEOUT.',
  },
  'group.max.session.timeout.ms': {
    scope: 'broker', type: 'int', default: 1_800_000, validator: intAtLeast(0),
    doc: 'The longest session timeout a consumer may ask for; more is refused with INVALID_SESSION_TIMEOUT.',
  },
  'log.cleaner.backoff.ms': {
    scope: 'broker', type: 'int', default: 15_000, validator: intAtLeast(1),
    doc: 'How long the log cleaner sleeps when no compacted log has enough dirty bytes to clean.',
  },
  'log.cleaner.dedupe.buffer.size': {
    scope: 'broker', type: 'int', default: 134_217_728, validator: intAtLeast(1024),
    doc: 'Memory for the key → latest offset map of one cleaning pass; a pass covers as much of the dirty log as fits.',
  },
  'log.retention.check.interval.ms': {
    scope: 'broker', type: 'long', default: 300_000, validator: longAtLeast(1),
    doc: 'How often the broker looks for segments that retention may delete.',
  },
  'log.flush.offset.checkpoint.interval.ms': {
    scope: 'broker', type: 'int', default: 60_000, validator: intAtLeast(1),
    doc: 'How often the recovery points and log start offsets are written to their checkpoint files.',
    deviation: 'Kafka accepts 0 (checkpoint only at shutdown); minikafka requires at least 1 ms.',
  },
  'socket.request.max.bytes': {
    scope: 'broker', type: 'int', default: 104_857_600, validator: intAtLeast(1),
    doc: 'The largest request the Kafka protocol listener reads; a larger one closes the connection.',
  },
  'minikafka.topic.max.partitions': {
    scope: 'broker', type: 'int', default: 1_000, validator: intAtLeast(1),
    doc: 'The most partitions one topic may have; a create or auto-create asking for more is refused with INVALID_PARTITIONS.',
  },
  'minikafka.http.max.body.bytes': {
    scope: 'broker', type: 'int', default: 10_485_760, validator: intAtLeast(1),
    doc: 'The largest HTTP request body the HTTP API accepts; a larger one is answered 413.',
  },
  'minikafka.http.max.records.per.request': {
    scope: 'broker', type: 'int', default: 10_000, validator: intAtLeast(1),
    doc: 'The most records one HTTP produce request may carry.',
  },
  'minikafka.http.max.connections': {
    scope: 'broker', type: 'int', default: 1_000, validator: intAtLeast(1),
    doc: 'The most HTTP connections open at once; further connections are refused.',
  },
  'minikafka.fetch.max.wait.ms': {
    scope: 'broker', type: 'int', default: 30_000, validator: intAtLeast(0),
    doc: 'The longest a fetch may wait for new records (long poll); a longer requested wait is rejected.',
  },
  'fetch.max.bytes': {
    scope: 'broker', type: 'int', default: 57_671_680, validator: intAtLeast(1024),
    doc: 'The most bytes one fetch returns (at least one whole batch); a larger max_bytes is quietly capped, as Kafka does.',
  },

  // ---- topic configs, each with its broker synonyms -----------------------------------------
  'segment.bytes': {
    scope: 'topic', type: 'int', default: 1_073_741_824, validator: intAtLeast(MIN_SEGMENT_BYTES),
    doc: 'Roll to a new segment before the active one would grow past this size.',
    deviation: 'Kafka 4.0 requires at least 1 MiB; minikafka allows down to 73 bytes (one batch) for experiments.',
    brokerSynonyms: [
      { name: 'log.segment.bytes', type: 'int', default: 1_073_741_824, validator: intAtLeast(MIN_SEGMENT_BYTES), scale: 1, doc: 'Broker-wide default for segment.bytes.' },
    ],
  },
  'segment.ms': {
    scope: 'topic', type: 'long', default: 604_800_000, validator: longAtLeast(1),
    doc: 'Roll to a new segment once the active one spans more than this much record time, even if not full.',
    brokerSynonyms: [
      { name: 'log.roll.ms', type: 'long', default: null, validator: longAtLeast(1), scale: 1, doc: 'Broker-wide default for segment.ms; wins over log.roll.hours.' },
      { name: 'log.roll.hours', type: 'int', default: 168, validator: intAtLeast(1), scale: MS_PER_HOUR, doc: 'Broker-wide default for segment.ms, in hours.' },
    ],
  },
  'segment.index.bytes': {
    scope: 'topic', type: 'int', default: 10_485_760, validator: intAtLeast(MIN_SEGMENT_INDEX_BYTES),
    doc: 'The most an offset or time index file may hold; a full index rolls the segment.',
    deviation: 'Kafka accepts 4; minikafka requires room for one 12-byte time index entry.',
    brokerSynonyms: [
      { name: 'log.index.size.max.bytes', type: 'int', default: 10_485_760, validator: intAtLeast(MIN_SEGMENT_INDEX_BYTES), scale: 1, doc: 'Broker-wide default for segment.index.bytes.' },
    ],
  },
  'index.interval.bytes': {
    scope: 'topic', type: 'int', default: 4096, validator: intAtLeast(0),
    doc: 'Bytes of log between two offset index entries.',
    brokerSynonyms: [
      { name: 'log.index.interval.bytes', type: 'int', default: 4096, validator: intAtLeast(0), scale: 1, doc: 'Broker-wide default for index.interval.bytes.' },
    ],
  },
  'retention.ms': {
    scope: 'topic', type: 'long', default: 604_800_000, validator: longAtLeast(-1),
    doc: 'Delete closed segments whose newest record is older than this; -1 keeps them forever.',
    brokerSynonyms: [
      { name: 'log.retention.ms', type: 'long', default: null, validator: longAtLeast(-1), scale: 1, doc: 'Broker-wide default for retention.ms; wins over log.retention.minutes and log.retention.hours.' },
      { name: 'log.retention.minutes', type: 'int', default: null, validator: intAtLeast(-1), scale: MS_PER_MINUTE, doc: 'Broker-wide default for retention.ms, in minutes; wins over log.retention.hours.' },
      { name: 'log.retention.hours', type: 'int', default: 168, validator: intAtLeast(-1), scale: MS_PER_HOUR, doc: 'Broker-wide default for retention.ms, in hours.' },
    ],
  },
  'retention.bytes': {
    scope: 'topic', type: 'long', default: -1, validator: longAtLeast(-1),
    doc: 'Delete the oldest closed segments while the partition is larger than this; -1 means no size limit.',
    brokerSynonyms: [
      { name: 'log.retention.bytes', type: 'long', default: -1, validator: longAtLeast(-1), scale: 1, doc: 'Broker-wide default for retention.bytes.' },
    ],
  },
  'flush.messages': {
    scope: 'topic', type: 'long', default: NEVER, validator: longAtLeast(1),
    doc: 'fsync the log once this many records are unflushed; 1 makes every acknowledged record durable.',
    brokerSynonyms: [
      { name: 'log.flush.interval.messages', type: 'long', default: NEVER, validator: longAtLeast(1), scale: 1, doc: 'Broker-wide default for flush.messages.' },
    ],
  },
  'flush.ms': {
    scope: 'topic', type: 'long', default: NEVER, validator: longAtLeast(0),
    doc: 'fsync the log once its oldest unflushed record is this old.',
    brokerSynonyms: [
      { name: 'log.flush.interval.ms', type: 'long', default: null, validator: longAtLeast(0), scale: 1, doc: 'Broker-wide default for flush.ms; unset means never.' },
    ],
  },
  'max.message.bytes': {
    scope: 'topic', type: 'int', default: 1_048_588, validator: intAtLeast(0),
    doc: 'The largest record batch (after compression) one produce may append.',
    brokerSynonyms: [
      { name: 'message.max.bytes', type: 'int', default: 1_048_588, validator: intAtLeast(0), scale: 1, doc: 'Broker-wide default for max.message.bytes.' },
    ],
  },
  'cleanup.policy': {
    scope: 'topic', type: 'list', default: 'delete',
    validator: { kind: 'list', minItems: 1, maxItems: 2, items: CLEANUP_POLICY_ITEMS },
    doc: 'delete: retention removes old segments; compact: keep the latest record per key; compact,delete: both.',
    brokerSynonyms: [
      { name: 'log.cleanup.policy', type: 'list', default: 'delete', validator: { kind: 'list', minItems: 1, maxItems: 2, items: CLEANUP_POLICY_ITEMS }, scale: 1, doc: 'Broker-wide default for cleanup.policy.' },
    ],
  },
  'message.timestamp.type': {
    scope: 'topic', type: 'string', default: 'CreateTime', validator: { kind: 'oneOf', values: TIMESTAMP_TYPES },
    doc: "CreateTime keeps the producer's timestamps; LogAppendTime stamps each batch with the broker's clock.",
    brokerSynonyms: [
      { name: 'log.message.timestamp.type', type: 'string', default: 'CreateTime', validator: { kind: 'oneOf', values: TIMESTAMP_TYPES }, scale: 1, doc: 'Broker-wide default for message.timestamp.type.' },
    ],
  },
  'min.insync.replicas': {
    scope: 'topic', type: 'int', default: 1, validator: intAtLeast(1),
    doc: 'acks=all produces fail with NOT_ENOUGH_REPLICAS unless this many replicas are in sync (here: only 1 can be).',
    brokerSynonyms: [
      { name: 'min.insync.replicas', type: 'int', default: 1, validator: intAtLeast(1), scale: 1, doc: 'Broker-wide default for the topic config of the same name.' },
    ],
  },
  'delete.retention.ms': {
    scope: 'topic', type: 'long', default: 86_400_000, validator: longAtLeast(0),
    doc: 'On compacted topics, how long a tombstone (null value) is kept after its segment is cleaned.',
    brokerSynonyms: [
      { name: 'log.cleaner.delete.retention.ms', type: 'long', default: 86_400_000, validator: longAtLeast(0), scale: 1, doc: 'Broker-wide default for delete.retention.ms.' },
    ],
  },
} as const satisfies Record<string, ConfigDefinition>;

type Catalogue = typeof configCatalogue;
export type TopicConfigName = { [K in keyof Catalogue]: Catalogue[K]['scope'] extends 'topic' ? K : never }[keyof Catalogue];
export type BrokerOnlyConfigName = { [K in keyof Catalogue]: Catalogue[K]['scope'] extends 'broker' ? K : never }[keyof Catalogue];
export type BrokerSynonymName = { [K in TopicConfigName]: Catalogue[K]['brokerSynonyms'][number]['name'] }[TopicConfigName];
/** Every name a server.properties or `--config` may use. */
export type BrokerConfigName = BrokerOnlyConfigName | BrokerSynonymName;

/** A broker-level config: a broker-only one, or a synonym that sets a topic config's default. */
export interface BrokerConfigDefinition extends DefinitionBase {
  readonly name: BrokerConfigName;
  /** The topic config this sets the broker-wide default of, and the unit conversion; null for broker-only. */
  readonly synonymOf: { readonly topicConfig: TopicConfigName; readonly scale: number } | null;
}

export interface TopicConfigDefinition extends DefinitionBase {
  readonly name: TopicConfigName;
  readonly brokerSynonyms: readonly (BrokerSynonymDefinition & { readonly name: BrokerSynonymName })[];
}

/** Topic configs by name, in catalogue order. */
export const topicConfigDefinitions: ReadonlyMap<TopicConfigName, TopicConfigDefinition> = new Map(
  Object.entries(configCatalogue)
    .filter((entry): entry is [TopicConfigName, Catalogue[TopicConfigName]] => entry[1].scope === 'topic')
    .map(([name, definition]) => [name, { ...definition, name } as TopicConfigDefinition]),
);

/** Broker-level configs by name: broker-only ones first, then the synonyms in topic catalogue order. */
export const brokerConfigDefinitions: ReadonlyMap<BrokerConfigName, BrokerConfigDefinition> = buildBrokerDefinitions();

function buildBrokerDefinitions(): Map<BrokerConfigName, BrokerConfigDefinition> {
  const definitions = new Map<BrokerConfigName, BrokerConfigDefinition>();
  for (const [name, definition] of Object.entries(configCatalogue) as Array<[keyof Catalogue, ConfigDefinition]>) {
    if (definition.scope !== 'broker') continue;
    const { scope: _scope, ...rest } = definition;
    definitions.set(name as BrokerOnlyConfigName, { ...rest, name: name as BrokerOnlyConfigName, synonymOf: null });
  }
  for (const topic of topicConfigDefinitions.values()) {
    for (const { scale, ...synonym } of topic.brokerSynonyms) {
      if (definitions.has(synonym.name)) throw new Error(`config catalogue: broker config ${synonym.name} is defined twice`);
      definitions.set(synonym.name, { ...synonym, synonymOf: { topicConfig: topic.name, scale } });
    }
  }
  return definitions;
}

export function isTopicConfigName(name: string): name is TopicConfigName {
  return topicConfigDefinitions.has(name as TopicConfigName);
}

export function isBrokerConfigName(name: string): name is BrokerConfigName {
  return brokerConfigDefinitions.has(name as BrokerConfigName);
}
