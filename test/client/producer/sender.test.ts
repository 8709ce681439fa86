/**
 * The sender's failure handling against a real broker: a connection dropped after the broker
 * appended (idempotent retries give no duplicates; without idempotence the same drop duplicates,
 * which shows the test can tell), a broker restart in the middle of a stream (retried, nothing
 * lost, nothing doubled, order kept), errors that must not be retried (MESSAGE_TOO_LARGE: one
 * request only), a sequence gap the broker reports (the send fails, the producer bumps its epoch
 * and goes on), a later batch that overtakes an older one on another connection (retried, not
 * failed, even when the older one's acknowledgement is heard first), and the delivery timeout.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import type { RunningBroker } from '../../../broker/broker.ts';
import { encodeRecordBatch } from '../../../common/record-batch.ts';
import { MiniKafka } from '../../../client/client.ts';
import { BrokerError, ConnectionError, DeliveryTimeoutError } from '../../../client/errors.ts';
import type { ProducerOptions } from '../../../client/producer/producer-config.ts';
import { resolveProducerConfig } from '../../../client/producer/producer-config.ts';
import { Producer } from '../../../client/producer/producer.ts';
import type { TransportRequest, TransportResponse } from '../../../client/transport.ts';
import { Transport } from '../../../client/transport.ts';
import type { DroppingProxy } from '../client-harness.ts';
import { makeDataDir, readBatches, readRecords, requestCount, startDroppingProxy, startTestBroker } from '../client-harness.ts';

let broker: RunningBroker;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(config: Record<string, string | number | boolean> = {}, dataDir?: string, httpPort?: number): Promise<RunningBroker> {
  broker = await startTestBroker(config, { dataDir, httpPort });
  return broker;
}

function producerFor(url: string, options: ProducerOptions = {}): Producer {
  const producer = new MiniKafka({ url }).producer(options);
  cleanups.push(() => producer.close({ timeoutMs: 500 }));
  return producer;
}

async function createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${broker.url}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, partitions, configs }) });
  expect(response.status).toBe(201);
}

/** Every value of `topic`, per key, in log order. */
async function valuesByKey(topic: string, partitions: number): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>();
  for (let partition = 0; partition < partitions; partition++) {
    for (const record of await readRecords(broker.url, topic, partition)) {
      const key = record.key!.toString();
      byKey.set(key, [...(byKey.get(key) ?? []), record.value!.toString()]);
    }
  }
  return byKey;
}

describe('Sender: a connection dropped after the broker appended', () => {
  async function sendThroughDroppingProxy(options: ProducerOptions): Promise<{ proxy: DroppingProxy; byKey: Map<string, string[]> }> {
    await start();
    cleanups.push(() => broker.close());
    await createTopic('d', 2);
    const proxy = await startDroppingProxy(broker.httpPort);
    cleanups.push(() => proxy.close());
    const producer = producerFor(proxy.url, { lingerMs: 0, retryBackoffMs: 10, retryBackoffMaxMs: 50, ...options });
    await producer.send({ topic: 'd', messages: [{ key: 'k0', value: 'warm-up' }, { key: 'k1', value: 'warm-up' }] });
    proxy.dropNextAnswerTo('POST /produce');
    await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send({ topic: 'd', messages: [{ key: `k${i % 2}`, value: `v${i}` }] })));
    return { proxy, byKey: await valuesByKey('d', 2) };
  }

  test('is retried by an idempotent producer without writing any record twice', async () => {
    const { proxy, byKey } = await sendThroughDroppingProxy({});
    expect(proxy.dropped).toBe(1);
    expect(byKey.get('k0')).toEqual(['warm-up', 'v0', 'v2', 'v4', 'v6', 'v8']);
    expect(byKey.get('k1')).toEqual(['warm-up', 'v1', 'v3', 'v5', 'v7', 'v9']);
  });

  test('is retried without idempotence too, and then the dropped batch is in the log twice', async () => {
    const { proxy, byKey } = await sendThroughDroppingProxy({ idempotent: false, maxInFlightRequests: 1 });
    expect(proxy.dropped).toBe(1);
    const all = [...byKey.values()].flat().filter((v) => v !== 'warm-up');
    expect(all.length).toBeGreaterThan(10);
    expect(new Set(all).size).toBe(10);
  });
});

describe('Sender: a broker restart in the middle of a stream', () => {
  test('is retried until the broker is back; every record is in the log once, in send() order per key', async () => {
    const { dir, remove } = makeDataDir();
    cleanups.push(remove);
    await start({}, dir);
    cleanups.push(() => broker.close());
    const port = broker.httpPort;
    await createTopic('r', 3);
    const producer = producerFor(broker.url, { lingerMs: 2, retryBackoffMs: 20, retryBackoffMaxMs: 100 });
    const sends: Array<Promise<unknown>> = [];
    let restart: Promise<void> | null = null;
    for (let i = 0; i < 300; i++) {
      sends.push(producer.send({ topic: 'r', messages: [{ key: `k${i % 6}`, value: String(i) }] }));
      if (i === 100) {
        const stopped = broker;
        restart = (async () => {
          await stopped.close();
          await sleep(150);
          await start({}, dir, port);
        })();
      }
      if (i % 10 === 0) await sleep(3);
    }
    await Promise.all(sends);
    await restart;
    const byKey = await valuesByKey('r', 3);
    for (let k = 0; k < 6; k++) {
      expect(byKey.get(`k${k}`), `key k${k}`).toEqual(Array.from({ length: 50 }, (_, j) => String(k + 6 * j)));
    }
  });
});

describe('Sender: errors that are not retried', () => {
  test('MESSAGE_TOO_LARGE fails the send after one request, and later sends still succeed', async () => {
    await start();
    cleanups.push(() => broker.close());
    await createTopic('big', 1, { 'max.message.bytes': '1024' });
    const producer = producerFor(broker.url, { lingerMs: 0 });
    await producer.send({ topic: 'big', messages: [{ value: 'small' }] });
    const before = await requestCount(broker, '/produce');
    const error = await producer.send({ topic: 'big', messages: [{ value: Buffer.alloc(2000) }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', retriable: false, errorCode: 41301, httpStatus: 413 });
    await producer.send({ topic: 'big', messages: [{ value: 'after' }] });
    // Both answers are counted once the broker's response hooks ran; then exactly two requests.
    for (let i = 0; i < 100 && (await requestCount(broker, '/produce')) < before + 2; i++) await sleep(5);
    await fetch(`${broker.url}/healthz`);
    expect(await requestCount(broker, '/produce')).toBe(before + 2);
    expect((await readRecords(broker.url, 'big', 0)).map((r) => r.value!.toString())).toEqual(['small', 'after']);
  });

  test('a sequence gap the broker reports fails that send; the producer bumps its epoch and sends on from sequence 0', async () => {
    await start();
    cleanups.push(() => broker.close());
    await createTopic('gap', 1);
    const producer = producerFor(broker.url, { lingerMs: 0 });
    await producer.send({ topic: 'gap', messages: [{ value: 'a' }] });
    const [first] = await readBatches(broker.url, 'gap', 0);
    const { producerId, producerEpoch } = first.header;
    // Another writer under the same id takes sequences 1–3: the producer's next batch (sequence 1, one record) is neither next nor a retry.
    const intruder = encodeRecordBatch({ records: [{ value: 'x' }, { value: 'x' }, { value: 'x' }], producerId, producerEpoch, baseSequence: 1 });
    const injected = await fetch(`${broker.url}/topics/gap/partitions/0`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.record-batch' }, body: new Uint8Array(intruder) });
    expect(injected.status).toBe(200);
    const error = await producer.send({ topic: 'gap', messages: [{ value: 'b' }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER', retriable: false });
    await producer.send({ topic: 'gap', messages: [{ value: 'c' }] });
    const batches = await readBatches(broker.url, 'gap', 0);
    expect(batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual(['a', 'x', 'x', 'x', 'c']);
    expect(batches.at(-1)!.header).toMatchObject({ producerId, producerEpoch: producerEpoch + 1, baseSequence: 0 });
  });

  test('retries: 0 without idempotence fails a send at its first connection error', async () => {
    await start();
    const producer = producerFor(broker.url, { lingerMs: 0, idempotent: false, retries: 0 });
    await producer.send({ topic: 'once', messages: [{ value: 'warm-up' }] });
    await broker.close();
    const error = await producer.send({ topic: 'once', messages: [{ value: 'v' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: 'CONNECTION_ERROR', retriable: true });
  });
});

/**
 * The real transport, except that, once armed, the next two `POST /produce` requests swap places
 * on their way and back: the older one leaves only after the broker answered the younger one, and
 * the younger one's answer reaches the producer only after the older one's did. That is what two
 * connections can do to two requests in flight; here it happens every time.
 */
class SwappingTransport extends Transport {
  #swap: { seen: number; olderMayGo: () => void; olderGoes: Promise<void>; olderHeard: () => void; olderWasHeard: Promise<void> } | null = null;
  /** The broker's answer to the younger request, before the producer heard it. */
  youngerOutcome: unknown = null;

  swapNextTwoProduces(): void {
    let olderMayGo!: () => void;
    let olderHeard!: () => void;
    const olderGoes = new Promise<void>((resolve) => (olderMayGo = resolve));
    const olderWasHeard = new Promise<void>((resolve) => (olderHeard = resolve));
    this.#swap = { seen: 0, olderMayGo, olderGoes, olderHeard, olderWasHeard };
  }

  override async request(request: TransportRequest): Promise<TransportResponse> {
    const swap = this.#swap;
    if (swap === null || !request.path.startsWith('/produce?')) return super.request(request);
    swap.seen++;
    if (swap.seen === 1) {
      await swap.olderGoes;
      // setImmediate: every promise reaction to this answer (the sender's included) runs before the younger answer is let through.
      try {
        return await super.request(request);
      } finally {
        setImmediate(swap.olderHeard);
      }
    }
    this.#swap = null;
    const outcome = await super.request(request).then((response) => ({ response }), (error: unknown) => ({ error }));
    this.youngerOutcome = 'error' in outcome ? outcome.error : outcome.response;
    swap.olderMayGo();
    await swap.olderWasHeard;
    if ('error' in outcome) throw outcome.error;
    return outcome.response;
  }
}

describe('Sender: a later batch that overtakes an older one of its partition', () => {
  test('is refused OUT_OF_ORDER_SEQUENCE_NUMBER and retried, even when the older one is acknowledged first; each record once, in order', async () => {
    await start();
    cleanups.push(() => broker.close());
    const transport = new SwappingTransport({ url: broker.url, clientId: 'swap-test', maxConnections: 6 });
    // batchBytes 1: each record is a batch of its own, so the two sends below are two batches in two requests.
    const producer = new Producer(transport, resolveProducerConfig({ lingerMs: 0, batchBytes: 1, retryBackoffMs: 10, retryBackoffMaxMs: 50 }));
    cleanups.push(() => producer.close({ timeoutMs: 500 }));
    // An auto-created topic; the first batch of the epoch is acknowledged before the swap.
    await producer.send({ topic: 'overtaken', messages: [{ value: 'a', partition: 0 }] });
    transport.swapNextTwoProduces();
    const sends = [producer.send({ topic: 'overtaken', messages: [{ value: 'b', partition: 0 }] }), producer.send({ topic: 'overtaken', messages: [{ value: 'c', partition: 0 }] })];
    const outcomes = await Promise.allSettled(sends);
    expect(transport.youngerOutcome).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.status))).toEqual(['fulfilled', 'fulfilled']);
    const batches = await readBatches(broker.url, 'overtaken', 0);
    expect(batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual(['a', 'b', 'c']);
    expect(batches.map((b) => b.header.baseSequence)).toEqual([0, 1, 2]);
  });
});

describe('Sender: the delivery timeout', () => {
  test('fails records not acknowledged within deliveryTimeoutMs with DeliveryTimeoutError, the last failure as its cause', async () => {
    await start();
    const producer = producerFor(broker.url, { lingerMs: 0, requestTimeoutMs: 200, deliveryTimeoutMs: 600, retryBackoffMs: 20, retryBackoffMaxMs: 50 });
    await producer.send({ topic: 'late', messages: [{ value: 'warm-up' }] });
    await broker.close();
    const error = await producer.send({ topic: 'late', messages: [{ value: 'v' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryTimeoutError);
    expect(error).toMatchObject({ code: 'DELIVERY_TIMEOUT', retriable: false, details: { topic: 'late', partition: 0, records: 1 } });
    expect((error as DeliveryTimeoutError).details.attempts).toBeGreaterThan(1);
    expect((error as Error).cause).toBeInstanceOf(ConnectionError);
    expect(producer.bufferedBytes).toBe(0);
  });
});
