/**
 * NATS JetStream as a peer: Debian's nats-server with JetStream on and file storage, reached from
 * Node through the official client (nats.js), the way an application would use it as a log.
 *
 * | workload      | how                                                                               |
 * |---------------|-----------------------------------------------------------------------------------|
 * | produce       | js.publish() of 1,000 records at a time, 4 such windows in flight, each awaiting its PubAck |
 * | produce-fsync | the same on a server with `sync_interval: always`, where the server version has it  |
 * | consume       | a new durable pull consumer (ack policy all, deliver all) read with consume(), pulls of 1,000; every 1,000th record acknowledged (acking all before it) |
 * | e2e-latency   | publish per tick; the same pull consumer, delivering new records only              |
 *
 * What a PubAck means: the server stored the record in its file store. The file store does not
 * fsync per record; it relies on the page cache and fsyncs on an interval (`sync_interval`, 2
 * minutes by default in the versions that have the setting; `always` makes it fsync every write).
 * Debian 12's nats-server 2.9.10 has no such setting (it refuses the field): under strace, it made
 * no fsync at all during 150 s of publishing, and fsynced its blocks when stopped.
 */

import fs from 'node:fs';
import path from 'node:path';
import { AckPolicy, DeliverPolicy, StorageType, connect } from 'nats';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { RowSpec } from './measure.ts';
import { attempt, measureConsume, measureE2eLatency, measureProduce, notRunMeasurement, runOrMarkNotRun } from './measure.ts';
import type { ServerSpec } from './setup.ts';
import { answersWith, ensureInstalled, startServer, versionOf } from './setup.ts';
import type { GroupReader, StreamClient } from './stream-client.ts';
import type { ComparisonMeasurement, CompareContext, SystemBench } from './workload.ts';
import { SystemUnavailableError, clientVersion, formatCount } from './workload.ts';

const PULL_MESSAGES = 1000;
/** Acknowledge every this many records (ack policy all: one ack covers all before it). */
const ACK_EVERY_RECORDS = 1000;
/** The server stops delivering past this many unacknowledged records (its default is 1,000). */
const MAX_ACK_PENDING = 10_000;
/** Publishes and API calls wait this long for an answer (the client's default is 5 s). */
const REQUEST_TIMEOUT_MS = 60_000;
/** How often a reader with nothing arriving checks whether it should stop. */
const STOP_CHECK_MS = 100;

function serverSpec(isSyncAlways: boolean): ServerSpec {
  return {
    name: `nats-server (JetStream, file storage${isSyncAlways ? ', sync_interval always' : ''})`,
    binary: 'nats-server',
    args: (port, dataDir) => {
      const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dataDir, 'jetstream')];
      if (!isSyncAlways) return args;
      // sync_interval exists only in a config file; the flags above still set address, port and store.
      const configFile = path.join(dataDir, 'nats.conf');
      fs.writeFileSync(configFile, 'jetstream {\n  sync_interval: always\n}\n');
      return [...args, '-c', configFile];
    },
    isReady: (port) => answersWith(port, null, '"jetstream":true'),
  };
}

export class NatsStreamClient implements StreamClient {
  readonly #connection: NatsConnection;
  readonly #manager: JetStreamManager;
  readonly #jetstream: JetStreamClient;

  private constructor(connection: NatsConnection, manager: JetStreamManager) {
    this.#connection = connection;
    this.#manager = manager;
    this.#jetstream = connection.jetstream({ timeout: REQUEST_TIMEOUT_MS });
  }

  static async open(port: number): Promise<NatsStreamClient> {
    const connection = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: REQUEST_TIMEOUT_MS });
    return new NatsStreamClient(connection, await connection.jetstreamManager({ timeout: REQUEST_TIMEOUT_MS }));
  }

  async createStream(stream: string): Promise<void> {
    await this.#manager.streams.add({ name: stream, subjects: [subjectOf(stream)], storage: StorageType.File, num_replicas: 1 });
    await this.#manager.streams.purge(stream);
  }

  async send(stream: string, values: readonly Buffer[]): Promise<void> {
    const subject = subjectOf(stream);
    await Promise.all(values.map((value) => this.#jetstream.publish(subject, value)));
  }

  async joinGroup(stream: string, group: string, from: 'start' | 'end'): Promise<GroupReader> {
    await this.#manager.consumers.add(stream, {
      durable_name: group,
      ack_policy: AckPolicy.All,
      deliver_policy: from === 'start' ? DeliverPolicy.All : DeliverPolicy.New,
      max_ack_pending: MAX_ACK_PENDING,
    });
    const consumer = await this.#jetstream.consumers.get(stream, group);
    return {
      read: async (onRecords, shouldStop, deadlineMs) => {
        const messages = await consumer.consume({ max_messages: PULL_MESSAGES });
        const isOver = (): boolean => shouldStop() || performance.now() >= deadlineMs;
        // The iterator waits for records indefinitely: stop it from outside when there are none.
        const watchdog = setInterval(() => {
          if (isOver()) void messages.close();
        }, STOP_CHECK_MS);
        let sinceAck = 0;
        try {
          for await (const message of messages) {
            const data = message.data;
            onRecords([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
            sinceAck += 1;
            const isLast = isOver();
            if (sinceAck >= ACK_EVERY_RECORDS || isLast) {
              message.ack();
              sinceAck = 0;
            }
            if (isLast) break;
          }
        } finally {
          clearInterval(watchdog);
          // Not awaited: close() resolves only once someone iterates past the stop it queues.
          void messages.close();
        }
      },
      close: async () => {
        await this.#manager.consumers.delete(stream, group);
      },
    };
  }

  async close(): Promise<void> {
    await this.#connection.drain();
  }
}

function subjectOf(stream: string): string {
  return `${stream}.records`;
}

/** `nats-server 2.9.10` from `nats-server: v2.9.10`. */
function serverVersion(): string {
  const version = /v([\d.]+)/.exec(versionOf('nats-server') ?? '')?.[1];
  return version === undefined ? 'nats-server' : `nats-server ${version}`;
}

export const natsJetstream: SystemBench = {
  system: 'nats-jetstream',
  workloads: ['produce', 'produce-fsync', 'consume', 'e2e-latency'],
  async run(context) {
    const installed = await ensureInstalled('nats-server', 'nats-server', context.progress);
    if ('unavailable' in installed) throw new SystemUnavailableError(installed.unavailable);
    const common = { server: serverVersion(), client: clientVersion('nats'), partitions: '1 stream, 1 subject', producers: '1 connection' };
    const produceSettings = {
      batch: `${formatCount(context.sizes.batchRecords)} records: publishes awaited together`,
      'in flight': `${context.sizes.inFlightBatches} batches`,
      linger: 'none: the caller forms the batch',
      acks: 'PubAck per record',
    };
    const fileStore = { flush: 'file storage, default sync', 'ack means': 'page cache: file store, fsync on a long interval (none in 150 s)' };
    const syncAlways = { flush: 'file storage, sync_interval always', 'ack means': 'fsync before the PubAck' };
    const consumer = `durable pull consumer, consume() pulls of ${formatCount(PULL_MESSAGES)}`;
    const rows = {
      produce: { system: 'nats-jetstream', workload: 'produce', caseName: 'nats-jetstream produce (file store)' },
      consume: { system: 'nats-jetstream', workload: 'consume', caseName: 'nats-jetstream consume (pull consumer)' },
      e2e: { system: 'nats-jetstream', workload: 'e2e-latency', caseName: 'nats-jetstream e2e-latency (file store)' },
      produceFsync: { system: 'nats-jetstream', workload: 'produce-fsync', caseName: 'nats-jetstream produce-fsync (sync_interval always)' },
    } as const satisfies Record<string, Omit<RowSpec, 'settings'>>;
    const results: ComparisonMeasurement[] = [];

    await runOrMarkNotRun([rows.produce, rows.consume, rows.e2e], results, context, () => withNats(false, context, async (client) => {
      results.push(await attempt(rows.produce, context, () => measureProduce(client, 'produce', { ...rows.produce, settings: { ...produceSettings, ...fileStore, ...common } }, context)));
      results.push(
        await attempt(rows.consume, context, () =>
          measureConsume(client, 'produce', {
            ...rows.consume,
            settings: { fetch: consumer, acks: `ack policy all, every ${formatCount(ACK_EVERY_RECORDS)} records`, join: 'create the durable consumer and look it up', ...fileStore, ...common },
          }, context),
        ),
      );
      results.push(
        await attempt(rows.e2e, context, () =>
          measureE2eLatency(client, 'e2e', { ...rows.e2e, settings: { producer: 'publishes of the tick awaited together', consumer: `${consumer}, deliver new`, ...fileStore, ...common } }, context),
        ),
      );
    }));

    try {
      await withNats(true, context, async (client) => {
        results.push(await attempt(rows.produceFsync, context, () => measureProduce(client, 'produce', { ...rows.produceFsync, settings: { ...produceSettings, ...syncAlways, ...common } }, context)));
      });
    } catch (error) {
      // Older servers refuse the setting ("unknown field"): say so, in the server's own words.
      const message = error instanceof Error ? error.message : String(error);
      const refusal = /unknown field "sync_interval"/.exec(message)?.[0];
      const reason = refusal === undefined ? `failed: ${message}` : `${common.server}: ${refusal}, no fsync before the PubAck`;
      context.progress(`${rows.produceFsync.caseName}: not run: ${reason}`);
      results.push(notRunMeasurement(rows.produceFsync, reason));
    }
    return results;
  },
};

async function withNats(isSyncAlways: boolean, context: CompareContext, use: (client: NatsStreamClient) => Promise<void>): Promise<void> {
  const spec = serverSpec(isSyncAlways);
  const server = await startServer(spec);
  context.progress(`${spec.name} pid ${server.pid} on 127.0.0.1:${server.port}, data in ${server.dataDir}`);
  try {
    const client = await NatsStreamClient.open(server.port);
    try {
      await use(client);
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
  }
}
