/**
 * `minikafka consume TOPIC --group G`: reading as a member of a consumer group, with the SDK's
 * consumer (client/consumer/consumer.ts), as Kafka's console consumer does with --group.
 *
 * The group decides which partitions this member reads (others running `consume --group G` at the
 * same time share them) and where: each partition starts at the group's committed offset, or,
 * where the group has none, at the log end (`--from-beginning`: the log start), Kafka's
 * auto.offset.reset. What is printed is committed: every 5 s (auto-commit) and when it stops.
 *
 * When it stops:
 * - without `--follow`, once every partition the group gave it has reached the log end offset it
 *   had when consume started (a member given no partition stops at once, with a note);
 * - at `--max-messages`; with `--follow`, only then or at the stop signal (Ctrl-C, SIGTERM).
 *
 * Records at or past that end (produced after the start), and records after the last one printed
 * under --max-messages, are not marked processed (eachBatch without auto-resolve), so the commit
 * never covers a record that was not printed: the next run of the group starts with them.
 *
 * Stopping is the consumer's close(): the record in hand finishes, the positions are committed,
 * the member leaves the group (its partitions move to the other members at once), exit 0.
 */

import type { MiniKafka } from '../client/client.ts';
import type { ConsumerMessage } from '../client/consumer/fetched-batch.ts';
import type { CliIo } from './cli-io.ts';
import type { ConsumedRecord, TimestampTypeName } from './record-format.ts';
import type { RecordPrinter } from './record-printer.ts';

export interface GroupReadOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly fromBeginning: boolean;
  readonly follow: boolean;
}

/** How often the caught-up check runs besides after each batch: it notices partitions that have nothing to read. */
const CAUGHT_UP_CHECK_INTERVAL_MS = 100;

export async function readAsGroupMember(client: MiniKafka, options: GroupReadOptions, printer: RecordPrinter, io: CliIo, stop: AbortSignal): Promise<void> {
  const { topic } = options;
  const { endOffsets, timestampType } = await describeStart(client, topic);
  const consumer = client.consumer({ groupId: options.groupId, autoOffsetReset: options.fromBeginning ? 'earliest' : 'latest', allowAutoTopicCreation: false });

  let finish!: (error: Error | null) => void;
  const finished = new Promise<Error | null>((resolve) => (finish = resolve));
  let assignment: number[] | null = null;
  let hasNotedEmpty = false;

  const isCaughtUp = (): boolean => {
    if (options.follow || assignment === null) return false;
    const positions = new Map(consumer.lag().filter((p) => p.topic === topic).map((p) => [p.partition, p.offset]));
    return assignment.every((partition) => (positions.get(partition) ?? -1) >= (endOffsets.get(partition) ?? 0));
  };
  const checkDone = (): void => {
    if (printer.isFull || isCaughtUp()) finish(null);
  };

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assignment = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    if (assignment.length === 0 && !hasNotedEmpty) {
      hasNotedEmpty = true;
      io.writeErr(`note: group ${options.groupId} gave this member no partition of ${topic}: its other members have them all (a topic's partition is read by one member of a group)\n`);
    }
  });
  consumer.on(consumer.events.REBALANCING, () => (assignment = null));
  consumer.on(consumer.events.CRASH, ({ payload }) => finish(payload.error));
  const onStop = (): void => finish(null);
  stop.addEventListener('abort', onStop, { once: true });
  const timer = setInterval(checkDone, CAUGHT_UP_CHECK_INTERVAL_MS);

  try {
    await consumer.subscribe({ topics: [topic] });
    const running = consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isStale }) => {
        const end = options.follow ? Number.POSITIVE_INFINITY : (endOffsets.get(batch.partition) ?? 0);
        for (const message of batch.messages) {
          if (isStale() || printer.isFull || Number(message.offset) >= end) break;
          printer.print(toConsumedRecord(message, timestampType));
          resolveOffset(message.offset);
        }
        await printer.flush();
        checkDone();
      },
    });
    // run() resolves once the member has its first partitions; a stop signal before that must not wait for the join.
    const outcome = await Promise.race([running.then(() => null), finished]);
    const error = outcome ?? (await finished);
    if (error !== null) throw error;
  } finally {
    clearInterval(timer);
    stop.removeEventListener('abort', onStop);
    // Commits what was printed and leaves the group; safe after a crash (the consumer is closed then).
    await consumer.close();
  }
}

/** The topic's log end offsets now (where a run without --follow stops) and its timestamp type; also checks that it exists. */
async function describeStart(client: MiniKafka, topic: string): Promise<{ endOffsets: Map<number, number>; timestampType: TimestampTypeName }> {
  const admin = client.admin();
  try {
    const description = await admin.describeTopic(topic);
    const type = description.configs.find((config) => config.name === 'message.timestamp.type')?.value;
    return {
      endOffsets: new Map(description.partitions.map((p) => [p.partition, p.highWatermark])),
      // The topic's setting decides how the broker stamps batches; the SDK consumer does not hand out the batch's own bit.
      timestampType: type === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    };
  } finally {
    await admin.close();
  }
}

function toConsumedRecord(message: ConsumerMessage<Buffer, Buffer>, timestampType: TimestampTypeName): ConsumedRecord {
  const headers: Array<{ key: string; value: Buffer | null }> = [];
  for (const [key, value] of Object.entries(message.headers)) {
    if (Array.isArray(value)) for (const one of value) headers.push({ key, value: one });
    else headers.push({ key, value: value ?? null });
  }
  return {
    topic: message.topic,
    partition: message.partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType,
    key: message.key,
    value: message.value,
    headers,
  };
}
