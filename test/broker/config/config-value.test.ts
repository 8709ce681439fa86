import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INT_MAX, brokerConfigDefinitions, topicConfigDefinitions } from '../../../broker/config/config-definitions.ts';
import type { ConfigValidator } from '../../../broker/config/config-definitions.ts';
import { describeAllowedValues, parseConfigValue, unknownConfigError } from '../../../broker/config/config-value.ts';
import type { RawConfigValue, ValueSpec } from '../../../broker/config/config-value.ts';
import { isMiniKafkaError } from '../../../common/errors.ts';
import type { MiniKafkaError } from '../../../common/errors.ts';
import { NEVER } from '../../../broker/storage/log-config.ts';

const broker = (name: string): ValueSpec => brokerConfigDefinitions.get(name as never)!;
const topic = (name: string): ValueSpec => topicConfigDefinitions.get(name as never)!;

function rejection(name: string, spec: ValueSpec, raw: RawConfigValue, origin?: string): MiniKafkaError {
  try {
    parseConfigValue(name, spec, raw, origin);
  } catch (error) {
    if (isMiniKafkaError(error, 'INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error(`expected ${name}=${String(raw)} to be rejected`);
}

describe('parseConfigValue', () => {
  it('parseConfigValue() reads integers as Kafka does: trimmed, optional sign, plain decimal digits', () => {
    expect(parseConfigValue('num.partitions', broker('num.partitions'), ' 12 ')).toBe(12);
    expect(parseConfigValue('num.partitions', broker('num.partitions'), '+7')).toBe(7);
    expect(parseConfigValue('num.partitions', broker('num.partitions'), '007')).toBe(7);
    expect(parseConfigValue('log.retention.ms', broker('log.retention.ms'), '-1')).toBe(-1);
    expect(parseConfigValue('num.partitions', broker('num.partitions'), 3)).toBe(3);
    for (const bad of ['1e3', '0x10', '1_000', '1.0', '', '  ', '12 partitions', '٣']) {
      expect(rejection('num.partitions', broker('num.partitions'), bad).message, bad).toMatch(/must be a whole number in plain decimal digits/);
    }
    expect(rejection('num.partitions', broker('num.partitions'), 1.5).message).toMatch(/must be an integer/);
    expect(rejection('num.partitions', broker('num.partitions'), true).message).toMatch(/must be an integer/);
  });

  it('parseConfigValue() rejects an int config outside the 32-bit range even when the validator has no upper bound', () => {
    expect(rejection('num.partitions', broker('num.partitions'), '2147483648').message).toMatch(/must fit in a 32-bit int \[-2147483648, 2147483647\]/);
    expect(parseConfigValue('num.partitions', broker('num.partitions'), String(INT_MAX))).toBe(INT_MAX);
  });

  it("parseConfigValue() stores Kafka's Long.MAX_VALUE, and any long above 2^53-1, as NEVER", () => {
    const spec = topic('flush.messages');
    expect(parseConfigValue('flush.messages', spec, '9223372036854775807')).toBe(NEVER);
    expect(parseConfigValue('flush.messages', spec, '9007199254740992')).toBe(NEVER);
    expect(parseConfigValue('flush.messages', spec, 9223372036854775807)).toBe(NEVER);
    expect(parseConfigValue('flush.messages', spec, String(NEVER))).toBe(NEVER);
    expect(rejection('flush.messages', spec, '9223372036854775808').message).toMatch(/must fit in a 64-bit long/);
  });

  it('parseConfigValue() reads booleans case-insensitively and nothing else', () => {
    const spec = broker('auto.create.topics.enable');
    expect(parseConfigValue('auto.create.topics.enable', spec, ' TRUE ')).toBe(true);
    expect(parseConfigValue('auto.create.topics.enable', spec, 'False')).toBe(false);
    expect(parseConfigValue('auto.create.topics.enable', spec, false)).toBe(false);
    for (const bad of ['yes', '1', '', 1]) expect(rejection('auto.create.topics.enable', spec, bad).message).toMatch(/must be true or false/);
  });

  it('parseConfigValue() matches enum values exactly, as Kafka does, and lists them when one is wrong', () => {
    const spec = topic('message.timestamp.type');
    expect(parseConfigValue('message.timestamp.type', spec, ' LogAppendTime ')).toBe('LogAppendTime');
    expect(rejection('message.timestamp.type', spec, 'logappendtime').message).toMatch(/must be one of CreateTime, LogAppendTime\.$/);
  });

  it('parseConfigValue() gives cleanup.policy one canonical spelling whatever the order, blanks or repeats', () => {
    const spec = topic('cleanup.policy');
    for (const raw of ['compact,delete', 'delete,compact', ' delete , compact ', 'compact,delete,compact']) {
      expect(parseConfigValue('cleanup.policy', spec, raw), raw).toBe('compact,delete');
    }
    expect(parseConfigValue('cleanup.policy', spec, 'compact')).toBe('compact');
    expect(rejection('cleanup.policy', spec, 'delete,purge').message).toMatch(/has "purge"; items must be from compact, delete/);
    expect(rejection('cleanup.policy', spec, 'delete,,compact').message).toMatch(/empty item/);
    expect(rejection('cleanup.policy', spec, '').message).toMatch(/must be a comma-separated list of 1 to 2 items from compact, delete; it has 0/);
  });

  it('parseConfigValue() accepts exactly one directory in log.dirs and says why', () => {
    expect(parseConfigValue('log.dirs', broker('log.dirs'), ' /var/lib/minikafka ')).toBe('/var/lib/minikafka');
    const error = rejection('log.dirs', broker('log.dirs'), '/disk1,/disk2');
    expect(error.message).toMatch(/exactly 1 item; it has 2; Kafka spreads partitions over several directories/);
  });

  it('parseConfigValue() names the config, the value, where it was set and the allowed range', () => {
    const error = rejection('log.segment.bytes', broker('log.segment.bytes'), '10', 'server.properties:7');
    expect(error.message).toMatch(/^Invalid value "10" for configuration log\.segment\.bytes \(server\.properties:7\): must be an integer in \[73, 2147483647\]/);
    expect(error.details).toMatchObject({ config: 'log.segment.bytes', value: '10', allowed: '[73, 2147483647]', origin: 'server.properties:7' });
    expect(error.httpStatus).toBe(400);
    expect(error.kafkaCode).toBe(40);
  });

  it('parseConfigValue() accepts every integer inside a numeric range and rejects the ones just outside it', () => {
    const numeric = [...brokerConfigDefinitions.values(), ...topicConfigDefinitions.values()]
      .filter((definition): definition is typeof definition & { validator: Extract<ConfigValidator, { kind: 'range' }> } => definition.validator.kind === 'range');
    expect(numeric.length).toBeGreaterThan(20);
    fc.assert(fc.property(fc.constantFrom(...numeric), fc.double({ min: 0, max: 1, noNaN: true }), (definition, fraction) => {
      const { min, max } = definition.validator;
      const inside = Math.min(max, min + Math.floor((max - min) * fraction));
      expect(parseConfigValue(definition.name, definition, String(inside))).toBe(inside);
      expect(() => parseConfigValue(definition.name, definition, String(min - 1))).toThrow(/Invalid value/);
      if (max < Number.MAX_SAFE_INTEGER) expect(() => parseConfigValue(definition.name, definition, String(max + 1))).toThrow(/Invalid value/);
    }), { numRuns: 500 });
  });
});

describe('describeAllowedValues', () => {
  it('describeAllowedValues() words each kind of validator', () => {
    expect(describeAllowedValues(broker('num.partitions'))).toBe('[1, 2147483647]');
    expect(describeAllowedValues(broker('default.replication.factor'))).toBe('1');
    expect(describeAllowedValues(topic('message.timestamp.type'))).toBe('one of CreateTime, LogAppendTime');
    expect(describeAllowedValues(topic('cleanup.policy'))).toBe('a comma-separated list of 1 to 2 items from compact, delete');
    expect(describeAllowedValues(broker('log.dirs'))).toBe('a comma-separated list of exactly 1 item');
    expect(describeAllowedValues(broker('auto.create.topics.enable'))).toBe('true or false');
  });
});

describe('unknownConfigError', () => {
  it('unknownConfigError() suggests the closest name for a typo', () => {
    expect(unknownConfigError('log.retention.hour', 'broker', '--config').message).toBe('Unknown broker configuration "log.retention.hour" (--config): did you mean log.retention.hours?');
    expect(unknownConfigError('retention.m', 'topic').message).toMatch(/did you mean retention\.ms\?$/);
    expect(unknownConfigError('num.partition', 'broker').message).toMatch(/did you mean num\.partitions\?$/);
  });

  it('unknownConfigError() points a topic config used at broker level to its broker synonyms', () => {
    expect(unknownConfigError('retention.ms', 'broker').message).toMatch(/retention\.ms is a topic config.*broker-wide default is log\.retention\.ms \(or log\.retention\.minutes, log\.retention\.hours\)/);
  });

  it('unknownConfigError() points a broker config used on a topic to the topic config', () => {
    expect(unknownConfigError('log.segment.bytes', 'topic').message).toMatch(/sets the default for all topics; the topic config is segment\.bytes/);
    expect(unknownConfigError('num.partitions', 'topic').message).toMatch(/num\.partitions is a broker config, not a topic config/);
  });

  it('unknownConfigError() names a far-off closest name only as a pointer, and copes with empty and huge names', () => {
    expect(unknownConfigError('zookeeper.connect', 'broker').message).toMatch(/the closest known name is .*; docs\/configuration\.md lists every config\.$/);
    expect(unknownConfigError('', 'broker').message).toMatch(/the name is empty/);
    const huge = unknownConfigError('x'.repeat(100_000), 'broker');
    expect(huge.message.length).toBeLessThan(300);
    expect(huge.code).toBe('INVALID_CONFIG');
  });
});
