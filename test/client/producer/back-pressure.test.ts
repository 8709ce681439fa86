/**
 * The producer's bounded buffer against a real broker: send() waits for room when the buffer
 * (bufferMemoryBytes) is full and goes on as acknowledgements free it; with the broker gone it
 * fails after maxBlockMs with BUFFER_EXHAUSTED, and close({ timeoutMs }) fails what is stuck.
 */

import { afterEach, describe, expect, test } from 'vitest';
import type { RunningBroker } from '../../../broker/broker.ts';
import { MiniKafka } from '../../../client/client.ts';
import { BufferExhaustedError, ClientClosedError } from '../../../client/errors.ts';
import { readRecords, startTestBroker } from '../client-harness.ts';

let broker: RunningBroker;
afterEach(async () => {
  await broker.close();
});

describe('Producer back-pressure', () => {
  test('send() waits while the buffer is full and succeeds as acknowledgements free it, never holding more than bufferMemoryBytes', async () => {
    broker = await startTestBroker();
    const producer = new MiniKafka({ url: broker.url }).producer({ bufferMemoryBytes: 2048, lingerMs: 5 });
    await producer.send({ topic: 'bp', messages: [{ value: 'warm-up', partition: 0 }] });
    const value = 'x'.repeat(200);
    let highestBufferedBytes = 0;
    const sends = Array.from({ length: 40 }, (_, i) => {
      const sent = producer.send({ topic: 'bp', messages: [{ value: `${i}:${value}`, partition: 0 }] });
      highestBufferedBytes = Math.max(highestBufferedBytes, producer.bufferedBytes);
      return sent.then(() => (highestBufferedBytes = Math.max(highestBufferedBytes, producer.bufferedBytes)));
    });
    // 40 records of about 210 bytes: most of them cannot be buffered at once.
    expect(producer.bufferedBytes).toBeLessThanOrEqual(2048);
    expect(producer.bufferedBytes).toBeGreaterThan(0);
    await Promise.all(sends);
    expect(highestBufferedBytes).toBeLessThanOrEqual(2048);
    const stored = (await readRecords(broker.url, 'bp', 0)).map((r) => r.value!.toString().split(':')[0]);
    expect(stored).toEqual(['warm-up', ...Array.from({ length: 40 }, (_, i) => String(i))]);
    await producer.close();
    expect(producer.bufferedBytes).toBe(0);
  });

  test('with the broker stopped, send() fails after maxBlockMs with BUFFER_EXHAUSTED; close({ timeoutMs }) fails the stuck records', async () => {
    broker = await startTestBroker();
    const producer = new MiniKafka({ url: broker.url }).producer({ bufferMemoryBytes: 1024, maxBlockMs: 200, lingerMs: 0, retryBackoffMs: 20, retryBackoffMaxMs: 50 });
    await producer.send({ topic: 'gone', messages: [{ value: 'warm-up' }] });
    await broker.close();
    const stuck = producer.send({ topic: 'gone', messages: [{ value: 'a'.repeat(800) }] }).catch((e: unknown) => e);
    const blocked = await producer.send({ topic: 'gone', messages: [{ value: 'b'.repeat(800) }] }).catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(BufferExhaustedError);
    expect(blocked).toMatchObject({ code: 'BUFFER_EXHAUSTED', retriable: true, details: { bufferMemoryBytes: 1024, maxBlockMs: 200 } });
    expect((blocked as Error).message).toMatch(/waited 200 ms \(maxBlockMs\)/);
    await producer.close({ timeoutMs: 0 });
    expect(await stuck).toBeInstanceOf(ClientClosedError);
    expect(producer.bufferedBytes).toBe(0);
  });
});
