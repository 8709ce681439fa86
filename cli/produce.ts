/**
 * `minikafka produce TOPIC`: records from lines of stdin or of a file, sent with the SDK's
 * producer (batched, idempotent unless --acks 0 or 1), as `kafka-console-producer.sh` does.
 *
 * Input formats (produce-input.ts): `line` (a line is a value; `--key-separator` splits off a
 * key), `json` (a line is a JSON document, checked; `--key-field` picks the key), `csv` (a row
 * after the header row becomes the JSON object of its columns; `--key-column` picks the key).
 * `--header name=value` adds a header to every record, `--partition` sends them all to one
 * partition, `--acks` is Kafka's.
 *
 * Every line is its own send(): the producer still batches them (lingerMs, batchBytes), and a
 * failure then names the exact line. At most 10,000 sends are waited on at once, and the
 * producer's buffer memory bounds the bytes, so a large file streams through in bounded memory.
 *
 * The first line that fails (a line that does not parse, or a record the broker or the producer
 * refused) stops the input: records sent before it are still delivered, then the command exits 1
 * with one line saying which line failed, why, and how many records were acknowledged.
 *
 * On success it prints a summary: records, bytes (keys and values), time, rate, and per
 * partition the records and their offsets. `--json` prints the same as one JSON document. With
 * `--file` and stderr on a terminal, a progress line (progress-bar.ts) runs meanwhile.
 */

import fs from 'node:fs';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Acks } from '../client/producer/producer-config.ts';
import type { Producer, RecordMetadata } from '../client/producer/producer.ts';
import { MiniKafkaClientError } from '../client/errors.ts';
import type { BrokerOptions } from './broker-client.ts';
import { addBrokerOption, connectClient, describeClientError, resolveBrokerUrl, withBrokerErrors } from './broker-client.ts';
import { CliUserError } from './cli-errors.ts';
import type { CliContext, CliIo } from './cli-io.ts';
import { EXIT_FAILURE, EXIT_USAGE, processIo } from './cli-io.ts';
import { collect, parseKeyValue, parsePartition } from './option-parsers.ts';
import type { InputFormat, InputParser } from './produce-input.ts';
import { INPUT_FORMATS, InputLineError, createInputParser } from './produce-input.ts';
import { ProgressBar, formatBytes, formatCount } from './progress-bar.ts';
import { formatTable } from './table.ts';

interface ProduceOptions extends BrokerOptions {
  readonly file?: string;
  readonly format: InputFormat;
  readonly keySeparator?: string;
  readonly keyColumn?: string;
  readonly keyField?: string;
  readonly header?: string[];
  readonly acks: string;
  readonly partition?: number;
  /** commander's --no-progress: false when given. */
  readonly progress: boolean;
  readonly json?: boolean;
}

/** Sends waited on at once; the producer's buffer memory (32 MiB) bounds their bytes as well. */
const MAX_SENDS_IN_FLIGHT = 10_000;
/** A broker that goes away mid-stream is retried this long before the command gives up (Kafka's default is 120 s). */
const DELIVERY_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

const examples = `
Examples:
  $ echo 'hello' | minikafka produce greetings
  $ printf 'alice:{"total":12}\\nbob:{"total":7}\\n' | minikafka produce orders --key-separator :
  $ minikafka produce orders --file orders.jsonl --format json --key-field customer
  $ minikafka produce people --file people.csv --format csv --key-column id
  $ minikafka produce audit --header source=import --header trace=42 --acks 1 < events.txt
  $ minikafka produce orders --file big.txt --json          the summary as JSON

Typing into the terminal works too: one record per line, Ctrl-D to finish.
A line that fails stops the command with exit code 1 and names the line.`;

export function registerProduce(program: Command, context: CliContext): void {
  addBrokerOption(program.command('produce'))
    .description('send records read from stdin or a file, one per line (kafka-console-producer)')
    .argument('<topic>', 'the topic (created if the broker auto-creates topics)')
    .option('--file <path>', 'read this file instead of stdin')
    .addOption(new Option('--format <format>', 'line: a line is a value; json: a line is a JSON document; csv: a row is a JSON object of its columns').choices(INPUT_FORMATS).default('line'))
    .option('--key-separator <sep>', 'split each line into key and value at the first <sep> (line and json formats)')
    .option('--key-field <name>', 'json: the key is this field of each object')
    .option('--key-column <name>', 'csv: the key is this column')
    .option('--header <name=value>', 'add this header to every record; repeatable', collect)
    .addOption(new Option('--acks <acks>', 'all: written (idempotent, the default); 1: written (not idempotent); 0: sent, not confirmed').choices(['all', '-1', '1', '0']).default('all'))
    .option('--partition <p>', 'send every record to this partition instead of the partitioner\'s choice', parsePartition)
    .option('--no-progress', 'no progress line, even on a terminal')
    .addHelpText('after', examples)
    .action(async (topic: string, _options: unknown, command: Command) => {
      await produce(topic, command.optsWithGlobals<ProduceOptions>(), context);
    });
}

/** Where the lines come from. */
interface Input {
  readonly stream: Readable;
  /** Known for a regular file: the progress line's total. */
  readonly sizeBytes: number | null;
  readonly isFile: boolean;
}

/** What the broker acknowledged, per partition. */
interface PartitionTally {
  records: number;
  firstOffset: number | null;
  lastOffset: number | null;
}

export interface ProduceSummary {
  readonly topic: string;
  readonly records: number;
  /** Bytes of keys and values (UTF-8), the payload the records carry. */
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly recordsPerSecond: number;
  /** Offsets are null with --acks 0: the broker does not report them. */
  readonly partitions: Array<{ partition: number; records: number; firstOffset: number | null; lastOffset: number | null }>;
}

export async function produce(topic: string, options: ProduceOptions, context: CliContext): Promise<void> {
  const parser = usage(() => createInputParser({ format: options.format, keySeparator: options.keySeparator, keyColumn: options.keyColumn, keyField: options.keyField }));
  const headers = usage(() => toHeaders(options.header ?? []));
  const acks = toAcks(options.acks);
  const input = await openInput(options.file);
  const brokerUrl = resolveBrokerUrl(options);
  const client = await connectClient(options);
  const producer = client.producer({ acks, deliveryTimeoutMs: DELIVERY_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const startMs = performance.now();
  const partitions = new Map<number, PartitionTally>();
  let records = 0;
  let bytes = 0;
  let bytesRead = 0;

  const progress = options.progress && input.isFile && isStderrTerminal(context.io)
    ? new ProgressBar((text) => context.io.writeErr(text), () => ({ bytesDone: bytesRead, bytesTotal: input.sizeBytes, records, elapsedMs: performance.now() - startMs }), terminalColumns)
    : null;
  if (!input.isFile && input.stream === process.stdin && process.stdin.isTTY === true && context.io === processIo) {
    context.io.writeErr(`Type records for ${topic}, one per line; Ctrl-D sends the last ones and ends.\n`);
  }

  const acknowledge = (metadata: RecordMetadata | undefined, recordBytes: number): void => {
    records++;
    bytes += recordBytes;
    if (metadata === undefined) return;
    const offset = Number(metadata.baseOffset);
    const tally = partitions.get(metadata.partition) ?? { records: 0, firstOffset: null, lastOffset: null };
    tally.records++;
    if (offset >= 0) {
      tally.firstOffset = tally.firstOffset === null ? offset : Math.min(tally.firstOffset, offset);
      tally.lastOffset = tally.lastOffset === null ? offset : Math.max(tally.lastOffset, offset);
    }
    partitions.set(metadata.partition, tally);
  };

  let outcome: SendOutcome;
  progress?.start();
  try {
    // An idempotent producer asks for its producer id here: a broker that is not there shows up before any input is read.
    await withBrokerErrors(brokerUrl, () => producer.connect());
    outcome = await sendLines(input.stream, parser, producer, { topic, headers, partition: options.partition }, acknowledge, (chunkBytes) => void (bytesRead += chunkBytes));
  } finally {
    progress?.stop();
    await producer.close({ timeoutMs: CLOSE_TIMEOUT_MS });
    input.stream.destroy();
  }

  const elapsedMs = performance.now() - startMs;
  const summary: ProduceSummary = {
    topic,
    records,
    bytes,
    elapsedMs: Math.round(elapsedMs),
    recordsPerSecond: elapsedMs > 0 ? Math.round(records / (elapsedMs / 1000)) : records,
    partitions: [...partitions.entries()].sort(([a], [b]) => a - b).map(([partition, tally]) => ({ partition, ...tally })),
  };
  if (outcome.failure === null) {
    await context.io.writeOut(options.json === true ? JSON.stringify(summary) + '\n' : formatProduceSummary(summary));
    return;
  }
  const { lineNumber, error } = outcome.failure;
  if (!(error instanceof MiniKafkaClientError) && !(error instanceof InputLineError)) throw error;
  const reason = error instanceof MiniKafkaClientError ? describeClientError(error, brokerUrl) : error.message.replace(/^line \d+: /, '');
  if (options.json === true) {
    await context.io.writeOut(JSON.stringify({ ...summary, failedLine: lineNumber, error: { message: reason, code: error instanceof MiniKafkaClientError ? error.code : 'INVALID_INPUT' } }) + '\n');
  }
  context.io.writeErr(`error: line ${lineNumber} was not produced: ${reason}; ${formatCount(records)} ${records === 1 ? 'record was' : 'records were'} acknowledged; the input was read up to line ${outcome.lastLineNumber}\n`);
  context.exitCode = EXIT_FAILURE;
}

interface SendOutcome {
  /** The lowest-numbered line that failed, or null. */
  readonly failure: { readonly lineNumber: number; readonly error: unknown } | null;
  readonly lastLineNumber: number;
}

interface SendTarget {
  readonly topic: string;
  readonly headers: Record<string, string[]> | undefined;
  readonly partition: number | undefined;
}

/**
 * Reads lines, sends each record as it comes, and stops reading at the first failure. Resolves
 * when every send made has been acknowledged or has failed.
 */
async function sendLines(
  stream: Readable, parser: InputParser, producer: Producer, target: SendTarget,
  acknowledge: (metadata: RecordMetadata | undefined, bytes: number) => void, onRead: (chunkBytes: number) => void,
): Promise<SendOutcome> {
  let failure: { lineNumber: number; error: unknown } | null = null;
  const fail = (lineNumber: number, error: unknown): void => {
    if (failure === null || lineNumber < failure.lineNumber) failure = { lineNumber, error };
  };
  const inFlight: Array<Promise<void>> = [];
  // Both listeners are attached in the same tick: a 'data' listener alone would start the flow
  // and lose the chunks read before readline listens.
  const lines = readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  stream.on('data', (chunk: Buffer | string) => onRead(chunk.length));
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      let record;
      try {
        record = parser.push(line, lineNumber);
      } catch (error) {
        fail(lineNumber, error);
        break;
      }
      if (record === null) continue;
      const recordBytes = Buffer.byteLength(record.value) + (record.key === null ? 0 : Buffer.byteLength(record.key));
      const recordLine = record.lineNumber;
      inFlight.push(producer.send({ topic: target.topic, messages: [{ key: record.key, value: record.value, headers: target.headers, partition: target.partition }] })
        .then((metadata) => acknowledge(metadata[0], recordBytes), (error: unknown) => fail(recordLine, error)));
      if (inFlight.length >= MAX_SENDS_IN_FLIGHT) await inFlight.shift();
      if (failure !== null) break;
    }
    if (failure === null) {
      try {
        parser.end();
      } catch (error) {
        fail(lineNumber, error);
      }
    }
  } finally {
    lines.close();
  }
  await Promise.all(inFlight);
  return { failure, lastLineNumber: lineNumber };
}

/**
 * Opens the input before any connection, so a missing file is reported (ENOENT) at once. A file
 * stream does not flow until a listener is attached, so nothing is lost while the producer connects.
 */
async function openInput(file: string | undefined): Promise<Input> {
  if (file === undefined || file === '-') return { stream: process.stdin, sizeBytes: null, isFile: false };
  const handle = await fs.promises.open(file, 'r');
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (stats.isDirectory()) {
    await handle.close();
    throw new CliUserError(`${file}: is a directory, not a file (--file)`);
  }
  return { stream: handle.createReadStream(), sizeBytes: stats.isFile() ? stats.size : null, isFile: true };
}

function toAcks(text: string): Acks {
  if (text === 'all' || text === '-1') return 'all';
  return text === '1' ? 1 : 0;
}

/** `--header name=value`, repeatable; a name given twice becomes a repeated header, in order. */
function toHeaders(texts: ReadonlyArray<string>): Record<string, string[]> | undefined {
  if (texts.length === 0) return undefined;
  const headers: Record<string, string[]> = {};
  for (const text of texts) {
    const { name, value } = parseKeyValue(text, '--header');
    (headers[name] ??= []).push(value);
  }
  return headers;
}

/** Runs a check of the command line; what it throws is a usage error (exit 2). */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new CliUserError((error as Error).message, EXIT_USAGE);
  }
}

/** The terminal's width; 80 when it does not say (a pseudo-terminal without a size reports 0). */
function terminalColumns(): number {
  const columns = process.stderr.columns;
  return columns !== undefined && columns > 0 ? columns : 80;
}

/** Whether what this command writes to stderr reaches a terminal (in-process tests write elsewhere). */
export function isStderrTerminal(io: CliIo): boolean {
  return io === processIo && process.stderr.isTTY === true;
}

export function formatProduceSummary(summary: ProduceSummary): string {
  const seconds = (summary.elapsedMs / 1000).toFixed(2);
  // Under a second the rate mostly measures connecting: shown only for runs long enough to mean something.
  const rate = summary.elapsedMs >= 1000 ? ` (${formatCount(summary.recordsPerSecond)} records/s)` : '';
  const head = `Produced ${formatCount(summary.records)} ${summary.records === 1 ? 'record' : 'records'} (${formatBytes(summary.bytes)}) to ${summary.topic} in ${seconds} s${rate}.\n`;
  if (summary.partitions.length === 0) return head;
  return head + formatTable(['PARTITION', 'RECORDS', 'FIRST-OFFSET', 'LAST-OFFSET'], summary.partitions.map((p) => [p.partition, p.records, p.firstOffset, p.lastOffset]));
}
