/**
 * Redis Streams as a peer: Debian's redis-server with the append-only file on, reached from Node
 * through ioredis, the way an application would use it as a log.
 *
 * | workload      | server                           | how                                                             |
 * |---------------|----------------------------------|-----------------------------------------------------------------|
 * | produce       | appendonly yes, appendfsync everysec | XADD stream * v <value>, 1,000 per pipeline, 4 pipelines in flight |
 * | produce-fsync | appendonly yes, appendfsync always   | the same                                                      |
 * | consume       | everysec                          | XREADGROUP COUNT 1000 from a new group at 0; XACK each delivery, pipelined with the next read |
 * | e2e-latency   | everysec                          | XADD per tick; XREADGROUP … BLOCK 100 on its own connection    |
 *
 * What a reply means (redis.io, persistence): Redis appends each command to the AOF buffer and
 * write()s the buffer to the file before it sends the replies of an event-loop pass. With
 * `everysec` a background thread fsyncs once a second, so a reply means "in the page cache"; with
 * `always` the pass fsyncs (fdatasync) before replying, so one fsync covers every command the
 * pass read. A pass reads up to 16 KB of commands per connection, so a pipeline of 1,000 XADDs
 * (about 140 KB) takes several: under strace, 20 pipelines made 171 reads and 145 fdatasyncs.
 * RDB snapshots are off (`--save ''`); AOF rewrite keeps its defaults.
 */

import { Redis } from 'ioredis';
import type { StreamClient, GroupReader } from './stream-client.ts';
import type { RowSpec } from './measure.ts';
import { attempt, measureConsume, measureE2eLatency, measureProduce, runOrMarkNotRun } from './measure.ts';
import type { ServerSpec } from './setup.ts';
import { answersWith, ensureInstalled, startServer, versionOf } from './setup.ts';
import type { ComparisonMeasurement, SystemBench } from './workload.ts';
import { SystemUnavailableError, clientVersion, formatCount } from './workload.ts';

/** XREADGROUP's COUNT, as the issue and most Redis Streams consumers use. */
const READ_COUNT = 1000;
/** Long enough to return at once when records are there, short enough to notice a deadline. */
const READ_BLOCK_MS = 100;
const COMMAND_TIMEOUT_MS = 60_000;
const FIELD = 'v';

function serverSpec(appendfsync: 'everysec' | 'always'): ServerSpec {
  return {
    name: `redis-server (appendfsync ${appendfsync})`,
    binary: 'redis-server',
    args: (port, dataDir) => [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir,
      '--appendonly', 'yes', '--appendfsync', appendfsync, '--save', '', '--daemonize', 'no', '--logfile', '',
    ],
    isReady: (port) => answersWith(port, '*1\r\n$4\r\nPING\r\n', '+PONG'),
  };
}

function connect(port: number): Redis {
  // No reconnecting and no retrying: a server that goes away fails the workload, it is not hidden.
  return new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
}

export class RedisStreamClient implements StreamClient {
  readonly #redis: Redis;
  readonly #port: number;

  private constructor(redis: Redis, port: number) {
    this.#redis = redis;
    this.#port = port;
  }

  static async open(port: number): Promise<RedisStreamClient> {
    const redis = connect(port);
    await redis.connect();
    return new RedisStreamClient(redis, port);
  }

  async createStream(stream: string): Promise<void> {
    await this.#redis.del(stream);
  }

  async send(stream: string, values: readonly Buffer[]): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const value of values) pipeline.xadd(stream, '*', FIELD, value);
    const replies = await pipeline.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (replies === null || failed !== undefined) throw new Error(`XADD to ${stream} failed: ${failed?.[0]?.message ?? 'no replies'}`);
  }

  async joinGroup(stream: string, group: string, from: 'start' | 'end'): Promise<GroupReader> {
    await this.#redis.xgroup('CREATE', stream, group, from === 'start' ? '0' : '$', 'MKSTREAM');
    // A blocking read holds its connection: the reader gets its own, or it would stall the producer's XADDs.
    const connection = connect(this.#port);
    await connection.connect();
    return new RedisGroupReader(connection, stream, group);
  }

  async close(): Promise<void> {
    await this.#redis.quit();
  }
}

type XReadGroupReply = Array<[stream: Buffer, entries: Array<[id: Buffer, fields: Buffer[]]>]> | null;

class RedisGroupReader implements GroupReader {
  readonly #redis: Redis;
  readonly #stream: string;
  readonly #group: string;

  constructor(redis: Redis, stream: string, group: string) {
    this.#redis = redis;
    this.#stream = stream;
    this.#group = group;
  }

  async read(onRecords: (values: readonly Buffer[]) => void, shouldStop: () => boolean, deadlineMs: number): Promise<void> {
    let lastAck: Promise<number> | null = null;
    while (!shouldStop() && performance.now() < deadlineMs) {
      const reply = (await this.#redis.callBuffer(
        'XREADGROUP', 'GROUP', this.#group, 'reader', 'COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.#stream, '>',
      )) as XReadGroupReply;
      if (reply === null) continue;
      const entries = reply[0][1];
      const ids: Buffer[] = new Array(entries.length);
      const values: Buffer[] = new Array(entries.length);
      for (let i = 0; i < entries.length; i++) {
        ids[i] = entries[i][0];
        values[i] = entries[i][1][1];
      }
      // Sent now, answered before the next read's reply: one round trip per delivery, as with a Kafka commit.
      lastAck = this.#redis.xack(this.#stream, this.#group, ...ids);
      onRecords(values);
    }
    if (lastAck !== null) await lastAck;
  }

  async close(): Promise<void> {
    await this.#redis.quit();
  }
}

/** `redis-server 7.0.15` from `Redis server v=7.0.15 sha=…`. */
function serverVersion(): string {
  const line = versionOf('redis-server') ?? '';
  const version = /v=([\d.]+)/.exec(line)?.[1];
  return version === undefined ? 'redis-server' : `redis-server ${version}`;
}

export const redisStreams: SystemBench = {
  system: 'redis-streams',
  workloads: ['produce', 'produce-fsync', 'consume', 'e2e-latency'],
  async run(context) {
    const installed = await ensureInstalled('redis-server', 'redis-server', context.progress);
    if ('unavailable' in installed) throw new SystemUnavailableError(installed.unavailable);
    const common = { server: serverVersion(), client: clientVersion('ioredis'), partitions: '1 stream', producers: '1 connection' };
    const produceSettings = {
      batch: `${formatCount(context.sizes.batchRecords)} records: one pipeline of XADD`,
      'in flight': `${context.sizes.inFlightBatches} batches`,
      linger: 'none: the caller forms the batch',
      acks: 'XADD reply',
    };
    const everysec = { flush: 'appendonly yes, appendfsync everysec', 'ack means': 'page cache: AOF written before the reply, fsync every 1 s' };
    const always = { flush: 'appendonly yes, appendfsync always', 'ack means': 'fdatasync before the reply (one per event-loop pass, ≤16 KB of commands)' };
    const rows = {
      produce: { system: 'redis-streams', workload: 'produce', caseName: 'redis-streams produce (AOF everysec)' },
      consume: { system: 'redis-streams', workload: 'consume', caseName: `redis-streams consume (XREADGROUP COUNT ${READ_COUNT})` },
      e2e: { system: 'redis-streams', workload: 'e2e-latency', caseName: 'redis-streams e2e-latency (AOF everysec)' },
      produceFsync: { system: 'redis-streams', workload: 'produce-fsync', caseName: 'redis-streams produce-fsync (AOF always)' },
    } as const satisfies Record<string, Omit<RowSpec, 'settings'>>;
    const results: ComparisonMeasurement[] = [];

    await runOrMarkNotRun([rows.produce, rows.consume, rows.e2e], results, context, () => withRedis('everysec', context.progress, async (client) => {
      results.push(await attempt(rows.produce, context, () => measureProduce(client, 'produce', { ...rows.produce, settings: { ...produceSettings, ...everysec, ...common } }, context)));
      results.push(
        await attempt(rows.consume, context, () =>
          measureConsume(client, 'produce', {
            ...rows.consume,
            settings: { fetch: `XREADGROUP COUNT ${READ_COUNT} BLOCK ${READ_BLOCK_MS}`, acks: 'XACK per delivery, pipelined with the next read', join: 'XGROUP CREATE and the reader’s own connection', ...everysec, ...common },
          }, context),
        ),
      );
      results.push(
        await attempt(rows.e2e, context, () =>
          measureE2eLatency(client, 'e2e', {
            ...rows.e2e,
            settings: { producer: 'one pipeline of XADD per tick', consumer: `XREADGROUP COUNT ${READ_COUNT} BLOCK ${READ_BLOCK_MS}, own connection`, ...everysec, ...common },
          }, context),
        ),
      );
    }));
    await runOrMarkNotRun([rows.produceFsync], results, context, () => withRedis('always', context.progress, async (client) => {
      results.push(await attempt(rows.produceFsync, context, () => measureProduce(client, 'produce', { ...rows.produceFsync, settings: { ...produceSettings, ...always, ...common } }, context)));
    }));
    return results;
  },
};

async function withRedis(appendfsync: 'everysec' | 'always', progress: (message: string) => void, use: (client: RedisStreamClient) => Promise<void>): Promise<void> {
  const spec = serverSpec(appendfsync);
  const server = await startServer(spec);
  progress(`${spec.name} pid ${server.pid} on 127.0.0.1:${server.port}, data in ${server.dataDir}`);
  try {
    const client = await RedisStreamClient.open(server.port);
    try {
      await use(client);
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
  }
}
