/**
 * The consumer: KafkaJS's `subscribe()`, `run({ eachMessage | eachBatch })`, `commitOffsets()`,
 * `seek()`, `pause()`/`resume()` and events, plus `for await (const message of consumer)`, as a
 * member of a consumer group over the broker's HTTP API.
 *
 *   subscribe({ topics })           which topics (names or RegExps, resolved now)
 *   run({ eachMessage })            join the group, then fetch and hand records over until close()
 *   for await (const m of consumer) the same, one record per loop turn (message-iterator.ts)
 *   close()                         finish the record in hand, commit, leave the group
 *
 * How it works is in consumer-runner.ts (the loop, delivery semantics), group-membership.ts
 * (join, sync, heartbeats), partition-fetcher.ts (fetching) and docs/sdk.md ("Consumer").
 *
 * Connections: two pools, so that long polls never delay a heartbeat: one for the group calls
 * (join and sync are long polls of their own; heartbeats and commits beside them) and one for
 * fetches (one long poll per assigned partition, up to FETCH_CONNECTIONS at once; beyond that,
 * partitions take turns, each fetch waiting at most fetchMaxWaitMs).
 */

import { ClientClosedError, InvalidArgumentError } from '../errors.ts';
import { TopicMetadata } from '../metadata.ts';
import type { Transport } from '../transport.ts';
import type { AutoOffsetReset, ConsumerConfig } from './consumer-config.ts';
import type { ConsumerEventListener, ConsumerEventName } from './consumer-events.ts';
import { ConsumerEventEmitter, ConsumerEvents } from './consumer-events.ts';
import type { PartitionLag } from './consumer-runner.ts';
import { ConsumerRunner } from './consumer-runner.ts';
import type { ConsumerMessage } from './fetched-batch.ts';
import { GroupCalls } from './group-calls.ts';
import type { CommitOffset, EachBatchHandler, EachMessageHandler } from './handler-payloads.ts';
import { MessageIterator } from './message-iterator.ts';
import { toOffset, toTopicPartitionOffset } from './offset-committer.ts';
import type { TopicPartitions } from './paused-partitions.ts';
import { PausedPartitions } from './paused-partitions.ts';

export type { PartitionLag } from './consumer-runner.ts';

export interface SubscribeOptions {
  /** Topic names, or RegExps matched against the topics that exist now. */
  readonly topics?: ReadonlyArray<string | RegExp>;
  /** KafkaJS's single-topic form. */
  readonly topic?: string | RegExp;
  /** KafkaJS's: true is autoOffsetReset 'earliest' for these topics, false 'latest'; omitted: the consumer's autoOffsetReset. */
  readonly fromBeginning?: boolean;
}

export interface RunOptions<K, V> {
  readonly eachMessage?: EachMessageHandler<K, V>;
  readonly eachBatch?: EachBatchHandler<K, V>;
  /** Default: the consumer's autoCommit (true). */
  readonly autoCommit?: boolean;
  /** Default: the consumer's autoCommitIntervalMs (5000). */
  readonly autoCommitIntervalMs?: number;
  /** Also commit once this many records were processed since the last commit. Default: none. */
  readonly autoCommitThreshold?: number;
  /** Default true: when eachBatch returns, its whole batch counts as processed. */
  readonly eachBatchAutoResolve?: boolean;
}

export interface SeekTarget {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read, as a string (KafkaJS) or a number. Give this or `timestamp`. */
  readonly offset?: string | number;
  /** Milliseconds since the epoch: the first record at or after it (the log end when there is none). */
  readonly timestamp?: number;
}

/** Up to this many fetches at once per consumer, each on its own connection (see the file header). */
export const FETCH_CONNECTIONS = 32;
/** Join and sync (one at a time), a heartbeat, a commit and an offset lookup beside them. */
export const GROUP_CONNECTIONS = 4;

type State = 'idle' | 'running' | 'closing' | 'closed';

export class Consumer<K = Buffer, V = Buffer> {
  /** KafkaJS's event names: `consumer.on(consumer.events.GROUP_JOIN, listener)`. */
  readonly events = ConsumerEvents;
  readonly #config: ConsumerConfig<K, V>;
  readonly #groupTransport: Transport;
  readonly #fetchTransport: Transport;
  readonly #calls: GroupCalls;
  readonly #emitter = new ConsumerEventEmitter();
  readonly #paused = new PausedPartitions();
  readonly #topics = new Set<string>();
  readonly #resets = new Map<string, AutoOffsetReset>();
  readonly #metadata: TopicMetadata;
  #runner: ConsumerRunner<K, V> | null = null;
  #state: State = 'idle';
  #closing: Promise<void> | null = null;
  #iterator: MessageIterator<K, V> | null = null;
  readonly #stopListeners: Array<(error: Error | null) => void> = [];

  /** Use `client.consumer({ groupId })`; the consumer owns both transports and closes them. */
  constructor(config: ConsumerConfig<K, V>, transports: { group: Transport; fetch: Transport }) {
    this.#config = config;
    this.#groupTransport = transports.group;
    this.#fetchTransport = transports.fetch;
    this.#calls = new GroupCalls(transports.group, config.groupId);
    this.#metadata = new TopicMetadata(transports.group, {
      allowAutoTopicCreation: config.allowAutoTopicCreation, metadataMaxAgeMs: 0, retry: config.retry, requestTimeoutMs: config.requestTimeoutMs,
    });
  }

  get config(): ConsumerConfig<K, V> {
    return this.#config;
  }

  get groupId(): string {
    return this.#config.groupId;
  }

  /** This member's id in its group; '' before it joined. */
  get memberId(): string {
    return this.#runner?.memberId ?? '';
  }

  /** The group generation this member is in; -1 before it joined. */
  get generationId(): number {
    return this.#runner?.generationId ?? -1;
  }

  /** Checks that the broker answers (`GET /healthz`). Optional, as KafkaJS's connect() is to call. */
  async connect(): Promise<void> {
    this.#assertNotClosed('connect()');
    await this.#groupTransport.request({ method: 'GET', path: '/healthz', timeoutMs: this.#config.requestTimeoutMs });
  }

  /**
   * Adds topics to read; call it before run(), once or more. A name that does not exist is
   * created as a producer would create it (allowAutoTopicCreation), else refused; a RegExp is
   * matched against the topics that exist now (as KafkaJS does).
   * @throws InvalidArgumentError after run(); BrokerError UNKNOWN_TOPIC_OR_PARTITION for a missing topic that may not be created
   * @example await consumer.subscribe({ topics: ['orders', /^audit-/], fromBeginning: true })
   */
  async subscribe(options: SubscribeOptions): Promise<void> {
    this.#assertNotClosed('subscribe()');
    if (this.#state !== 'idle') throw new InvalidArgumentError('subscribe() comes before run(): the group learns the topics when the consumer joins');
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('subscribe() takes { topics: [name | RegExp, …], fromBeginning? }');
    const wanted = options.topics ?? (options.topic === undefined ? [] : [options.topic]);
    if (!Array.isArray(wanted) || wanted.length === 0) throw new InvalidArgumentError('subscribe() needs at least one topic: { topics: [name | RegExp, …] }');
    const names: string[] = [];
    let existing: string[] | null = null;
    for (const topic of wanted) {
      if (topic instanceof RegExp) {
        existing ??= await this.#groupTransport.requestJson<string[]>({ method: 'GET', path: '/topics', timeoutMs: this.#config.requestTimeoutMs });
        names.push(...existing.filter((name) => topic.test(name)));
      } else if (typeof topic === 'string' && topic.length > 0) {
        await this.#metadata.fetchPartitionCount(topic);
        names.push(topic);
      } else {
        throw new InvalidArgumentError(`a topic to subscribe to is a non-empty string or a RegExp, got ${JSON.stringify(topic)}`, { topic: String(topic) });
      }
    }
    for (const name of names) {
      this.#topics.add(name);
      if (options.fromBeginning !== undefined) this.#resets.set(name, options.fromBeginning ? 'earliest' : 'latest');
    }
  }

  /**
   * Joins the group and hands every record of the assigned partitions to `eachMessage` (one at a
   * time, in offset order per partition) or `eachBatch` (one fetch's records of a partition at
   * a time), until close(). Resolves once the consumer has its first partitions; it runs on after.
   * An error thrown by the handler stops the consumer (consumer.crash).
   * @throws InvalidArgumentError without a handler, without subscribe(), or when already running; the broker's error when the first join fails
   * @example await consumer.run({ eachMessage: async ({ topic, partition, message }) => console.log(partition, message.offset, message.value) })
   */
  async run(options: RunOptions<K, V>): Promise<void> {
    if (options === null || typeof options !== 'object' || (typeof options.eachMessage !== 'function') === (typeof options.eachBatch !== 'function')) {
      throw new InvalidArgumentError('run() takes exactly one of eachMessage or eachBatch: run({ eachMessage: async ({ topic, partition, message }) => { … } })');
    }
    this.#assertNotClosed('run()');
    if (this.#state !== 'idle') throw new InvalidArgumentError('run() was already called (or a for await loop is reading this consumer); a consumer runs once');
    if (this.#topics.size === 0) throw new InvalidArgumentError('run() needs topics: call subscribe({ topics }) first (a RegExp that matched no topic leaves none)');
    const autoCommitIntervalMs = options.autoCommitIntervalMs ?? this.#config.autoCommitIntervalMs;
    const autoCommitThreshold = options.autoCommitThreshold ?? null;
    for (const [name, value] of [['autoCommitIntervalMs', autoCommitIntervalMs], ['autoCommitThreshold', autoCommitThreshold ?? 1]] as const) {
      if (!Number.isSafeInteger(value) || value < (name === 'autoCommitThreshold' ? 1 : 0)) throw new InvalidArgumentError(`run(): ${name} must be a whole number, got ${value}`, { [name]: value });
    }
    this.#state = 'running';
    const runner = new ConsumerRunner<K, V>({
      config: this.#config as ConsumerConfig<unknown, unknown>,
      calls: this.#calls,
      fetchTransport: this.#fetchTransport,
      events: this.#emitter,
      paused: this.#paused,
      topics: [...this.#topics].sort(),
      resetFor: (topic) => this.#resets.get(topic) ?? this.#config.autoOffsetReset,
    }, {
      eachMessage: options.eachMessage,
      eachBatch: options.eachBatch,
      autoCommit: options.autoCommit ?? this.#config.autoCommit,
      autoCommitIntervalMs,
      autoCommitThreshold,
      eachBatchAutoResolve: options.eachBatchAutoResolve ?? true,
    });
    this.#runner = runner;
    await runner.start((error) => this.#onRunnerStopped(error));
  }

  /**
   * The consumer as an async iterator: `for await (const message of consumer)`. Joins on the
   * first turn; a record counts as processed when its loop turn ends; leaving the loop closes
   * the consumer (message-iterator.ts has the details).
   * @example for await (const message of consumer) { console.log(message.offset); if (done) break; }
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<ConsumerMessage<K, V>> {
    if (this.#iterator !== null) throw new InvalidArgumentError('a consumer gives out one iterator: one for await loop reads it');
    this.#iterator = new MessageIterator<K, V>({
      start: (eachMessage) => this.run({ eachMessage: eachMessage as EachMessageHandler<K, V> }),
      close: () => this.close(),
      onStopped: (listener) => this.#stopListeners.push(listener),
    });
    return this.#iterator;
  }

  /**
   * Commits offsets (each the next offset to read: the last processed + 1) as this member, at
   * its generation. Before run(), or with no live member, it commits without a generation, which
   * the broker takes only while the group has no members.
   * @throws the broker's ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID when a rebalance went by (the consumer rejoins), REBALANCE_IN_PROGRESS while it rejoins
   * @example await consumer.commitOffsets([{ topic: 'orders', partition: 0, offset: '42' }])
   */
  async commitOffsets(offsets: ReadonlyArray<CommitOffset>): Promise<void> {
    this.#assertNotClosed('commitOffsets()');
    if (!Array.isArray(offsets)) throw new InvalidArgumentError('commitOffsets() takes [{ topic, partition, offset }]');
    const checked = offsets.map(toTopicPartitionOffset);
    if (checked.length === 0) return;
    if (this.#runner !== null) return this.#runner.commitOffsets(checked);
    await this.#calls.commit('', -1, checked, this.#config.requestTimeoutMs);
  }

  /**
   * Moves a partition's position: the next record handed out is at `offset`, or the first at or
   * after `timestamp`. Records of that partition already fetched, and the rest of a batch in the
   * handler, are not handed out. With auto-commit the new position is committed at the next
   * auto-commit even before a record is processed (as Java's consumer). A partition not assigned
   * now is sought when an assignment brings it.
   * @throws InvalidArgumentError before run(), or for a bad offset
   * @example await consumer.seek({ topic: 'orders', partition: 0, offset: '0' })
   */
  async seek(target: SeekTarget): Promise<void> {
    this.#assertNotClosed('seek()');
    const runner = this.#runner;
    if (runner === null) throw new InvalidArgumentError('seek() comes after run(): the partition must belong to this consumer (KafkaJS: "consumer#run must be called first")');
    if (target === null || typeof target !== 'object' || typeof target.topic !== 'string' || !Number.isSafeInteger(target.partition) || target.partition < 0) {
      throw new InvalidArgumentError('seek() takes { topic, partition, offset } or { topic, partition, timestamp }');
    }
    if ((target.offset === undefined) === (target.timestamp === undefined)) throw new InvalidArgumentError('seek() takes either offset or timestamp (one of them)');
    if (target.offset !== undefined) {
      runner.seek(target.topic, target.partition, toOffset(target.offset, 'seek()'));
      return;
    }
    const timestampMs = target.timestamp!;
    if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw new InvalidArgumentError(`seek(): timestamp must be milliseconds since the epoch, got ${timestampMs}`, { timestamp: timestampMs });
    const found = await this.#calls.offsetForTimestamp(target.topic, target.partition, timestampMs, this.#config.requestTimeoutMs);
    const offset = found >= 0 ? found : (await this.#calls.logOffsets(target.topic, target.partition, this.#config.requestTimeoutMs)).highWatermark;
    runner.seek(target.topic, target.partition, offset);
  }

  /**
   * Stops fetching the partitions named (a topic alone: all its partitions, also later ones)
   * until resume(). A record of a paused partition in the handler finishes; the rest of its batch
   * is not handed out and comes after resume(). Pauses last across rebalances.
   * @example consumer.pause([{ topic: 'orders', partitions: [0] }])
   */
  pause(topics: ReadonlyArray<TopicPartitions>): void {
    this.#changePaused(topics, 'pause');
  }

  /** Fetches again what pause() stopped, from the position where it stopped. */
  resume(topics: ReadonlyArray<TopicPartitions>): void {
    this.#changePaused(topics, 'resume');
  }

  /** The assigned partitions that are paused. */
  paused(): Array<{ topic: string; partitions: number[] }> {
    return this.#runner?.pausedAssigned() ?? [];
  }

  /** This member's partitions in its current generation (none while it rejoins). */
  assignment(): Array<{ topic: string; partitions: number[] }> {
    return this.#runner?.assignment() ?? [];
  }

  /**
   * Per assigned partition: the position (the next offset to hand out), the committed offset,
   * and the high watermark and lag from the last fetch answer (no request is made).
   */
  lag(): PartitionLag[] {
    return this.#runner?.lag() ?? [];
  }

  /**
   * Listens to an event (`consumer.events`); returns a function that removes the listener.
   * Without a consumer.crash listener (and no for await loop), a crash is thrown as an uncaught
   * exception, as an EventEmitter's 'error' is.
   * @example consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => console.log(payload.memberAssignment))
   */
  on<E extends ConsumerEventName>(type: E, listener: ConsumerEventListener<E>): () => void {
    return this.#emitter.on(type, listener);
  }

  /**
   * Stops: the record in the handler finishes, nothing more is handed out, the positions are
   * committed (auto-commit), the group is left (its partitions move to the others at once, not
   * after the session timeout), the connections are closed. Called from inside a handler it
   * resolves at once and the consumer stops when the handler returns. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** KafkaJS's name for close(). */
  disconnect(): Promise<void> {
    return this.close();
  }

  /** KafkaJS's stop(): here the same as close() (a consumer runs once). */
  stop(): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    const runner = this.#runner;
    if (this.#state === 'idle') {
      this.#state = 'closed';
      await this.#closeTransports();
      return;
    }
    this.#state = 'closing';
    // Synchronously, before any await: a for await loop's return() relies on the stop being seen at once.
    this.#iterator?.release();
    const stopped = runner!.stop();
    if (runner!.isInHandler) return;
    await stopped;
  }

  async #onRunnerStopped(error: Error | null): Promise<void> {
    this.#state = 'closed';
    this.#closing ??= Promise.resolve();
    await this.#closeTransports();
    if (error !== null) this.#crash(error);
    this.#emitter.emit('consumer.stop', {});
    this.#emitter.emit('consumer.disconnect', {});
    for (const listener of this.#stopListeners.splice(0)) listener(error);
  }

  #crash(error: Error): void {
    const hasListener = this.#emitter.listenerCount('consumer.crash') > 0 || this.#stopListeners.length > 0;
    this.#emitter.emit('consumer.crash', { groupId: this.#config.groupId, error, restart: false });
    if (!hasListener) {
      setImmediate(() => {
        throw error;
      });
    }
  }

  async #closeTransports(): Promise<void> {
    await Promise.all([this.#fetchTransport.destroy(), this.#groupTransport.close()]);
  }

  #changePaused(topics: ReadonlyArray<TopicPartitions>, change: 'pause' | 'resume'): void {
    if (!Array.isArray(topics)) throw new InvalidArgumentError(`${change}() takes [{ topic, partitions? }]`);
    for (const entry of topics) {
      if (entry === null || typeof entry !== 'object' || typeof entry.topic !== 'string') throw new InvalidArgumentError(`${change}() takes [{ topic, partitions? }], got ${JSON.stringify(entry)}`);
      if (entry.partitions !== undefined && (!Array.isArray(entry.partitions) || entry.partitions.some((p: number) => !Number.isSafeInteger(p) || p < 0))) {
        throw new InvalidArgumentError(`${change}(): partitions of ${entry.topic} must be whole numbers ≥ 0`, { topic: entry.topic });
      }
      if (change === 'pause') this.#paused.pause(entry.topic, entry.partitions);
      else this.#paused.resume(entry.topic, entry.partitions);
    }
    this.#runner?.applyPaused();
  }

  #assertNotClosed(call: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') throw new ClientClosedError(`${call}: the consumer is closed; create a new one with client.consumer({ groupId })`);
  }
}
