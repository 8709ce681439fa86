/**
 * The TopicConfigResolver tests use: the broker's real one (broker/topic-config-resolver.ts) over
 * a broker config resolved from defaults plus the given `--config`-style overrides. Tests get
 * their resolver from `testTopicConfigs()` only.
 */

import { resolveBrokerConfig } from '../../broker/config/broker-config.ts';
import type { TopicConfigResolver } from '../../broker/core/topic-manager.ts';
import { topicConfigResolver } from '../../broker/topic-config-resolver.ts';

export interface TestTopicConfigOptions {
  /** num.partitions */
  readonly defaultPartitions?: number;
  /** Broker configs as `name=value`, as `--config` takes them. */
  readonly brokerConfigs?: readonly string[];
}

export function testTopicConfigs(options: TestTopicConfigOptions = {}): TopicConfigResolver {
  const configArgs = [...(options.brokerConfigs ?? [])];
  if (options.defaultPartitions !== undefined) configArgs.push(`num.partitions=${options.defaultPartitions}`);
  return topicConfigResolver(resolveBrokerConfig({ configArgs }));
}
