/**
 * The broker's effective configuration: Kafka's defaults, then the `--config-file`
 * (server.properties), then each `--config name=value` in command-line order, then `--data-dir`.
 * A later setting of the same name wins. Every value is parsed and checked against the catalogue
 * (config-definitions.ts) before the broker starts, and every problem found is reported at once,
 * each with where it came from (`server.properties:12`, `--config`).
 *
 * The result has two faces: typed camelCase fields (units last) for the code that runs the broker,
 * and `entries`, every broker config under its Kafka name with its value and source, for
 * `describe`-style display. `topicDefaults` is the config a topic with no overrides gets, with
 * the broker synonyms (`log.retention.hours`, …) already applied.
 *
 * `warnings` carries settings that are each valid but contradict one another (a batch limit
 * larger than any request that could carry it): the broker still starts, and says so.
 */

import path from 'node:path';
import { MiniKafkaError } from '../../common/errors.ts';
import { ConfigSource, brokerConfigDefinitions, isBrokerConfigName } from './config-definitions.ts';
import type { BrokerConfigDefinition, BrokerConfigName, ConfigValue } from './config-definitions.ts';
import { formatConfigValue, parseConfigValue, unknownConfigError } from './config-value.ts';
import { readPropertiesFile } from './server-properties.ts';
import type { PropertiesFile } from './server-properties.ts';
import { resolveTopicConfig } from './topic-config.ts';
import type { TopicConfig } from './topic-config.ts';

export interface BrokerConfigEntry {
  readonly name: BrokerConfigName;
  /** The parsed value; null when unset (only for configs whose default is unset). */
  readonly value: ConfigValue;
  readonly source: typeof ConfigSource.DEFAULT_CONFIG | typeof ConfigSource.STATIC_BROKER_CONFIG;
  /** Where a static value was set: `server.properties:12`, `--config`, `--data-dir`; null for a default. */
  readonly origin: string | null;
  readonly definition: BrokerConfigDefinition;
}

/** Just the entries: what topic configs need from the broker to resolve their defaults. */
export interface BrokerConfigEntries {
  readonly entries: ReadonlyMap<BrokerConfigName, BrokerConfigEntry>;
}

export interface BrokerConfig extends BrokerConfigEntries {
  /** Absolute path of the data directory: --data-dir, else log.dirs, else log.dir. */
  readonly dataDir: string;
  readonly numPartitions: number;
  readonly autoCreateTopicsEnable: boolean;
  readonly defaultReplicationFactor: number;
  readonly offsetsTopicNumPartitions: number;
  readonly offsetsTopicSegmentBytes: number;
  /** offsets.retention.minutes, in ms. */
  readonly offsetsRetentionMs: number;
  readonly offsetsRetentionCheckIntervalMs: number;
  readonly groupInitialRebalanceDelayMs: number;
  readonly groupMinSessionTimeoutMs: number;
  readonly groupMaxSessionTimeoutMs: number;
  readonly logRetentionCheckIntervalMs: number;
  readonly logCleanerBackoffMs: number;
  readonly logCleanerDedupeBufferBytes: number;
  readonly logFlushOffsetCheckpointIntervalMs: number;
  readonly socketRequestMaxBytes: number;
  readonly topicMaxPartitions: number;
  readonly httpMaxBodyBytes: number;
  readonly httpMaxRecordsPerRequest: number;
  readonly httpMaxConnections: number;
  readonly fetchMaxWaitMs: number;
  /** fetch.max.bytes: the most bytes one fetch returns. */
  readonly fetchMaxBytes: number;
  /** The effective config of a topic without overrides (Kafka's broker synonyms applied). */
  readonly topicDefaults: TopicConfig;
  /** Valid settings that contradict each other, each with advice; print them at startup. */
  readonly warnings: readonly string[];
}

export interface BrokerConfigInput {
  /** The parsed `--config-file`. */
  readonly configFile?: PropertiesFile;
  /** Each `--config` argument, `name=value`, in command-line order. */
  readonly configArgs?: readonly string[];
  /** The `--data-dir` flag; wins over log.dirs and log.dir. */
  readonly dataDir?: string;
}

export interface LoadBrokerConfigOptions {
  readonly configFilePath?: string;
  readonly configArgs?: readonly string[];
  readonly dataDir?: string;
}

/** Reads `--config-file` (if any) and resolves the broker config. Throws INVALID_CONFIG. */
export async function loadBrokerConfig(options: LoadBrokerConfigOptions = {}): Promise<BrokerConfig> {
  const configFile = options.configFilePath === undefined ? undefined : await readPropertiesFile(options.configFilePath);
  return resolveBrokerConfig({ configFile, configArgs: options.configArgs, dataDir: options.dataDir });
}

/** Splits one `--config` argument at its first `=`: `log.dirs=/a=b` sets log.dirs to `/a=b`. */
export function parseConfigArg(arg: string): { readonly name: string; readonly value: string } {
  const separator = arg.indexOf('=');
  if (separator <= 0) {
    throw new MiniKafkaError('INVALID_CONFIG', `--config ${JSON.stringify(arg.slice(0, 100))} must be name=value, for example --config num.partitions=3.`, { arg: arg.slice(0, 100) });
  }
  return { name: arg.slice(0, separator).trim(), value: arg.slice(separator + 1) };
}

/** Resolves defaults ⊕ config file ⊕ --config ⊕ --data-dir. Throws one INVALID_CONFIG listing every problem. */
export function resolveBrokerConfig(input: BrokerConfigInput = {}): BrokerConfig {
  const entries = new Map<BrokerConfigName, BrokerConfigEntry>();
  for (const definition of brokerConfigDefinitions.values()) {
    entries.set(definition.name, { name: definition.name, value: definition.default, source: ConfigSource.DEFAULT_CONFIG, origin: null, definition });
  }
  const problems: MiniKafkaError[] = [];
  const setStatic = (name: string, raw: string, origin: string): void => {
    try {
      if (!isBrokerConfigName(name)) throw unknownConfigError(name, 'broker', origin);
      const definition = brokerConfigDefinitions.get(name)!;
      const value = parseConfigValue(name, definition, raw, origin);
      entries.set(name, { name, value, source: ConfigSource.STATIC_BROKER_CONFIG, origin, definition });
    } catch (error) {
      if (!(error instanceof MiniKafkaError)) throw error;
      problems.push(error);
    }
  };
  for (const { key, value, line } of input.configFile?.entries ?? []) setStatic(key, value, `${input.configFile!.source}:${line}`);
  for (const arg of input.configArgs ?? []) {
    try {
      const { name, value } = parseConfigArg(arg);
      setStatic(name, value, '--config');
    } catch (error) {
      if (!(error instanceof MiniKafkaError)) throw error;
      problems.push(error);
    }
  }
  if (input.dataDir !== undefined) setDataDirFlag(entries, input.dataDir, problems);
  throwIfAny(problems);

  const topicDefaults = resolveTopicConfig({ entries });
  const config: Omit<BrokerConfig, 'warnings'> = {
    dataDir: path.resolve(String(value(entries, 'log.dirs') ?? value(entries, 'log.dir'))),
    numPartitions: number(entries, 'num.partitions'),
    autoCreateTopicsEnable: value(entries, 'auto.create.topics.enable') === true,
    defaultReplicationFactor: number(entries, 'default.replication.factor'),
    offsetsTopicNumPartitions: number(entries, 'offsets.topic.num.partitions'),
    offsetsTopicSegmentBytes: number(entries, 'offsets.topic.segment.bytes'),
    offsetsRetentionMs: number(entries, 'offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: number(entries, 'offsets.retention.check.interval.ms'),
    groupInitialRebalanceDelayMs: number(entries, 'group.initial.rebalance.delay.ms'),
    groupMinSessionTimeoutMs: number(entries, 'group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: number(entries, 'group.max.session.timeout.ms'),
    logRetentionCheckIntervalMs: number(entries, 'log.retention.check.interval.ms'),
    logCleanerBackoffMs: number(entries, 'log.cleaner.backoff.ms'),
    logCleanerDedupeBufferBytes: number(entries, 'log.cleaner.dedupe.buffer.size'),
    logFlushOffsetCheckpointIntervalMs: number(entries, 'log.flush.offset.checkpoint.interval.ms'),
    socketRequestMaxBytes: number(entries, 'socket.request.max.bytes'),
    topicMaxPartitions: number(entries, 'minikafka.topic.max.partitions'),
    httpMaxBodyBytes: number(entries, 'minikafka.http.max.body.bytes'),
    httpMaxRecordsPerRequest: number(entries, 'minikafka.http.max.records.per.request'),
    httpMaxConnections: number(entries, 'minikafka.http.max.connections'),
    fetchMaxWaitMs: number(entries, 'minikafka.fetch.max.wait.ms'),
    fetchMaxBytes: number(entries, 'fetch.max.bytes'),
    topicDefaults,
    entries,
  };
  return Object.freeze({ ...config, warnings: Object.freeze(crossCheck(config)) });
}

export interface BrokerConfigDescription {
  readonly name: BrokerConfigName;
  readonly value: string;
  readonly source: BrokerConfigEntry['source'];
  readonly origin: string | null;
  readonly doc: string;
}

/** Every broker config with its value and source, in catalogue order (broker-only first, then synonyms). */
export function describeBrokerConfig(config: BrokerConfigEntries): BrokerConfigDescription[] {
  return [...config.entries.values()].map((entry) => ({
    name: entry.name,
    value: formatConfigValue(entry.value),
    source: entry.source,
    origin: entry.origin,
    doc: entry.definition.doc,
  }));
}

/** `--data-dir` sets log.dirs verbatim: a path is not split at commas the way a log.dirs list is. */
function setDataDirFlag(entries: Map<BrokerConfigName, BrokerConfigEntry>, dataDir: string, problems: MiniKafkaError[]): void {
  if (dataDir.trim() === '') {
    problems.push(new MiniKafkaError('INVALID_CONFIG', '--data-dir must not be empty.', { origin: '--data-dir' }));
    return;
  }
  const definition = brokerConfigDefinitions.get('log.dirs')!;
  entries.set('log.dirs', { name: 'log.dirs', value: dataDir, source: ConfigSource.STATIC_BROKER_CONFIG, origin: '--data-dir', definition });
}

function throwIfAny(problems: readonly MiniKafkaError[]): void {
  if (problems.length === 0) return;
  if (problems.length === 1) throw problems[0];
  const list = problems.map((problem) => `  - ${problem.message}`).join('\n');
  throw new MiniKafkaError('INVALID_CONFIG', `${problems.length} configuration problems:\n${list}`, { problems: problems.map((problem) => ({ message: problem.message, ...problem.details })) });
}

/** Settings that are each in range but cannot all hold, with what to change. */
function crossCheck(config: Omit<BrokerConfig, 'warnings'>): string[] {
  const warnings: string[] = [];
  const maxBatchBytes = config.topicDefaults.log.maxMessageBytes;
  const check = (limitName: string, limitBytes: number, advice: string): void => {
    if (maxBatchBytes > limitBytes) {
      warnings.push(`message.max.bytes (${maxBatchBytes}) is larger than ${limitName} (${limitBytes}): ${advice}; raise ${limitName} or lower message.max.bytes.`);
    }
  };
  check('socket.request.max.bytes', config.socketRequestMaxBytes, 'a Kafka-protocol produce request carrying the largest allowed batch would be refused');
  check('minikafka.http.max.body.bytes', config.httpMaxBodyBytes, 'an HTTP produce request carrying the largest allowed batch would be refused');
  check('log.segment.bytes', config.topicDefaults.log.segmentBytes, 'a batch larger than a segment is rejected even though message.max.bytes allows it');
  for (const [name, partitions] of [['num.partitions', config.numPartitions], ['offsets.topic.num.partitions', config.offsetsTopicNumPartitions]] as const) {
    if (partitions > config.topicMaxPartitions) {
      warnings.push(`${name} (${partitions}) is larger than minikafka.topic.max.partitions (${config.topicMaxPartitions}): topics created with that count would be refused; raise minikafka.topic.max.partitions or lower ${name}.`);
    }
  }
  return warnings;
}

function value(entries: ReadonlyMap<BrokerConfigName, BrokerConfigEntry>, name: BrokerConfigName): ConfigValue {
  return entries.get(name)!.value;
}

function number(entries: ReadonlyMap<BrokerConfigName, BrokerConfigEntry>, name: BrokerConfigName): number {
  const found = value(entries, name);
  if (typeof found !== 'number') throw new Error(`config catalogue: ${name} has no numeric value`);
  return found;
}
