/**
 * The consumer's instrumentation events, named and shaped as KafkaJS's (`consumer.events.GROUP_JOIN`
 * is 'consumer.group_join', and a listener gets `{ id, type, timestamp, payload }`), so a
 * KafkaJS listener moves over unchanged. Only events this consumer really has are here:
 *
 * | event                      | when                                                               |
 * |----------------------------|--------------------------------------------------------------------|
 * | `consumer.group_join`      | a join and sync completed: a generation and this member's partitions |
 * | `consumer.rebalancing`     | the group is rebalancing: this member stops fetching, commits, rejoins |
 * | `consumer.heartbeat`       | a heartbeat was answered                                           |
 * | `consumer.commit_offsets`  | offsets were committed (auto-commit or commitOffsets())            |
 * | `consumer.crash`           | the consumer stopped on an error (its handler's, or the broker's)  |
 * | `consumer.stop`            | the consumer stopped consuming (close(), or after a crash)         |
 * | `consumer.disconnect`      | its connections are closed                                         |
 *
 * `on()` returns a function that removes the listener, as KafkaJS's does. A listener that throws
 * does not stop the consumer: its error is thrown on a later tick, as an uncaught exception.
 */

import { EventEmitter } from 'node:events';
import type { TopicPartitionOffset } from './group-calls.ts';

export const ConsumerEvents = Object.freeze({
  GROUP_JOIN: 'consumer.group_join',
  REBALANCING: 'consumer.rebalancing',
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  CRASH: 'consumer.crash',
  STOP: 'consumer.stop',
  DISCONNECT: 'consumer.disconnect',
} as const);

export type ConsumerEventName = (typeof ConsumerEvents)[keyof typeof ConsumerEvents];

export interface GroupJoinPayload {
  readonly groupId: string;
  readonly memberId: string;
  readonly leaderId: string;
  readonly isLeader: boolean;
  readonly generationId: number;
  /** The assignor the group voted for. */
  readonly groupProtocol: string;
  /** This member's partitions: `{ topic: [partition, …] }`. */
  readonly memberAssignment: Readonly<Record<string, number[]>>;
  /** Milliseconds from the start of the join to the assignment. */
  readonly duration: number;
}

export interface ConsumerEventPayloads {
  'consumer.group_join': GroupJoinPayload;
  'consumer.rebalancing': { readonly groupId: string; readonly memberId: string };
  'consumer.heartbeat': { readonly groupId: string; readonly memberId: string; readonly groupGenerationId: number };
  'consumer.commit_offsets': {
    readonly groupId: string;
    readonly memberId: string;
    readonly groupGenerationId: number;
    /** KafkaJS's shape; offsets (the next offset to read) as strings. */
    readonly topics: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string }> }>;
  };
  /** `restart` is always false: a crashed consumer stays stopped (make a new one). */
  'consumer.crash': { readonly groupId: string; readonly error: Error; readonly restart: false };
  'consumer.stop': Record<string, never>;
  'consumer.disconnect': Record<string, never>;
}

export interface ConsumerEvent<E extends ConsumerEventName> {
  readonly id: number;
  readonly type: E;
  readonly timestamp: number;
  readonly payload: ConsumerEventPayloads[E];
}

export type ConsumerEventListener<E extends ConsumerEventName> = (event: ConsumerEvent<E>) => void;

const EVENT_NAMES: ReadonlySet<string> = new Set(Object.values(ConsumerEvents));

export class ConsumerEventEmitter {
  readonly #emitter = new EventEmitter();
  #nextId = 0;

  on<E extends ConsumerEventName>(type: E, listener: ConsumerEventListener<E>): () => void {
    if (!EVENT_NAMES.has(type)) throw new TypeError(`no consumer event ${JSON.stringify(type)}; the events are ${[...EVENT_NAMES].join(', ')}`);
    this.#emitter.on(type, listener);
    return () => this.#emitter.off(type, listener);
  }

  listenerCount(type: ConsumerEventName): number {
    return this.#emitter.listenerCount(type);
  }

  emit<E extends ConsumerEventName>(type: E, payload: ConsumerEventPayloads[E]): void {
    const event: ConsumerEvent<E> = { id: this.#nextId++, type, timestamp: Date.now(), payload };
    for (const listener of this.#emitter.listeners(type) as Array<ConsumerEventListener<E>>) {
      try {
        listener(event);
      } catch (error) {
        // The consumer's own state must not depend on a listener; the error still surfaces.
        setImmediate(() => {
          throw error;
        });
      }
    }
  }
}

/** KafkaJS's commit event shape from a list of committed offsets. */
export function committedTopics(offsets: ReadonlyArray<TopicPartitionOffset>): ConsumerEventPayloads['consumer.commit_offsets']['topics'] {
  const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const { topic, partition, offset } of offsets) {
    let partitions = byTopic.get(topic);
    if (partitions === undefined) byTopic.set(topic, (partitions = []));
    partitions.push({ partition, offset: String(offset) });
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}
