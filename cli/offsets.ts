/**
 * `minikafka offsets TOPIC [--time earliest|latest|T] [--partition P]`: what `kafka-get-offsets.sh`
 * does, through the SDK's admin client.
 *
 * Without --time it shows both ends of each partition's log: the earliest offset (the log start
 * offset: retention and delete-records move it up) and the latest (the high watermark: the offset
 * the next record gets). With --time it shows one offset per partition: `earliest`, `latest`, or
 * for a time the first offset whose record timestamp is at or after it (the latest offset when no
 * record is that recent, as KafkaJS's fetchTopicOffsetsByTimestamp answers).
 *
 * JSON: `{ "topic", "partitions": [{ "partition", "earliest", "latest" }] }` without --time,
 * `{ "topic", "time", "partitions": [{ "partition", "offset" }] }` with it; offsets are numbers.
 */

import type { Command } from 'commander';
import type { BrokerOptions } from './broker-client.ts';
import { addBrokerOption, withAdmin } from './broker-client.ts';
import { CliUserError } from './cli-errors.ts';
import type { CliContext } from './cli-io.ts';
import { EXIT_USAGE } from './cli-io.ts';
import { parsePartition, parseTimestampMs } from './option-parsers.ts';
import { formatTable } from './table.ts';

interface OffsetsOptions extends BrokerOptions {
  readonly time?: string;
  readonly partition?: number;
  readonly json?: boolean;
}

/** --time as given: one end of the log, or a point in time in ms since the epoch. */
export type OffsetTime = 'earliest' | 'latest' | { readonly timestampMs: number };

const examples = `
Examples:
  $ minikafka offsets orders
  $ minikafka offsets orders --time latest
  $ minikafka offsets orders --time 2026-01-31T12:00:00Z
  $ minikafka offsets orders --partition 0 --json`;

export function registerOffsets(program: Command, context: CliContext): void {
  addBrokerOption(program.command('offsets'))
    .description("print each partition's earliest and latest offsets, or the offset at a time (kafka-get-offsets)")
    .argument('<topic>', 'the topic')
    .option('--time <when>', 'earliest, latest, an ISO 8601 time or milliseconds since the epoch')
    .option('--partition <p>', 'only this partition', parsePartition)
    .addHelpText('after', examples)
    .action(async (topic: string, _options: unknown, command: Command) => {
      await printOffsets(topic, command.optsWithGlobals<OffsetsOptions>(), context);
    });
}

export function parseOffsetTime(text: string): OffsetTime {
  const lower = text.trim().toLowerCase();
  if (lower === 'earliest' || lower === 'latest') return lower;
  return { timestampMs: parseTimestampMs(text) };
}

export async function printOffsets(topic: string, options: OffsetsOptions, context: CliContext): Promise<void> {
  let time: OffsetTime | null = null;
  if (options.time !== undefined) {
    try {
      time = parseOffsetTime(options.time);
    } catch (error) {
      throw new CliUserError(`--time: ${(error as Error).message}`, EXIT_USAGE);
    }
  }
  const result = await withAdmin(options, async (admin) => {
    const ends = await admin.fetchTopicOffsets(topic);
    const atTime = time !== null && typeof time === 'object' ? await admin.fetchTopicOffsetsByTimestamp(topic, time.timestampMs) : null;
    return { ends, atTime };
  });

  const selected = (partition: number): boolean => options.partition === undefined || options.partition === partition;
  if (options.partition !== undefined && !result.ends.some((p) => p.partition === options.partition)) {
    throw new CliUserError(`topic ${topic} has no partition ${options.partition}: it has partitions 0 to ${result.ends.length - 1} (UNKNOWN_TOPIC_OR_PARTITION)`);
  }
  const ends = result.ends.filter((p) => selected(p.partition)).sort((a, b) => a.partition - b.partition);
  if (time === null) {
    const partitions = ends.map((p) => ({ partition: p.partition, earliest: Number(p.low), latest: Number(p.high) }));
    await context.io.writeOut(options.json === true
      ? JSON.stringify({ topic, partitions }) + '\n'
      : formatTable(['TOPIC', 'PARTITION', 'EARLIEST', 'LATEST'], partitions.map((p) => [topic, p.partition, p.earliest, p.latest])));
    return;
  }
  const offsetOf = (partition: number, low: string, high: string): number => {
    if (time === 'earliest') return Number(low);
    if (time === 'latest') return Number(high);
    return Number(result.atTime?.find((p) => p.partition === partition)?.offset ?? high);
  };
  const partitions = ends.map((p) => ({ partition: p.partition, offset: offsetOf(p.partition, p.low, p.high) }));
  const shownTime = typeof time === 'object' ? new Date(time.timestampMs).toISOString() : time;
  await context.io.writeOut(options.json === true
    ? JSON.stringify({ topic, time: typeof time === 'object' ? time.timestampMs : time, partitions }) + '\n'
    : formatTable(['TOPIC', 'PARTITION', `OFFSET (${shownTime})`], partitions.map((p) => [topic, p.partition, p.offset])));
}
