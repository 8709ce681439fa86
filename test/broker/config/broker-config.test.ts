import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeBrokerConfig, loadBrokerConfig, parseConfigArg, resolveBrokerConfig } from '../../../broker/config/broker-config.ts';
import type { BrokerConfig, BrokerConfigInput } from '../../../broker/config/broker-config.ts';
import { brokerConfigDefinitions } from '../../../broker/config/config-definitions.ts';
import { parseProperties } from '../../../broker/config/server-properties.ts';
import { isMiniKafkaError } from '../../../common/errors.ts';
import type { MiniKafkaError } from '../../../common/errors.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

const file = (text: string, source = 'server.properties'): BrokerConfigInput['configFile'] => ({ source, entries: parseProperties(text, source) });

function rejection(input: BrokerConfigInput): MiniKafkaError {
  try {
    resolveBrokerConfig(input);
  } catch (error) {
    if (isMiniKafkaError(error, 'INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

const entry = (config: BrokerConfig, name: string) => config.entries.get(name as never)!;

describe('resolveBrokerConfig', () => {
  it("resolveBrokerConfig() with no input gives Kafka's defaults as typed fields", () => {
    const config = resolveBrokerConfig();
    expect(config).toMatchObject({
      dataDir: path.resolve('./data'),
      numPartitions: 1,
      autoCreateTopicsEnable: true,
      defaultReplicationFactor: 1,
      offsetsTopicNumPartitions: 50,
      logRetentionCheckIntervalMs: 300_000,
      logFlushOffsetCheckpointIntervalMs: 60_000,
      socketRequestMaxBytes: 104_857_600,
      topicMaxPartitions: 1_000,
      httpMaxBodyBytes: 10_485_760,
      httpMaxRecordsPerRequest: 10_000,
      httpMaxConnections: 1_000,
      fetchMaxWaitMs: 30_000,
      warnings: [],
    });
    expect(config.topicDefaults.log.retentionMs).toBe(604_800_000);
    for (const configEntry of config.entries.values()) expect(configEntry.source).toBe('DEFAULT_CONFIG');
  });

  it('resolveBrokerConfig() lets the config file override defaults and each later --config override both', () => {
    const config = resolveBrokerConfig({
      configFile: file('num.partitions=4\nauto.create.topics.enable=false\nmessage.max.bytes=2000\n'),
      configArgs: ['num.partitions=6', 'message.max.bytes=3000', 'num.partitions=8'],
    });
    expect(config.numPartitions).toBe(8);
    expect(config.autoCreateTopicsEnable).toBe(false);
    expect(config.topicDefaults.log.maxMessageBytes).toBe(3000);
    expect(entry(config, 'num.partitions')).toMatchObject({ value: 8, source: 'STATIC_BROKER_CONFIG', origin: '--config' });
    expect(entry(config, 'auto.create.topics.enable')).toMatchObject({ value: false, origin: 'server.properties:2' });
  });

  it('resolveBrokerConfig() lets a later line of the config file win over an earlier one', () => {
    const config = resolveBrokerConfig({ configFile: file('num.partitions=2\n\nnum.partitions=5\n') });
    expect(entry(config, 'num.partitions')).toMatchObject({ value: 5, origin: 'server.properties:3' });
  });

  it('resolveBrokerConfig() takes the data dir from --data-dir, else log.dirs, else log.dir', () => {
    const root = makeTempDir();
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    const c = path.join(root, 'c');
    expect(resolveBrokerConfig({ configArgs: [`log.dir=${a}`] }).dataDir).toBe(a);
    expect(resolveBrokerConfig({ configArgs: [`log.dir=${a}`, `log.dirs=${b}`] }).dataDir).toBe(b);
    const flagged = resolveBrokerConfig({ configFile: file(`log.dirs=${b}`), configArgs: [`log.dir=${a}`], dataDir: c });
    expect(flagged.dataDir).toBe(c);
    expect(entry(flagged, 'log.dirs')).toMatchObject({ value: c, origin: '--data-dir' });
    expect(resolveBrokerConfig({ dataDir: 'relative/dir' }).dataDir).toBe(path.resolve('relative/dir'));
  });

  it('resolveBrokerConfig() keeps a comma in a --data-dir path rather than splitting it as log.dirs would', () => {
    expect(resolveBrokerConfig({ dataDir: '/srv/a,b' }).dataDir).toBe('/srv/a,b');
    expect(rejection({ configArgs: ['log.dirs=/srv/a,b'] }).message).toMatch(/exactly 1 item; it has 2/);
    expect(rejection({ dataDir: '  ' }).message).toMatch(/--data-dir must not be empty/);
  });

  it('resolveBrokerConfig() resolves retention from log.retention.ms over minutes over hours, whichever source set them', () => {
    const retentionMs = (input: BrokerConfigInput): number => resolveBrokerConfig(input).topicDefaults.log.retentionMs;
    expect(retentionMs({ configArgs: ['log.retention.hours=2'] })).toBe(7_200_000);
    expect(retentionMs({ configArgs: ['log.retention.minutes=3'] })).toBe(180_000);
    expect(retentionMs({ configFile: file('log.retention.ms=1234'), configArgs: ['log.retention.hours=2', 'log.retention.minutes=3'] })).toBe(1234);
    expect(retentionMs({ configFile: file('log.retention.minutes=3'), configArgs: ['log.retention.hours=2'] })).toBe(180_000);
    expect(retentionMs({ configArgs: ['log.retention.hours=-1'] })).toBe(-1);
    expect(retentionMs({ configArgs: ['log.retention.minutes=-1', 'log.retention.hours=5'] })).toBe(-1);
  });

  it('resolveBrokerConfig() resolves segment.ms from log.roll.ms over log.roll.hours', () => {
    expect(resolveBrokerConfig({ configArgs: ['log.roll.hours=1'] }).topicDefaults.log.segmentMs).toBe(3_600_000);
    expect(resolveBrokerConfig({ configArgs: ['log.roll.hours=1', 'log.roll.ms=500'] }).topicDefaults.log.segmentMs).toBe(500);
  });

  it('resolveBrokerConfig() reports every problem at once, each with where it was set', () => {
    const error = rejection({
      configFile: file('num.partitions=0\nlog.segment.byte=100\n', 'conf/server.properties'),
      configArgs: ['retention.ms=5', 'nonsense', 'default.replication.factor=3'],
    });
    expect(error.message).toMatch(/^5 configuration problems:\n/);
    expect(error.message).toContain('Invalid value "0" for configuration num.partitions (conf/server.properties:1): must be an integer in [1, 2147483647].');
    expect(error.message).toContain('Unknown broker configuration "log.segment.byte" (conf/server.properties:2): did you mean log.segment.bytes?');
    expect(error.message).toContain('retention.ms is a topic config');
    expect(error.message).toContain('--config "nonsense" must be name=value');
    expect(error.message).toContain('must be 1; minikafka is a single broker');
    expect((error.details.problems as unknown[]).length).toBe(5);
  });

  it('resolveBrokerConfig() throws a single problem as itself', () => {
    const error = rejection({ configArgs: ['log.message.timestamp.type=createtime'] });
    expect(error.message).toBe('Invalid value "createtime" for configuration log.message.timestamp.type (--config): must be one of CreateTime, LogAppendTime.');
  });

  it('resolveBrokerConfig() warns when message.max.bytes exceeds a limit that must carry or store a whole batch', () => {
    expect(resolveBrokerConfig({ configArgs: ['message.max.bytes=5000', 'log.segment.bytes=4000'] }).warnings).toEqual([
      'message.max.bytes (5000) is larger than log.segment.bytes (4000): a batch larger than a segment is rejected even though message.max.bytes allows it; raise log.segment.bytes or lower message.max.bytes.',
    ]);
    const warnings = resolveBrokerConfig({ configArgs: ['message.max.bytes=20000000', 'socket.request.max.bytes=10000000'] }).warnings;
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/larger than socket\.request\.max\.bytes \(10000000\)/);
    expect(warnings[1]).toMatch(/larger than minikafka\.http\.max\.body\.bytes \(10485760\)/);
  });

  it('resolveBrokerConfig() warns when a default partition count exceeds minikafka.topic.max.partitions', () => {
    const warnings = resolveBrokerConfig({ configArgs: ['minikafka.topic.max.partitions=10', 'num.partitions=12'] }).warnings;
    expect(warnings).toEqual([
      'num.partitions (12) is larger than minikafka.topic.max.partitions (10): topics created with that count would be refused; raise minikafka.topic.max.partitions or lower num.partitions.',
      'offsets.topic.num.partitions (50) is larger than minikafka.topic.max.partitions (10): topics created with that count would be refused; raise minikafka.topic.max.partitions or lower offsets.topic.num.partitions.',
    ]);
  });

  it('resolveBrokerConfig() returns a frozen config', () => {
    const config = resolveBrokerConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.topicDefaults.log)).toBe(true);
  });
});

describe('parseConfigArg', () => {
  it('parseConfigArg() splits at the first = so values may contain =', () => {
    expect(parseConfigArg('log.dirs=/data/x=y')).toEqual({ name: 'log.dirs', value: '/data/x=y' });
    expect(parseConfigArg('num.partitions=')).toEqual({ name: 'num.partitions', value: '' });
  });

  it('parseConfigArg() rejects an argument without a name or an =', () => {
    expect(() => parseConfigArg('num.partitions')).toThrow(/must be name=value/);
    expect(() => parseConfigArg('=3')).toThrow(/must be name=value/);
  });
});

describe('describeBrokerConfig', () => {
  it('describeBrokerConfig() lists every broker config once with its value, source and origin', () => {
    const described = describeBrokerConfig(resolveBrokerConfig({ configArgs: ['log.retention.hours=24'] }));
    expect(described.map((line) => line.name)).toEqual([...brokerConfigDefinitions.keys()]);
    expect(described.find((line) => line.name === 'log.retention.hours')).toMatchObject({ value: '24', source: 'STATIC_BROKER_CONFIG', origin: '--config' });
    expect(described.find((line) => line.name === 'log.retention.ms')).toMatchObject({ value: 'null', source: 'DEFAULT_CONFIG', origin: null });
  });
});

describe('loadBrokerConfig', () => {
  it('loadBrokerConfig() reads a real server.properties and applies --config after it', async () => {
    const dir = makeTempDir();
    const propertiesPath = path.join(dir, 'server.properties');
    fs.writeFileSync(propertiesPath, [
      '# Copied from a Kafka install, trimmed to what minikafka knows',
      `log.dirs=${path.join(dir, 'kafka-logs')}`,
      'num.partitions=3',
      'log.retention.hours=168',
      'log.segment.bytes=1073741824',
      'log.retention.check.interval.ms=300000',
      '',
    ].join('\n'));
    const config = await loadBrokerConfig({ configFilePath: propertiesPath, configArgs: ['num.partitions=5'] });
    expect(config.dataDir).toBe(path.join(dir, 'kafka-logs'));
    expect(config.numPartitions).toBe(5);
    expect(entry(config, 'log.retention.hours')).toMatchObject({ source: 'STATIC_BROKER_CONFIG', origin: `${propertiesPath}:4` });
  });

  it('loadBrokerConfig() names the file and line of a bad setting', async () => {
    const dir = makeTempDir();
    const propertiesPath = path.join(dir, 'server.properties');
    fs.writeFileSync(propertiesPath, 'num.partitions=1\nbroker.id=0\n');
    await expect(loadBrokerConfig({ configFilePath: propertiesPath })).rejects.toThrow(`Unknown broker configuration "broker.id" (${propertiesPath}:2)`);
  });

  it('loadBrokerConfig() without a config file resolves defaults and flags', async () => {
    const dir = makeTempDir();
    expect((await loadBrokerConfig({ dataDir: dir })).dataDir).toBe(dir);
  });
});
