/**
 * `startBroker()`: a whole broker in this process, for `minikafka broker start`, for tests and for
 * embedding. It resolves the config (Kafka's broker config names), opens the data directory (lock,
 * recovery), builds the HTTP API and listens.
 *
 * Defaults suit embedding and tests: an ephemeral port and a temporary data directory removed by
 * close(). `minikafka broker start` passes the server defaults instead (port 8082, ./data).
 *
 * close() is a clean stop: refuse new requests, let those in flight finish, end long polls,
 * flush every log, write producer snapshots, checkpoints and the clean-shutdown marker, release
 * the lock.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { BrokerConfig } from './config/broker-config.ts';
import { loadBrokerConfig } from './config/broker-config.ts';
import { BrokerCore } from './core/broker-core.ts';
import { buildHttpApp } from './http/app.ts';
import { createBrokerMetrics } from './metrics.ts';
import type { BrokerMetrics } from './metrics.ts';
import type { Clock } from './storage/clock.ts';
import { topicConfigResolver } from './topic-config-resolver.ts';

export interface StartBrokerOptions {
  /** The data directory. Default: `log.dirs`/`log.dir` when configured, else see `isDataDirTemporary`. */
  readonly dataDir?: string;
  /** With no data directory given or configured: true (the default) for a new temporary directory
   * removed by close(), false for the server default, ./data. */
  readonly isDataDirTemporary?: boolean;
  /** Default 127.0.0.1: nothing outside this machine can reach the broker unless asked. */
  readonly host?: string;
  /** Default 0: any free port (read it from the result). The CLI passes 8082. */
  readonly httpPort?: number;
  /** Broker configs under Kafka's names, as `--config name=value` sets them. */
  readonly config?: Readonly<Record<string, string | number | boolean>>;
  /** A server.properties-style file, applied before `config`. */
  readonly configFile?: string;
  /** A pino logger for lifecycle events, or false (the default) for none. */
  readonly logger?: Logger | false;
  readonly clock?: Clock;
}

export interface RunningBroker {
  /** The HTTP API's base URL, e.g. http://127.0.0.1:8082 */
  readonly url: string;
  readonly host: string;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly config: BrokerConfig;
  readonly core: BrokerCore;
  readonly metrics: BrokerMetrics;
  readonly http: FastifyInstance;
  /** A clean stop (see the file header). Safe to call twice. */
  close(): Promise<void>;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<RunningBroker> {
  const configArgs = Object.entries(options.config ?? {}).map(([name, value]) => `${name}=${String(value)}`);
  let config = await loadBrokerConfig({ configFilePath: options.configFile, configArgs, dataDir: options.dataDir });
  const isDirConfigured = ['log.dirs', 'log.dir'].some((name) => config.entries.get(name as 'log.dirs')?.source !== 'DEFAULT_CONFIG');
  const isTemporary = options.dataDir === undefined && !isDirConfigured && options.isDataDirTemporary !== false;
  if (isTemporary) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minikafka-'));
    config = await loadBrokerConfig({ configFilePath: options.configFile, configArgs, dataDir });
  }
  const logger = options.logger === undefined || options.logger === false ? null : options.logger;
  for (const warning of config.warnings) logger?.warn({ warning }, 'config warning');

  const metrics = createBrokerMetrics();
  const core = await BrokerCore.open({
    dataDir: config.dataDir,
    topicConfigs: topicConfigResolver(config),
    autoCreateTopics: config.autoCreateTopicsEnable,
    logger: logger ?? undefined,
    storageMetrics: metrics.storage,
    trafficMetrics: metrics.traffic,
    checkpointIntervalMs: config.logFlushOffsetCheckpointIntervalMs,
    retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
    cleanerBackoffMs: config.logCleanerBackoffMs,
    cleanerDedupeBufferBytes: config.logCleanerDedupeBufferBytes,
    groups: {
      offsetsTopicPartitions: config.offsetsTopicNumPartitions,
      offsetsTopicSegmentBytes: config.offsetsTopicSegmentBytes,
      offsetsRetentionMs: config.offsetsRetentionMs,
      offsetsRetentionCheckIntervalMs: config.offsetsRetentionCheckIntervalMs,
      coordinator: {
        initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
        maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
      },
    },
    clock: options.clock,
  });
  metrics.watchCore(core);
  const http = buildHttpApp(core, {
    metrics,
    logger: logger ?? false,
    limits: {
      maxBodyBytes: config.httpMaxBodyBytes,
      maxRecordsPerRequest: config.httpMaxRecordsPerRequest,
      maxConnections: config.httpMaxConnections,
      fetchMaxWaitMs: config.fetchMaxWaitMs,
      fetchMaxBytes: config.fetchMaxBytes,
    },
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await http.listen({ host, port: options.httpPort ?? 0 });
  } catch (error) {
    await core.close();
    throw error;
  }
  const address = http.server.address();
  const httpPort = typeof address === 'object' && address !== null ? address.port : (options.httpPort ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
  logger?.info({ url, dataDir: config.dataDir, topics: core.topics.list().length }, 'broker ready');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      core.beginShutdown();
      await http.close();
      await core.close();
      if (isTemporary) fs.rmSync(config.dataDir, { recursive: true, force: true });
      logger?.info({ dataDir: config.dataDir }, 'broker stopped cleanly');
    })());
  return { url, host, httpPort, dataDir: config.dataDir, config, core, metrics, http, close };
}

/** The pino logger `minikafka broker start` uses: JSON lines on stdout, lifecycle events only. */
export function createBrokerLogger(level = 'info'): Logger {
  return pino({ level, base: { name: 'minikafka' } });
}
