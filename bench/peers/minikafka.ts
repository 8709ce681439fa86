/**
 * minikafka in the comparison: the broker in its own process (`minikafka broker start`, run from
 * the TypeScript sources with tsx, so the figures are the working tree's), reached through the
 * client SDK (client/) as an application would, with the same workload drivers as the peers.
 *
 * | row                         | producer                                              | topic                |
 * |-----------------------------|-------------------------------------------------------|----------------------|
 * | produce                     | acks=1, batch.size 128 KiB, linger.ms 1; sends of 1,000 records, 4 in flight (as the peers) | 1 partition |
 * | produce, 1 MiB batches      | acks=1, batch.size 1 MiB; sends of 10,000 records, 4 in flight, so batches fill | 1 partition |
 * | produce, raw 1 MiB batches  | no SDK: one pre-encoded 1 MiB batch POSTed to the raw-batch route again and again, 4 in flight: the broker's byte path, read against a raw append of the same bytes just before each round (measureBesideRawAppend) | 1 partition |
 * | produce-fsync               | as produce                                            | flush.messages=1     |
 * | consume                     | the SDK's consumer in a new group, run({ eachBatch }), its defaults (1 MiB per partition fetch) | what produce wrote |
 * | e2e-latency                 | as produce, but linger.ms 0: the driver already sends each tick's records together | a new topic |
 *
 * What an acknowledgement means: acks=1 on one broker is "appended to the log", the bytes in the
 * page cache; with the topic's flush.messages=1 the broker answers only after an fsync covering
 * the batch (group commit: one fsync covers every append waiting for it).
 */

import { Agent, request } from 'undici';
import { MiniKafka } from '../../client/client.ts';
import type { Admin } from '../../client/admin/admin.ts';
import type { Producer } from '../../client/producer/producer.ts';
import type { RowSpec } from './measure.ts';
import { attempt, measureConsume, measureE2eLatency, measureProduce, produceMeasurement, produceRounds, runOrMarkNotRun } from './measure.ts';
import type { ProduceRound } from './drivers.ts';
import { figureOf } from '../benchmark.ts';
import { GrowingFile } from '../limits/raw-disk.ts';
import type { AppendRound } from '../limits/raw-disk.ts';
import type { ServerSpec } from './setup.ts';
import { answersWith, startServer } from './setup.ts';
import type { GroupReader, StreamClient } from './stream-client.ts';
import type { ComparisonMeasurement, CompareContext, SystemBench } from './workload.ts';
import { encodeBatchOfBytes } from '../workload.ts';
import { VALUE_BYTES, formatCount } from './workload.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Holds one send of 1,000 100-byte records (about 110 KB as a batch): Confluent's OMB driver uses the same. */
const BATCH_BYTES = 128 * KiB;
const LINGER_MS = 1;
/**
 * The e2e driver sends each 1 ms tick's records in one send(): lingering would only add its wait
 * to every record's latency (as in Kafka's EndToEndLatency tool, which sets linger.ms 0).
 */
const E2E_LINGER_MS = 0;
/** Records per send for the 1 MiB rows: ten times the peers' 1,000, or a 1 MiB batch would never fill. */
const LARGE_SEND_RECORDS = 10_000;
/** How often a reader waiting for records checks whether it should stop (the SDK pushes records to it). */
const READ_CHECK_MS = 5;

/** The broker's command line after `node`: the working tree's CLI through tsx. */
export function brokerArgs(port: number, dataDir: string): string[] {
  return ['--import', 'tsx', 'cli/main.ts', 'broker', 'start', '--data-dir', dataDir, '--http-port', String(port), '--log-level', 'warn'];
}

const brokerSpec: ServerSpec = {
  name: 'minikafka broker',
  binary: process.execPath,
  label: 'minikafka',
  args: brokerArgs,
  isReady: (port) => answersWith(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', ' 200 '),
};

interface ProducerSettings {
  readonly batchBytes: number;
  readonly maxRequestBytes: number;
  readonly lingerMs?: number;
}

export class MiniKafkaStreamClient implements StreamClient {
  readonly #client: MiniKafka;
  readonly #admin: Admin;
  readonly #producer: Producer<null, Buffer>;
  readonly #topicConfigs: ReadonlyArray<{ name: string; value: string }>;

  constructor(url: string, producerSettings: ProducerSettings, topicConfigs: ReadonlyArray<{ name: string; value: string }>) {
    this.#client = new MiniKafka({ url, clientId: 'bench' });
    this.#admin = this.#client.admin();
    this.#producer = this.#client.producer<null, Buffer>({ acks: 1, lingerMs: LINGER_MS, allowAutoTopicCreation: false, ...producerSettings });
    this.#topicConfigs = topicConfigs;
  }

  async createStream(topic: string): Promise<void> {
    await this.#admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: this.#topicConfigs }] });
  }

  async send(topic: string, values: readonly Buffer[]): Promise<void> {
    await this.#producer.send({ topic, messages: values.map((value) => ({ value })) });
  }

  /**
   * A consumer of the SDK in group `group`, running with eachBatch; joinGroup resolves when run()
   * does, once the group gave it its partition. Both workloads read topics created for them
   * (consume: what produce wrote; e2e-latency: a new, empty topic), so both start at the
   * earliest offset: for the empty topic that is every record sent after the join.
   */
  async joinGroup(topic: string, group: string): Promise<GroupReader> {
    const consumer = this.#client.consumer<Buffer, Buffer>({ groupId: group, autoOffsetReset: 'earliest', allowAutoTopicCreation: false });
    let onRecords: ((values: readonly Buffer[]) => void) | null = null;
    const early: Buffer[] = []; // delivered between the join and read(): handed over first
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const values = batch.messages.map((message) => message.value ?? Buffer.alloc(0));
        if (onRecords === null) early.push(...values);
        else onRecords(values);
      },
    });
    return {
      read: async (handler, shouldStop, deadlineMs) => {
        if (early.length > 0) handler(early.splice(0));
        onRecords = handler;
        while (!shouldStop() && performance.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, READ_CHECK_MS));
        onRecords = null;
      },
      close: () => consumer.close(),
    };
  }

  async close(): Promise<void> {
    await this.#producer.close();
    await this.#admin.close();
  }
}

/**
 * Appends by POSTing one pre-encoded batch (encodeBatchOfBytes: the real codec) to
 * `/topics/<topic>/partitions/0`, as a producer that already encoded its batch would; the broker
 * rewrites its base offset, so the same bytes can be appended again and again. A send() must ask
 * for exactly the batch's record count: the values themselves are not sent.
 */
export class RawBatchClient implements StreamClient {
  readonly #url: string;
  readonly #admin: Admin;
  readonly #agent = new Agent({ connections: 8, pipelining: 1 });
  readonly batch: Buffer;
  readonly recordCount: number;

  constructor(url: string, batchBytes: number) {
    this.#url = url;
    this.#admin = new MiniKafka({ url, clientId: 'bench' }).admin();
    ({ batch: this.batch, recordCount: this.recordCount } = encodeBatchOfBytes(batchBytes, VALUE_BYTES));
  }

  async createStream(topic: string): Promise<void> {
    await this.#admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  }

  async send(topic: string, values: readonly Buffer[]): Promise<void> {
    if (values.length !== this.recordCount) throw new Error(`a raw send carries ${this.recordCount} records, not ${values.length}`);
    const response = await request(`${this.#url}/topics/${topic}/partitions/0?acks=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.record-batch' },
      body: this.batch,
      dispatcher: this.#agent,
    });
    const body = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`POST raw batch: ${response.statusCode} ${body.slice(0, 200)}`);
  }

  joinGroup(): Promise<GroupReader> {
    return Promise.reject(new Error('a raw-batch client does not consume'));
  }

  async close(): Promise<void> {
    await this.#admin.close();
    await this.#agent.close();
  }
}

export const minikafka: SystemBench = {
  system: 'minikafka',
  workloads: ['produce', 'produce-fsync', 'consume', 'e2e-latency'],
  async run(context) {
    const common = { partitions: '1', producers: '1 producer (client/ SDK)', server: 'minikafka broker, its own process (tsx)', acks: 'acks=1', linger: `linger.ms ${LINGER_MS}` };
    const pageCache = { flush: 'flush.messages unset (never)', 'ack means': 'page cache: appended to the log, not fsynced' };
    const fsyncEach = { flush: 'flush.messages=1 (topic)', 'ack means': 'fsync before the acknowledgement (group commit)' };
    const consumerSettings = {
      fetch: 'SDK consumer, run({ eachBatch }): max.partition.fetch.bytes 1 MiB, fetch.max.wait.ms 500 (defaults)',
      acks: 'auto-commit every 5 s (default)',
      join: 'subscribe() and run() until assigned: includes the broker’s group.initial.rebalance.delay.ms (3 s, Kafka’s default)',
    };
    const sends = (records: number): Record<string, string> => ({ batch: `batch.size ${formatBatchBytes(BATCH_BYTES)}; send() of ${formatCount(records)} records`, 'in flight': `${context.sizes.inFlightBatches} send() calls, ≤5 requests` });
    const rows = {
      produce: { system: 'minikafka', workload: 'produce', caseName: 'minikafka produce (acks=1, batch.size 128 KiB)' },
      produceLarge: { system: 'minikafka', workload: 'produce', caseName: 'minikafka produce (acks=1, batch.size 1 MiB)' },
      produceRaw: { system: 'minikafka', workload: 'produce', caseName: 'minikafka produce (pre-encoded 1 MiB batches, raw-batch route)' },
      produceFsync: { system: 'minikafka', workload: 'produce-fsync', caseName: 'minikafka produce-fsync (flush.messages=1, batch.size 128 KiB)' },
      consume: { system: 'minikafka', workload: 'consume', caseName: 'minikafka consume (SDK consumer, eachBatch)' },
      e2e: { system: 'minikafka', workload: 'e2e-latency', caseName: 'minikafka e2e-latency (acks=1, not fsynced)' },
    } as const satisfies Record<string, Omit<RowSpec, 'settings'>>;
    const results: ComparisonMeasurement[] = [];
    await runOrMarkNotRun([rows.produce, rows.produceLarge, rows.produceRaw, rows.produceFsync, rows.consume, rows.e2e], results, context, async () => {
      const server = await startServer(brokerSpec);
      context.progress(`${brokerSpec.name} pid ${server.pid} on 127.0.0.1:${server.port}, data in ${server.dataDir}`);
      try {
        const url = `http://127.0.0.1:${server.port}`;
        await withClient(url, { batchBytes: BATCH_BYTES, maxRequestBytes: MiB }, [], async (client) => {
          results.push(await attempt(rows.produce, context, () => measureProduce(client, 'produce', { ...rows.produce, settings: { ...sends(context.sizes.batchRecords), ...pageCache, ...common } }, context)));
          results.push(await attempt(rows.consume, context, () => measureConsume(client, 'produce', { ...rows.consume, settings: { ...consumerSettings, ...pageCache, ...common } }, context)));
        });
        await withClient(url, { batchBytes: BATCH_BYTES, maxRequestBytes: MiB, lingerMs: E2E_LINGER_MS }, [], async (client) => {
          const linger = `linger.ms ${E2E_LINGER_MS}`;
          const e2eSettings = { producer: `send() of the tick's records, ${linger}`, consumer: consumerSettings.fetch, ...pageCache, ...common, linger };
          results.push(await attempt(rows.e2e, context, () => measureE2eLatency(client, 'e2e', { ...rows.e2e, settings: e2eSettings }, context)));
        });
        // A 1 MiB batch plus the request around it: the request limit must be above the batch.
        await withClient(url, { batchBytes: MiB, maxRequestBytes: 2 * MiB }, [], async (client) => {
          const largeContext: CompareContext = { ...context, sizes: { ...context.sizes, batchRecords: LARGE_SEND_RECORDS } };
          const settings = { ...sends(LARGE_SEND_RECORDS), batch: `batch.size 1 MiB; send() of ${formatCount(LARGE_SEND_RECORDS)} records`, ...pageCache, ...common };
          results.push(await attempt(rows.produceLarge, context, () => measureProduce(client, 'produce-large', { ...rows.produceLarge, settings }, largeContext)));
        });
        const raw = new RawBatchClient(url, MiB);
        try {
          // Whole batches only: every POST carries the batch's record count.
          const wholeBatches = (records: number): number => Math.ceil(records / raw.recordCount) * raw.recordCount;
          const { sizes } = context;
          const rawSizes = { ...sizes, batchRecords: raw.recordCount, recordCount: wholeBatches(sizes.recordCount), warmupRecordCount: wholeBatches(sizes.warmupRecordCount) };
          const rawContext: CompareContext = { ...context, sizes: rawSizes };
          const settings = {
            batch: `one pre-encoded batch of 1 MiB (${formatCount(raw.recordCount)} records) per POST, the same bytes each time`,
            'in flight': `${context.sizes.inFlightBatches} POSTs`,
            'MB/s': `of values; the batch bytes are ${(raw.batch.length / (raw.recordCount * VALUE_BYTES)).toFixed(2)}× that`,
            ...pageCache,
            ...common,
            producers: '1 HTTP client (undici), no SDK',
            linger: 'none',
          };
          results.push(await attempt(rows.produceRaw, context, () => measureBesideRawAppend(raw, 'produce-raw', { ...rows.produceRaw, settings }, rawContext)));
        } finally {
          await raw.close();
        }
        await withClient(url, { batchBytes: BATCH_BYTES, maxRequestBytes: MiB }, [{ name: 'flush.messages', value: '1' }], async (client) => {
          results.push(await attempt(rows.produceFsync, context, () => measureProduce(client, 'produce-fsync', { ...rows.produceFsync, settings: { ...sends(context.sizes.batchRecords), ...fsyncEach, ...common } }, context)));
        });
      } finally {
        await server.stop();
      }
    });
    return results;
  },
};

/**
 * The 1 MiB-batch row against the disk: each round first appends the round's bytes (the same
 * batch, over and over) to a file that only grows, then POSTs them to the broker, so both take
 * fresh page-cache memory at the same moment of the run (see GrowingFile). The row carries the
 * raw append's MB/s and the broker's share of it, per round, as medians.
 */
async function measureBesideRawAppend(raw: RawBatchClient, stream: string, row: RowSpec, context: CompareContext): Promise<ComparisonMeasurement> {
  const bytes = (context.sizes.recordCount / raw.recordCount) * raw.batch.length;
  const file = new GrowingFile();
  const diskRounds: AppendRound[] = [];
  let rounds: ProduceRound[];
  try {
    rounds = await produceRounds(raw, stream, row, context, () => diskRounds.push(file.append(raw.batch, bytes)));
  } finally {
    file.remove();
  }
  const mbPerSec = (elapsedMs: number): number => bytes / 1e6 / (elapsedMs / 1000);
  const measurement = produceMeasurement(row, rounds, context);
  return {
    ...measurement,
    figures: [
      ...measurement.figures,
      figureOf('batch MB/s', rounds.map((r) => mbPerSec(r.elapsedMs))),
      figureOf('raw append MB/s', diskRounds.map((r) => mbPerSec(r.elapsedMs))),
      figureOf('% of raw append', rounds.map((r, i) => (100 * diskRounds[i].elapsedMs) / r.elapsedMs)),
    ],
    settings: { ...measurement.settings, 'raw append': 'each round, just before it: the same bytes in 1 MiB writeSync() calls to a file that only grows (no fsync), on the same filesystem' },
  };
}

function formatBatchBytes(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}

async function withClient(url: string, settings: ProducerSettings, topicConfigs: ReadonlyArray<{ name: string; value: string }>, use: (client: MiniKafkaStreamClient) => Promise<void>): Promise<void> {
  const client = new MiniKafkaStreamClient(url, settings, topicConfigs);
  try {
    await use(client);
  } finally {
    await client.close();
  }
}
