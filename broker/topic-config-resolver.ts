/**
 * The glue between the broker's config layer (broker/config/) and the core's TopicManager: given
 * the broker's resolved config, it validates a topic's overrides and turns them into the storage
 * engine's LogConfig and the produce path's rules.
 */

import type { PartitionRules } from './core/partition.ts';
import type { TopicConfigResolver } from './core/topic-manager.ts';
import type { BrokerConfig } from './config/broker-config.ts';
import { CleanupPolicy, MessageTimestampType, describeTopicConfig, resolveTopicConfig, validateTopicConfigOverrides } from './config/topic-config.ts';
import type { TopicConfigOverrides } from './config/topic-config.ts';

export function topicConfigResolver(broker: BrokerConfig): TopicConfigResolver {
  return {
    defaultPartitions: broker.numPartitions,
    maxPartitions: broker.topicMaxPartitions,
    validate: (raw, topic) => validateTopicConfigOverrides(raw, topic) as Record<string, string>,
    resolve(overrides) {
      const config = resolveTopicConfig(broker, overrides as TopicConfigOverrides);
      const rules: PartitionRules = {
        isCompacted: config.cleanupPolicy.split(',').includes(CleanupPolicy.COMPACT),
        isLogAppendTime: config.messageTimestampType === MessageTimestampType.LOG_APPEND_TIME,
        minInsyncReplicas: config.minInsyncReplicas,
      };
      return { log: config.log, rules };
    },
    describe: (overrides) => describeTopicConfig(broker, overrides as TopicConfigOverrides).map(({ name, value, source }) => ({ name, value, source })),
  };
}
