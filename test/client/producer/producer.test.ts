/**
 * The producer against a real broker in this process: where records land (explicit partition,
 * murmur2 for keys against the fact sheet's vectors, sticky for null keys), order within a
 * partition under many concurrent sends with linger, what send() resolves with, flush() and
 * close() delivering what is buffered, acks=0, idempotent batches on the wire, topic metadata
 * (auto-creation, unknown partitions), and the argument checks. Records are read back through
 * the broker's fetch route and decoded with the common codec.
 */

import { afterEach, describe, expect, test } from 'vitest';
import type { RunningBroker } from '../../../broker/broker.ts';
import { MiniKafka } from '../../../client/client.ts';
import { BrokerError, ClientClosedError, InvalidArgumentError, MiniKafkaClientError } from '../../../client/errors.ts';
import type { Producer } from '../../../client/producer/producer.ts';
import type { ProducerOptions } from '../../../client/producer/producer-config.ts';
import { numbered, readBatches, readRecords, startTestBroker } from '../client-harness.ts';

let broker: RunningBroker;
let client: MiniKafka;
const producers: Array<{ close(options: { timeoutMs: number }): Promise<void> }> = [];

async function start(config: Record<string, string | number | boolean> = {}): Promise<void> {
  broker = await startTestBroker(config);
  client = new MiniKafka({ url: broker.url, clientId: 'producer-test' });
}

function producer(options: ProducerOptions = {}): Producer {
  const created = client.producer(options);
  producers.push(created);
  return created;
}

async function createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${broker.url}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, partitions, configs }) });
  expect(response.status).toBe(201);
}

afterEach(async () => {
  for (const p of producers.splice(0)) await p.close({ timeoutMs: 1000 });
  await broker.close();
});

describe('Producer.send() placement', () => {
  test("puts keyed records where Kafka's murmur2 partitioner does (fact sheet A.3 vectors for 3, 6 and 12 partitions)", async () => {
    await start();
    const vectors: Array<[string, number, number, number]> = [
      ['', 0, 3, 9], ['a', 1, 4, 4], ['hello', 0, 3, 9], ['kafka', 1, 4, 4], ['user-123', 2, 2, 8], ['order-42', 0, 0, 0],
    ];
    const counts = [3, 6, 12];
    for (const count of counts) await createTopic(`keys-${count}`, count);
    const p = producer();
    for (const count of counts) {
      await p.send({ topic: `keys-${count}`, messages: vectors.map(([key]) => ({ key, value: `value of ${key}` })) });
    }
    for (const [countIndex, count] of counts.entries()) {
      const placed = new Map<string, number>();
      for (let partition = 0; partition < count; partition++) {
        for (const record of await readRecords(broker.url, `keys-${count}`, partition)) placed.set(record.key!.toString(), partition);
      }
      for (const vector of vectors) expect(placed.get(vector[0]), `key ${JSON.stringify(vector[0])} over ${count} partitions`).toBe(vector[1 + countIndex]);
    }
  });

  test('sends a record with an explicit partition there, whatever its key', async () => {
    await start();
    await createTopic('explicit', 4);
    const p = producer();
    const [metadata] = await p.send({ topic: 'explicit', messages: [{ key: 'user-123', value: 'v', partition: 3 }] });
    expect(metadata).toEqual({ topicName: 'explicit', partition: 3, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' });
    expect((await readRecords(broker.url, 'explicit', 3)).map((r) => r.value!.toString())).toEqual(['v']);
  });

  test('keeps records without a key on one partition per batch (sticky) instead of spreading them one by one', async () => {
    await start();
    await createTopic('sticky', 6);
    const p = producer({ lingerMs: 50 });
    const metadata = await p.send({ topic: 'sticky', messages: numbered('v', 20).map((value) => ({ value })) });
    expect(metadata).toHaveLength(1);
    expect((await readRecords(broker.url, 'sticky', metadata[0].partition)).map((r) => r.value!.toString())).toEqual(numbered('v', 20));
  });
});

describe('Producer.send() ordering and results', () => {
  test('keeps each partition in send() order across hundreds of concurrent sends, small batches and several requests in flight', async () => {
    await start();
    await createTopic('ordered', 4);
    const p = producer({ lingerMs: 3, batchBytes: 512 });
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 600; i++) {
      const key = keys[i % keys.length];
      const count = 1 + (i % 3);
      sends.push(p.send({ topic: 'ordered', messages: Array.from({ length: count }, (_, j) => ({ key, value: `${key}:${i}:${j}` })) }));
    }
    await Promise.all(sends);
    const seen = new Map<string, string[]>();
    let total = 0;
    for (let partition = 0; partition < 4; partition++) {
      for (const record of await readRecords(broker.url, 'ordered', partition)) {
        const value = record.value!.toString();
        const list = seen.get(record.key!.toString()) ?? [];
        list.push(value);
        seen.set(record.key!.toString(), list);
        total++;
      }
    }
    expect(total).toBe(Array.from({ length: 600 }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0));
    for (const key of keys) {
      const expected: string[] = [];
      for (let i = 0; i < 600; i++) {
        if (keys[i % keys.length] === key) for (let j = 0; j < 1 + (i % 3); j++) expected.push(`${key}:${i}:${j}`);
      }
      expect(seen.get(key), `key ${key}`).toEqual(expected);
    }
  });

  test('resolves each send() with the offset of its own first record in each partition it wrote to', async () => {
    await start();
    await createTopic('offsets', 2);
    const p = producer({ lingerMs: 20 });
    const [first, second] = await Promise.all([
      p.send({ topic: 'offsets', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }] }),
      p.send({ topic: 'offsets', messages: [{ value: 'd', partition: 1 }, { value: 'e', partition: 0 }] }),
    ]);
    expect(first.map((m) => [m.partition, m.baseOffset])).toEqual([[0, '0'], [1, '0']]);
    expect(second.map((m) => [m.partition, m.baseOffset])).toEqual([[0, '2'], [1, '1']]);
  });

  test('sendBatch() writes several topics in one call', async () => {
    await start();
    const p = producer();
    const metadata = await p.sendBatch({ topicMessages: [{ topic: 'x', messages: [{ value: '1', partition: 0 }] }, { topic: 'y', messages: [{ value: '2', partition: 0 }] }] });
    expect(metadata.map((m) => m.topicName)).toEqual(['x', 'y']);
    expect((await readRecords(broker.url, 'y', 0)).map((r) => r.value!.toString())).toEqual(['2']);
  });

  test('stores headers (repeated keys kept in order) and an explicit timestamp', async () => {
    await start();
    const p = producer();
    await p.send({ topic: 'h', messages: [{ value: 'v', partition: 0, timestamp: '1700000000000', headers: { trace: 'abc', tag: ['x', Buffer.from('y')] } }] });
    const [record] = await readRecords(broker.url, 'h', 0);
    expect(record.timestamp).toBe(1_700_000_000_000);
    expect(record.headers.map((h) => [h.key, h.value!.toString()])).toEqual([['trace', 'abc'], ['tag', 'x'], ['tag', 'y']]);
  });

  test('with acks=0 reports offsets as -1 and still delivers', async () => {
    await start();
    const p = producer({ acks: 0 });
    expect(p.config.idempotent).toBe(false);
    const [metadata] = await p.send({ topic: 'fire', messages: [{ value: 'v', partition: 0 }] });
    expect(metadata.baseOffset).toBe('-1');
    expect(await readRecords(broker.url, 'fire', 0)).toHaveLength(1);
  });

  test("with compression: 'gzip' sends gzip batches that read back as sent", async () => {
    await start();
    const p = producer({ compression: 'gzip' });
    await p.send({ topic: 'z', messages: numbered('v', 50).map((value) => ({ value, partition: 0 })) });
    const [batch] = await readBatches(broker.url, 'z', 0);
    expect(batch.header.compression).toBe(1);
    expect(batch.records.map((r) => r.value!.toString())).toEqual(numbered('v', 50));
  });

  test('sends idempotent batches: a producer id, epoch 0, and sequences that continue per partition', async () => {
    await start();
    await createTopic('idem', 1);
    const p = producer({ lingerMs: 0 });
    await p.send({ topic: 'idem', messages: [{ value: '1' }, { value: '2' }] });
    await p.send({ topic: 'idem', messages: [{ value: '3' }] });
    const batches = await readBatches(broker.url, 'idem', 0);
    expect(batches.map((b) => [b.header.producerEpoch, b.header.baseSequence, b.header.recordCount])).toEqual([[0, 0, 2], [0, 2, 1]]);
    expect(batches[0].header.producerId).toBeGreaterThanOrEqual(0);
    expect(batches[1].header.producerId).toBe(batches[0].header.producerId);
  });
});

describe('Producer.flush() and close()', () => {
  test('flush() sends batches still lingering and resolves once they are acknowledged', async () => {
    await start();
    const p = producer({ lingerMs: 60_000 });
    let isAcknowledged = false;
    const sent = p.send({ topic: 'f', messages: numbered('v', 5).map((value) => ({ value, partition: 0 })) }).then(() => (isAcknowledged = true));
    await p.flush();
    expect(isAcknowledged).toBe(true);
    await sent;
    expect((await readRecords(broker.url, 'f', 0)).map((r) => r.value!.toString())).toEqual(numbered('v', 5));
  });

  test('close() delivers every buffered record, then refuses new sends with CLIENT_CLOSED', async () => {
    await start();
    await createTopic('c', 2);
    const p = producer({ lingerMs: 60_000 });
    const sends = [0, 1, 2].map((i) => p.send({ topic: 'c', messages: [{ value: `v-${i}`, partition: i % 2 }] }));
    await p.close();
    await Promise.all(sends);
    expect((await readRecords(broker.url, 'c', 0)).map((r) => r.value!.toString())).toEqual(['v-0', 'v-2']);
    await expect(p.send({ topic: 'c', messages: [{ value: 'late' }] })).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('Producer metadata', () => {
  test('creates an unknown topic through the broker (auto.create.topics.enable) with num.partitions before placing keys', async () => {
    await start({ 'num.partitions': 6 });
    const p = producer();
    const [metadata] = await p.send({ topic: 'auto', messages: [{ key: 'user-123', value: 'v' }] });
    expect(metadata.partition).toBe(2); // fact sheet A.3: user-123 over 6 partitions
    const listed = (await (await fetch(`${broker.url}/topics/auto/partitions`)).json()) as unknown[];
    expect(listed).toHaveLength(6);
  });

  test('fails with UNKNOWN_TOPIC_OR_PARTITION when the broker does not create topics', async () => {
    await start({ 'auto.create.topics.enable': false });
    const p = producer();
    const error = await p.send({ topic: 'missing', messages: [{ value: 'v' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false, errorCode: 40401, httpStatus: 404 });
  });

  test('refuses a partition the topic does not have, after asking the broker again', async () => {
    await start();
    await createTopic('two', 2);
    const p = producer();
    await p.send({ topic: 'two', messages: [{ value: 'v' }] });
    const error = await p.send({ topic: 'two', messages: [{ value: 'v', partition: 2 }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', details: { topic: 'two', partition: 2, partitions: 2 } });
    await fetch(`${broker.url}/topics/two/partitions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"count":3}' });
    const [metadata] = await p.send({ topic: 'two', messages: [{ value: 'v', partition: 2 }] });
    expect(metadata.partition).toBe(2);
  });
});

describe('Producer argument checks', () => {
  test('refuses bad calls and options with INVALID_ARGUMENT before sending anything', async () => {
    await start();
    const p = producer();
    await expect(p.send({ topic: '', messages: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(p.send({ topic: 't', messages: [{ value: 42 as unknown as string }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(p.send({ topic: 't', messages: [{ value: 'v', partition: -1 }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(p.send({ topic: 't', acks: 1, messages: [{ value: 'v' }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await p.send({ topic: 't', messages: [] })).toEqual([]);
    expect(() => client.producer({ idempotent: true, acks: 1 })).toThrow(/idempotent: true needs acks/);
    expect(() => client.producer({ deliveryTimeoutMs: 1000 })).toThrow(/at least lingerMs \+ requestTimeoutMs/);
    expect(() => client.producer({ maxInFlightRequests: 6 })).toThrow(/at most 5 requests in flight/);
    expect(client.producer({ acks: 1 }).config.idempotent).toBe(false);
  });

  test('fails a record larger than maxRequestBytes with MESSAGE_TOO_LARGE before it is buffered', async () => {
    await start();
    const p = producer({ maxRequestBytes: 1024 });
    const error = await p.send({ topic: 't', messages: [{ value: Buffer.alloc(2000) }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MiniKafkaClientError);
    expect(error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', retriable: false });
    expect(p.bufferedBytes).toBe(0);
  });
});
