/**
 * ListOffsets (earliest, latest, by timestamp), producer id allocation and epoch bumps, the broker
 * list, and the health check before and during shutdown.
 */

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { HttpHarness } from './http-harness.ts';
import { JSON_V2, errorOf, startHarness } from './http-harness.ts';

let h: HttpHarness;
beforeEach(async () => {
  h = await startHarness();
  await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 't', partitions: 1 } });
});
afterEach(async () => {
  await h.close();
});

function produceAt(timestamps: number[]) {
  return h.app.inject({ method: 'POST', url: '/topics/t/partitions/0', headers: { 'content-type': JSON_V2 }, payload: { records: timestamps.map((timestamp) => ({ value: timestamp, timestamp })) } });
}

describe('GET /topics/:topic/partitions/:partition/offsets', () => {
  test('answers the log start offset and the high watermark', async () => {
    expect((await h.app.inject('/topics/t/partitions/0/offsets')).json()).toEqual({ beginning_offset: 0, end_offset: 0 });
    await produceAt([1000, 2000, 3000]);
    expect((await h.app.inject('/topics/t/partitions/0/offsets')).json()).toEqual({ beginning_offset: 0, end_offset: 3 });
  });

  test('with ?timestamp= answers the first record at or after it, in milliseconds or as an ISO date', async () => {
    await produceAt([Date.parse('2024-01-01T00:00:00Z'), Date.parse('2024-06-01T00:00:00Z'), Date.parse('2025-01-01T00:00:00Z')]);
    expect((await h.app.inject(`/topics/t/partitions/0/offsets?timestamp=${Date.parse('2024-03-01T00:00:00Z')}`)).json()).toEqual({ offset: 1, timestamp: Date.parse('2024-06-01T00:00:00Z') });
    expect((await h.app.inject('/topics/t/partitions/0/offsets?timestamp=2024-06-01T00:00:00Z')).json()).toEqual({ offset: 1, timestamp: Date.parse('2024-06-01T00:00:00Z') });
    expect((await h.app.inject('/topics/t/partitions/0/offsets?timestamp=2023-01-01')).json().offset).toBe(0);
  });

  test('answers offset -1 and timestamp -1 when no record is that new, as Kafka does', async () => {
    await produceAt([1000]);
    expect((await h.app.inject('/topics/t/partitions/0/offsets?timestamp=5000')).json()).toEqual({ offset: -1, timestamp: -1 });
  });

  test('takes Kafka\'s special timestamps: -1 for the end offset, -2 for the beginning', async () => {
    await produceAt([1000, 2000]);
    expect((await h.app.inject('/topics/t/partitions/0/offsets?timestamp=-1')).json()).toEqual({ offset: 2, timestamp: -1 });
    expect((await h.app.inject('/topics/t/partitions/0/offsets?timestamp=-2')).json()).toEqual({ offset: 0, timestamp: -1 });
  });

  test.each(['yesterday', '-3', '1e3', '2024-13-45', '99999999999999999'])('refuses ?timestamp=%s with INVALID_REQUEST', async (timestamp) => {
    const response = await h.app.inject(`/topics/t/partitions/0/offsets?timestamp=${timestamp}`);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe('INVALID_REQUEST');
  });

  test('answers 404 for an unknown partition', async () => {
    expect((await h.app.inject('/topics/t/partitions/3/offsets')).statusCode).toBe(404);
  });
});

describe('POST /producers', () => {
  test('allocates a new producer id with epoch 0, with no body, an empty object or producer_id -1', async () => {
    const first = (await h.app.inject({ method: 'POST', url: '/producers' })).json();
    const second = (await h.app.inject({ method: 'POST', url: '/producers', payload: {} })).json();
    const third = (await h.app.inject({ method: 'POST', url: '/producers', payload: { producer_id: -1, producer_epoch: -1 } })).json();
    expect([first.producer_epoch, second.producer_epoch, third.producer_epoch]).toEqual([0, 0, 0]);
    expect(new Set([first.producer_id, second.producer_id, third.producer_id]).size).toBe(3);
  });

  test('bumps the epoch of a known producer id', async () => {
    const { producer_id: producerId } = (await h.app.inject({ method: 'POST', url: '/producers' })).json();
    const bumped = await h.app.inject({ method: 'POST', url: '/producers', payload: { producer_id: producerId, producer_epoch: 0 } });
    expect(bumped.json()).toEqual({ producer_id: producerId, producer_epoch: 1 });
  });

  test('refuses an id it never allocated with UNKNOWN_PRODUCER_ID, and malformed bodies with INVALID_REQUEST', async () => {
    const unknown = await h.app.inject({ method: 'POST', url: '/producers', payload: { producer_id: 123_456, producer_epoch: 0 } });
    expect(unknown.statusCode).toBe(400);
    expect(errorOf(unknown).code).toBe('UNKNOWN_PRODUCER_ID');
    for (const payload of [{ producer_id: 0 }, { producer_id: -2, producer_epoch: 0 }, { producer_id: 0, producer_epoch: 40_000 }, { producer_id: 'x' }]) {
      const response = await h.app.inject({ method: 'POST', url: '/producers', payload });
      expect(errorOf(response).code, JSON.stringify(payload)).toBe('INVALID_REQUEST');
    }
  });
});

describe('GET /brokers', () => {
  test('lists the one broker, id 0, as REST Proxy v2 does', async () => {
    expect((await h.app.inject('/brokers')).json()).toEqual({ brokers: [0] });
  });
});

describe('GET /healthz', () => {
  test('answers 200 { status: ok } while serving and 503 BROKER_SHUTTING_DOWN once the core is stopping', async () => {
    const ok = await h.app.inject('/healthz');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok' });
    h.core.beginShutdown();
    const stopping = await h.app.inject('/healthz');
    expect(stopping.statusCode).toBe(503);
    expect(errorOf(stopping)).toMatchObject({ code: 'BROKER_SHUTTING_DOWN', error_code: 50304, retriable: true });
    expect(stopping.headers.connection).toBe('close');
    expect(errorOf(await h.app.inject('/topics')).code).toBe('BROKER_SHUTTING_DOWN');
  });
});
