/**
 * minikafka's public API, as `import { … } from 'minikafka'` gives it: the client SDK (producer,
 * consumer, admin, errors, serializers) and startBroker() for running a broker inside a program or a test.
 * Every name is listed: what is not here is internal and may change.
 */

export { MiniKafka, createClient } from './client/client.ts';
export type { ClientOptions, TransportSettings } from './client/client.ts';

export { Producer } from './client/producer/producer.ts';
export type { Message, MessageHeaders, ProducerBatchRecord, ProducerRecord, RecordMetadata } from './client/producer/producer.ts';
export type { Acks, ProducerConfig, ProducerOptions } from './client/producer/producer-config.ts';

export { Consumer } from './client/consumer/consumer.ts';
export type { PartitionLag, RunOptions, SeekTarget, SubscribeOptions } from './client/consumer/consumer.ts';
export type { AssignorName, AutoOffsetReset, ConsumerConfig, ConsumerOptions, Deserializer } from './client/consumer/consumer-config.ts';
export { ConsumerEvents } from './client/consumer/consumer-events.ts';
export type { ConsumerEvent, ConsumerEventListener, ConsumerEventName, ConsumerEventPayloads, GroupJoinPayload } from './client/consumer/consumer-events.ts';
export type { ConsumedHeaders, ConsumerMessage } from './client/consumer/fetched-batch.ts';
export { Batch } from './client/consumer/handler-payloads.ts';
export type { CommitOffset, EachBatchHandler, EachBatchPayload, EachMessageHandler, EachMessagePayload, OffsetsByTopic } from './client/consumer/handler-payloads.ts';
export type { TopicPartitions } from './client/consumer/paused-partitions.ts';

export { Admin } from './client/admin/admin.ts';
export type {
  CallOptions, ConfigEntry, GroupDescription, GroupMemberDescription, GroupPartitionDescription, GroupState, ListedGroup, PartitionDescription,
  ResetOffsetsRequest, ResetOffsetsResult, ResetPlanRow, ResetTarget, TopicConfig, TopicDescription, TopicMetadataDescription,
} from './client/admin/admin.ts';

export { serializers } from './client/serializers.ts';
export type { RecordField, Serde } from './client/serializers.ts';

export {
  BrokerError, BufferExhaustedError, ClientClosedError, ClientErrorCode, ConnectionError, DeliveryTimeoutError,
  InvalidArgumentError, MiniKafkaClientError, RequestTimeoutError, isRetriable,
} from './client/errors.ts';

export { Transport } from './client/transport.ts';
export type { HttpMethod, TransportOptions, TransportRequest, TransportResponse } from './client/transport.ts';
export type { RetryOptions } from './client/retry.ts';

export { errorCatalogue } from './common/errors.ts';
export type { ErrorCode } from './common/errors.ts';
export { partitionForKey, murmur2 } from './common/murmur2.ts';

export { startBroker } from './broker/broker.ts';
export type { RunningBroker, StartBrokerOptions } from './broker/broker.ts';
