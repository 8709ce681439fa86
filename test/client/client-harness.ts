/**
 * What the SDK tests share: a real broker in this process (startBroker: port 0, a temporary data
 * directory unless one is given), a way to read a partition back through the broker's fetch
 * route (raw batches, decoded with the common codec, not with anything under test), the HTTP
 * request count per route from the broker's metrics, and a TCP proxy that can drop a connection
 * after the broker answered but before the client hears the answer.
 */

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { RunningBroker, StartBrokerOptions } from '../../broker/broker.ts';
import { startBroker } from '../../broker/broker.ts';
import { decodeRecordBatch, iterateRecordBatches } from '../../common/record-batch.ts';
import type { DecodedBatch, DecodedRecord } from '../../common/record-batch.ts';

export async function startTestBroker(config: Record<string, string | number | boolean> = {}, options: StartBrokerOptions = {}): Promise<RunningBroker> {
  return startBroker({ config, ...options });
}

/** A temporary directory for a broker that must outlive one startBroker (restarts); removed by the returned function. */
export function makeDataDir(): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minikafka-client-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Every batch of a partition from offset 0, read through `GET …/records` with the record-batch Accept. */
export async function readBatches(url: string, topic: string, partition: number): Promise<DecodedBatch[]> {
  const batches: DecodedBatch[] = [];
  let offset = 0;
  for (let round = 0; round < 10_000; round++) {
    const response = await fetch(`${url}/topics/${topic}/partitions/${partition}/records?offset=${offset}`, { headers: { accept: 'application/vnd.kafka.record-batch' } });
    if (response.status !== 200) throw new Error(`fetch of ${topic}/${partition} at ${offset} answered ${response.status}: ${await response.text()}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length === 0) return batches;
    for (const { position } of iterateRecordBatches(bytes)) {
      const batch = decodeRecordBatch(bytes, position);
      if (batch.header.lastOffset < offset) continue;
      batches.push(batch);
      offset = batch.header.lastOffset + 1;
    }
  }
  throw new Error(`gave up reading ${topic}/${partition}`);
}

/** Every record of a partition, in offset order. */
export async function readRecords(url: string, topic: string, partition: number): Promise<DecodedRecord[]> {
  return (await readBatches(url, topic, partition)).flatMap((batch) => batch.records);
}

/** How many requests the broker answered on `route` (a route pattern such as /produce), from its Prometheus metrics. */
export async function requestCount(broker: RunningBroker, route: string): Promise<number> {
  const metric = broker.metrics.registry.getSingleMetric('minikafka_http_request_duration_seconds');
  if (metric === undefined) throw new Error('minikafka_http_request_duration_seconds is not registered');
  const { values } = await metric.get();
  return values
    .filter((v) => (v as { metricName?: string }).metricName === 'minikafka_http_request_duration_seconds_count' && v.labels.route === route)
    .reduce((sum, v) => sum + v.value, 0);
}

export interface DroppingProxy {
  readonly url: string;
  /** Answers withheld so far: each one's connection was destroyed instead. */
  readonly dropped: number;
  /** Withhold the answer to the next request whose first bytes contain `marker`, and drop its connection. */
  dropNextAnswerTo(marker: string): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1, port 0, in front of `targetPort`. Bytes pass through untouched,
 * except that, once armed, the answer to the next request that carries `marker` is never
 * forwarded: when the broker's answer arrives (so the broker has done the work), both sockets
 * are destroyed. The client sees its connection reset before any answer, as after a network
 * failure at the worst moment.
 */
export async function startDroppingProxy(targetPort: number): Promise<DroppingProxy> {
  let armedMarker: string | null = null;
  let dropped = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let shouldDropAnswer = false;
    client.on('data', (chunk: Buffer) => {
      if (armedMarker !== null && chunk.toString('latin1').includes(armedMarker)) {
        armedMarker = null;
        shouldDropAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (shouldDropAnswer) {
        dropped++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get dropped() {
      return dropped;
    },
    dropNextAnswerTo(marker) {
      armedMarker = marker;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Values `prefix-0` … in order: what a test sends and then expects back. */
export function numbered(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}
