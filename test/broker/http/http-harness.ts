/**
 * A real broker for HTTP tests: a BrokerCore on a fresh temporary directory, its metrics, and
 * the HTTP app built over it (not listening; `listen()` when a test needs a real socket).
 * `close()` closes the app, then the core, then removes the directory.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { BrokerCoreOptions } from '../../../broker/core/broker-core.ts';
import { BrokerCore } from '../../../broker/core/broker-core.ts';
import type { HttpLimits } from '../../../broker/http/app.ts';
import { buildHttpApp } from '../../../broker/http/app.ts';
import type { BrokerMetrics } from '../../../broker/metrics.ts';
import { createBrokerMetrics } from '../../../broker/metrics.ts';
import { expect } from 'vitest';
import { errorCatalogue } from '../../../common/errors.ts';
import { testTopicConfigs } from '../../helpers/test-topic-configs.ts';

export interface HttpHarness {
  readonly core: BrokerCore;
  readonly app: FastifyInstance;
  readonly metrics: BrokerMetrics;
  readonly dataDir: string;
  /** Starts listening on 127.0.0.1, port 0, and returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly limits?: Partial<HttpLimits>;
  readonly autoCreateTopics?: boolean;
  readonly defaultPartitions?: number;
  readonly brokerConfigs?: readonly string[];
  readonly processMetrics?: boolean;
  readonly core?: Partial<BrokerCoreOptions>;
  /** Reopen an existing data directory instead of a fresh one; it is still removed by close(). */
  readonly dataDir?: string;
  /** Leave the data directory in place on close(), for a test that reopens it. */
  readonly keepDataDir?: boolean;
}

export async function startHarness(options: HarnessOptions = {}): Promise<HttpHarness> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'minikafka-http-'));
  const metrics = createBrokerMetrics({ processMetrics: options.processMetrics ?? false });
  const core = await BrokerCore.open({
    dataDir,
    topicConfigs: testTopicConfigs({ defaultPartitions: options.defaultPartitions, brokerConfigs: options.brokerConfigs }),
    autoCreateTopics: options.autoCreateTopics ?? true,
    storageMetrics: metrics.storage,
    trafficMetrics: metrics.traffic,
    ...options.core,
  });
  const app = buildHttpApp(core, { limits: options.limits, metrics });
  let isClosed = false;
  return {
    core,
    app,
    metrics,
    dataDir,
    async listen() {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
      return `http://127.0.0.1:${address.port}`;
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      await app.close();
      await core.close();
      if (options.keepDataDir !== true) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The one error body, parsed, with a check that it has the catalogue's shape. */
export function errorOf(response: LightMyRequestResponse | { statusCode: number; body: string }): { error_code: number; code: string; message: string; retriable: boolean; details?: Record<string, unknown> } {
  const body = JSON.parse(response.body) as { error_code: number; code: string; message: string; retriable: boolean };
  if (typeof body.error_code !== 'number' || typeof body.code !== 'string' || typeof body.message !== 'string' || typeof body.retriable !== 'boolean') {
    throw new Error(`not an error body: ${response.body}`);
  }
  return body;
}

/** A success, or a 4xx in the one error shape with a catalogue code that belongs to that status (the fuzz tests' check). */
export function expectHandled(response: LightMyRequestResponse): void {
  if (response.statusCode < 400) return;
  expect(response.statusCode, response.body).toBeLessThan(500);
  const body = JSON.parse(response.body) as { code: keyof typeof errorCatalogue; error_code: number; message: string; retriable: boolean };
  expect(Object.keys(errorCatalogue)).toContain(body.code);
  expect(errorCatalogue[body.code].httpStatus).toBe(response.statusCode);
  expect(body.error_code).toBe(errorCatalogue[body.code].restCode);
  expect(typeof body.message).toBe('string');
}

export const JSON_V2 = 'application/vnd.kafka.json.v2+json';
export const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';
export const MSGPACK = 'application/vnd.kafka.msgpack';
export const RECORD_BATCH = 'application/vnd.kafka.record-batch';

/** Fetches waiting for records right now, as the metrics endpoint reports them. */
export async function purgatorySize(harness: HttpHarness): Promise<number> {
  const metric = harness.metrics.registry.getSingleMetric('minikafka_fetch_purgatory_size');
  if (metric === undefined) throw new Error('minikafka_fetch_purgatory_size is not registered');
  return (await metric.get()).values[0]?.value ?? 0;
}

/** Polls `condition` every few milliseconds, at most `attempts` times; throws if it never holds. */
export async function eventually(condition: () => Promise<boolean> | boolean, what: string, attempts = 1000): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}
