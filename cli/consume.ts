/**
 * `minikafka consume TOPIC`: prints a topic's records, as `kafka-console-consumer.sh` does.
 *
 * Two ways of reading:
 * - without `--group`, partitions are read directly and nothing is committed
 *   (consume-partitions.ts): from the log end by default, or `--from-beginning`,
 *   `--partition P --offset N`, `--from-time T`;
 * - with `--group G`, the SDK's consumer joins the group, reads the partitions the group assigns
 *   it from the group's committed offsets (`--from-beginning`: from the log start where the group
 *   has none), and commits what it printed (consume-group.ts).
 *
 * Without `--follow` it stops at the end of the log (the log end offsets when it started); with
 * it, it waits for new records. `--max-messages N` stops after N records. Ctrl-C or SIGTERM
 * stops it cleanly: with a group it commits what was printed and leaves the group (so the other
 * members get its partitions at once), then exits 0; a second signal exits at once (130).
 *
 * Output (record-format.ts): values, one per line, with `--print-key`, `--print-offset`,
 * `--print-partition`, `--print-timestamp`, `--print-headers` as Kafka's formatter; or
 * `--format json` (and the global `--json`): one JSON object per record. In text mode the count
 * goes to stderr at the end ("Processed a total of N messages", as Kafka's tool says), so stdout
 * holds only records.
 */

import type { Command } from 'commander';
import { Option } from 'commander';
import type { BrokerOptions } from './broker-client.ts';
import { addBrokerOption, connectClient, resolveBrokerUrl, withBrokerErrors } from './broker-client.ts';
import { CliUserError } from './cli-errors.ts';
import type { CliContext } from './cli-io.ts';
import { EXIT_USAGE } from './cli-io.ts';
import type { StartPosition } from './consume-partitions.ts';
import { readPartitions } from './consume-partitions.ts';
import { parseMessageCount, parseOffset, parsePartition, parseTimestampMs } from './option-parsers.ts';
import type { OutputFormat } from './record-printer.ts';
import { RecordPrinter } from './record-printer.ts';

export interface ConsumeOptions extends BrokerOptions {
  readonly group?: string;
  readonly fromBeginning?: boolean;
  readonly partition?: number;
  readonly offset?: string;
  readonly fromTime?: string;
  readonly maxMessages?: number;
  readonly follow?: boolean;
  readonly format: OutputFormat;
  readonly printKey?: boolean;
  readonly printOffset?: boolean;
  readonly printPartition?: boolean;
  readonly printTimestamp?: boolean;
  readonly printHeaders?: boolean;
  readonly json?: boolean;
}

/** Exit code after a second Ctrl-C: the shell's code for "ended by SIGINT" (128 + 2). */
const EXIT_INTERRUPTED = 130;

const examples = `
Examples:
  $ minikafka consume orders --from-beginning
  $ minikafka consume orders --group billing --from-beginning
  $ minikafka consume orders --follow --print-key --print-offset
  $ minikafka consume orders --partition 2 --offset 40 --max-messages 10
  $ minikafka consume orders --from-time 2026-01-31T12:00:00Z --format json | jq .value

Without --follow it stops at the end of the log; with it, Ctrl-C stops (committing first with
--group). Without --group or --from-beginning it starts at the end: only new records.`;

export function registerConsume(program: Command, context: CliContext): void {
  addBrokerOption(program.command('consume'))
    .description("print a topic's records, alone or as a member of a consumer group (kafka-console-consumer)")
    .argument('<topic>', 'the topic')
    .option('--group <group>', 'join this consumer group: read its share of the partitions from its committed offsets, and commit')
    .option('--from-beginning', 'start at the log start offset (with --group: where the group has no committed offset)')
    .option('--partition <p>', 'read only this partition', parsePartition)
    .option('--offset <offset>', 'with --partition: start at this offset, or earliest, or latest')
    .option('--from-time <time>', 'start at the first record at or after this time (ISO 8601 or ms since the epoch)')
    .option('--max-messages <n>', 'stop after printing this many records', parseMessageCount)
    .option('--follow', 'keep waiting for new records at the end of the log, until Ctrl-C or SIGTERM')
    .addOption(new Option('--format <format>', 'text: values, one per line; json: one JSON object per record').choices(['text', 'json']).default('text'))
    .option('--print-key', 'text: print the key before the value')
    .option('--print-offset', 'text: print Offset:N')
    .option('--print-partition', 'text: print Partition:N')
    .option('--print-timestamp', 'text: print CreateTime:ms (or LogAppendTime:ms)')
    .option('--print-headers', 'text: print the headers as key:value,…')
    .addHelpText('after', examples)
    .action(async (topic: string, _options: unknown, command: Command) => {
      await runConsumeUntilSignal(topic, command.optsWithGlobals<ConsumeOptions>(), context);
    });
}

/** Runs consume with Ctrl-C and SIGTERM as its stop signal. */
async function runConsumeUntilSignal(topic: string, options: ConsumeOptions, context: CliContext): Promise<void> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await consume(topic, options, context, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The whole command, stopped early by `stop` (tests give their own signal).
 * @throws CliUserError for options that do not go together (exit 2) and for the broker's refusals
 */
export async function consume(topic: string, options: ConsumeOptions, context: CliContext, stop: AbortSignal): Promise<void> {
  const start = startPosition(options);
  const format: OutputFormat = options.json === true ? 'json' : options.format;
  const printer = new RecordPrinter(context.io, format, {
    printKey: options.printKey === true,
    printOffset: options.printOffset === true,
    printPartition: options.printPartition === true,
    printTimestamp: options.printTimestamp === true,
    printHeaders: options.printHeaders === true,
  }, options.maxMessages);
  const brokerUrl = resolveBrokerUrl(options);
  const client = await connectClient(options);
  const follow = options.follow === true;
  await withBrokerErrors(brokerUrl, async () => {
    if (options.group !== undefined) {
      const { readAsGroupMember } = await import('./consume-group.ts');
      await readAsGroupMember(client, { topic, groupId: options.group, fromBeginning: options.fromBeginning === true, follow }, printer, context.io, stop);
    } else {
      await readPartitions(client, { topic, partition: options.partition, start, follow }, printer, context.io, stop);
    }
  });
  await printer.flush();
  if (format === 'text') {
    const isStartAtEnd = options.group === undefined && start.kind === 'latest' && !follow;
    const hint = printer.count === 0 && isStartAtEnd ? ' (without --from-beginning, consume starts at the end of the log: add --from-beginning to read what is there, or --follow to wait for new records)' : '';
    context.io.writeErr(`Processed a total of ${printer.count} ${printer.count === 1 ? 'message' : 'messages'}${hint}\n`);
  }
}

/** Where reading starts, from the options; options that do not go together are a usage error. */
export function startPosition(options: ConsumeOptions): StartPosition {
  const starts = [options.fromBeginning === true && '--from-beginning', options.offset !== undefined && '--offset', options.fromTime !== undefined && '--from-time'].filter((x) => x !== false);
  if (starts.length > 1) throw new CliUserError(`${starts.join(' and ')} both say where to start: give one`, EXIT_USAGE);
  if (options.offset !== undefined && options.partition === undefined) throw new CliUserError('--offset needs --partition: an offset is a position in one partition', EXIT_USAGE);
  if (options.group !== undefined) {
    if (options.partition !== undefined) throw new CliUserError('--group and --partition do not go together: a group member reads the partitions the group assigns it', EXIT_USAGE);
    if (options.fromTime !== undefined) {
      throw new CliUserError("--group and --from-time do not go together: a group member starts at the group's committed offsets; move them first with `minikafka group reset-offsets GROUP --topic T --to-datetime T --execute`", EXIT_USAGE);
    }
  }
  if (options.fromBeginning === true) return { kind: 'earliest' };
  if (options.fromTime !== undefined) return { kind: 'time', timestampMs: usage(() => parseTimestampMs(options.fromTime as string), '--from-time') };
  if (options.offset !== undefined) {
    const text = options.offset.trim().toLowerCase();
    return { kind: 'offset', offset: text === 'earliest' || text === 'latest' ? text : usage(() => parseOffset(text), '--offset') };
  }
  return { kind: 'latest' };
}

function usage<T>(parse: () => T, option: string): T {
  try {
    return parse();
  } catch (error) {
    throw new CliUserError(`${option}: ${(error as Error).message}`, EXIT_USAGE);
  }
}
