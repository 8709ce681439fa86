import { describe, expect, it } from 'vitest';
import { resolveBrokerConfig } from '../../../broker/config/broker-config.ts';
import { brokerConfigDefinitions, configCatalogue, topicConfigDefinitions } from '../../../broker/config/config-definitions.ts';
import { formatConfigValue, parseConfigValue } from '../../../broker/config/config-value.ts';
import { describeTopicConfig } from '../../../broker/config/topic-config.ts';
import { NEVER, defaultLogConfig } from '../../../broker/storage/log-config.ts';

describe('config catalogue', () => {
  it('every non-null default passes its own validation and reads back unchanged', () => {
    const all = [...brokerConfigDefinitions.values(), ...topicConfigDefinitions.values()];
    for (const definition of all) {
      if (definition.default === null) continue;
      expect(parseConfigValue(definition.name, definition, formatConfigValue(definition.default)), definition.name).toBe(definition.default);
    }
  });

  it('each broker config name is defined once, and only min.insync.replicas is both a broker and a topic name', () => {
    const brokerNames = [...brokerConfigDefinitions.keys()];
    const synonymNames = [...topicConfigDefinitions.values()].flatMap((topic) => topic.brokerSynonyms.map((synonym) => synonym.name));
    expect(new Set(synonymNames).size).toBe(synonymNames.length);
    expect(brokerNames.length).toBe(Object.values(configCatalogue).filter((definition) => definition.scope === 'broker').length + synonymNames.length);
    expect(brokerNames.filter((name) => topicConfigDefinitions.has(name as never))).toEqual(['min.insync.replicas']);
  });

  it("each topic config's default is what its broker synonyms' defaults resolve to", () => {
    const broker = resolveBrokerConfig({});
    for (const description of describeTopicConfig(broker)) {
      const definition = topicConfigDefinitions.get(description.name)!;
      expect(description.value, description.name).toBe(formatConfigValue(definition.default));
      expect(description.source).toBe('DEFAULT_CONFIG');
    }
  });

  it("the broker's default topic config is the storage engine's default LogConfig", () => {
    expect(resolveBrokerConfig({}).topicDefaults.log).toEqual(defaultLogConfig);
  });

  it("has Kafka's defaults for the settings kafka-facts lists", () => {
    const defaults = Object.fromEntries([...brokerConfigDefinitions.values()].map((definition) => [definition.name, definition.default]));
    expect(defaults).toMatchObject({
      'log.segment.bytes': 1_073_741_824,
      'log.roll.hours': 168,
      'log.roll.ms': null,
      'log.retention.hours': 168,
      'log.retention.minutes': null,
      'log.retention.ms': null,
      'log.retention.bytes': -1,
      'log.index.size.max.bytes': 10_485_760,
      'log.index.interval.bytes': 4096,
      'log.flush.interval.messages': NEVER,
      'log.flush.interval.ms': null,
      'message.max.bytes': 1_048_588,
      'log.cleanup.policy': 'delete',
      'log.message.timestamp.type': 'CreateTime',
      'min.insync.replicas': 1,
      'log.cleaner.delete.retention.ms': 86_400_000,
      'num.partitions': 1,
      'auto.create.topics.enable': true,
      'default.replication.factor': 1,
      'offsets.topic.num.partitions': 50,
      'log.retention.check.interval.ms': 300_000,
      'log.flush.offset.checkpoint.interval.ms': 60_000,
      'socket.request.max.bytes': 104_857_600,
    });
  });

  it('converts synonyms in other units to the topic unit: hours and minutes to milliseconds', () => {
    const scale = (name: string): number => brokerConfigDefinitions.get(name as never)!.synonymOf!.scale;
    expect(scale('log.retention.hours')).toBe(3_600_000);
    expect(scale('log.retention.minutes')).toBe(60_000);
    expect(scale('log.roll.hours')).toBe(3_600_000);
    expect(scale('log.retention.ms')).toBe(1);
  });

  it('lists retention synonyms in precedence order ms, minutes, hours and roll synonyms ms, hours', () => {
    const synonyms = (topic: string): string[] => topicConfigDefinitions.get(topic as never)!.brokerSynonyms.map((synonym) => synonym.name);
    expect(synonyms('retention.ms')).toEqual(['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']);
    expect(synonyms('segment.ms')).toEqual(['log.roll.ms', 'log.roll.hours']);
  });
});
