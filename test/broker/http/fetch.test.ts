/**
 * The stateless partition fetch: each format's round trip, offsets before the request dropped,
 * range errors with the valid range, Accept negotiation, query limits, and long polls that are
 * woken by an append (observed through the purgatory gauge, never by timing).
 */

import { Packr, Unpackr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { HttpHarness } from './http-harness.ts';
import { BINARY_V2, JSON_V2, MSGPACK, errorOf, eventually, purgatorySize, startHarness } from './http-harness.ts';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

let h: HttpHarness;
beforeEach(async () => {
  h = await startHarness({ limits: { fetchMaxWaitMs: 15_000 } });
  await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 't', partitions: 1 } });
});
afterEach(async () => {
  await h.close();
});

function produceJson(records: unknown[]) {
  return h.app.inject({ method: 'POST', url: '/topics/t/partitions/0', headers: { 'content-type': JSON_V2 }, payload: { records } });
}

function fetchRecords(query: string, accept?: string) {
  return h.app.inject({ url: `/topics/t/partitions/0/records?${query}`, headers: accept === undefined ? {} : { accept } });
}

describe('GET /topics/:topic/partitions/:partition/records', () => {
  test('json round trip: values come back as the JSON that was sent, with topic, partition, offset, timestamp and headers', async () => {
    await produceJson([
      { key: 'k', value: { nested: [1, 'two', null] }, timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: 'v' }] },
      { value: 'text' },
      { key: 7, value: null },
    ]);
    const response = await fetchRecords('offset=0', JSON_V2);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.kafka\.json\.v2\+json/);
    const records = response.json();
    expect(records[0]).toEqual({ topic: 't', partition: 0, offset: 0, timestamp: 1_700_000_000_000, key: 'k', value: { nested: [1, 'two', null] }, headers: [{ key: 'h', value: 'v' }] });
    expect(records.slice(1).map((r: { key: unknown; value: unknown }) => [r.key, r.value])).toEqual([[null, 'text'], [7, null]]);
  });

  test('json: bytes that are not JSON come back as their UTF-8 text', async () => {
    await h.app.inject({ method: 'POST', url: '/topics/t/partitions/0', headers: { 'content-type': BINARY_V2 }, payload: { records: [{ value: Buffer.from('plain text').toString('base64') }] } });
    expect((await fetchRecords('offset=0')).json()[0].value).toBe('plain text');
  });

  test('binary round trip: base64 in, the same base64 out', async () => {
    const value = Buffer.from([0, 255, 1, 254]).toString('base64');
    await h.app.inject({ method: 'POST', url: '/topics/t/partitions/0', headers: { 'content-type': BINARY_V2 }, payload: { records: [{ key: 'AA==', value, headers: { h: 'AQI=' } }] } });
    const response = await fetchRecords('offset=0', BINARY_V2);
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.kafka\.binary\.v2\+json/);
    expect(response.json()[0]).toMatchObject({ key: 'AA==', value, headers: [{ key: 'h', value: 'AQI=' }] });
  });

  test('msgpack round trip: stored bytes come back as msgpack bin', async () => {
    await h.app.inject({ method: 'POST', url: '/topics/t/partitions/0', headers: { 'content-type': MSGPACK }, payload: packr.pack({ records: [{ key: Buffer.from('k'), value: { a: 1 } }] }) });
    const response = await fetchRecords('offset=0', MSGPACK);
    expect(response.headers['content-type']).toBe(MSGPACK);
    const [record] = unpackr.unpack(response.rawPayload);
    expect(record.key).toEqual(Buffer.from('k'));
    expect(unpackr.unpack(record.value)).toEqual({ a: 1 });
  });

  test('drops the records of the first batch that lie before the requested offset', async () => {
    await produceJson([{ value: 0 }, { value: 1 }, { value: 2 }, { value: 3 }]);
    expect((await fetchRecords('offset=2')).json().map((r: { offset: number }) => r.offset)).toEqual([2, 3]);
  });

  test('max_bytes caps the answer at whole batches, at least one', async () => {
    for (let i = 0; i < 5; i++) await produceJson([{ value: 'x'.repeat(100) }]);
    const oneBatch = (await fetchRecords('offset=0&max_bytes=1')).json();
    expect(oneBatch.map((r: { offset: number }) => r.offset)).toEqual([0]);
    expect((await fetchRecords('offset=0&max_bytes=100000')).json()).toHaveLength(5);
  });

  test('answers with the high watermark and log start offset headers in every format', async () => {
    await produceJson([{ value: 1 }]);
    const response = await fetchRecords('offset=0');
    expect(response.headers['x-high-watermark']).toBe('1');
    expect(response.headers['x-log-start-offset']).toBe('0');
  });

  test('an offset past the log end is OFFSET_OUT_OF_RANGE (416) with the valid range, and no file path', async () => {
    await produceJson([{ value: 1 }, { value: 2 }]);
    const response = await fetchRecords('offset=3');
    expect(response.statusCode).toBe(416);
    const error = errorOf(response);
    expect(error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', error_code: 41601, details: { topic: 't', partition: 0, offset: 3, logStartOffset: 0, highWatermark: 2 } });
    expect(JSON.stringify(error.details)).not.toContain(h.dataDir);
    expect((await fetchRecords('offset=2')).json()).toEqual([]);
  });

  test.each([
    ['', 'offset is required'],
    ['offset=-1', 'negative offset'],
    ['offset=1.5', 'fractional offset'],
    ['offset=abc', 'not a number'],
    ['offset=99999999999999999999', 'past 2^53'],
    ['offset=0&max_bytes=0', 'zero max_bytes'],
    ['offset=0&timeout=-5', 'negative timeout'],
  ])('refuses ?%s (%s) with INVALID_REQUEST', async (query) => {
    const response = await fetchRecords(query);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe('INVALID_REQUEST');
  });

  test('a timeout over minikafka.fetch.max.wait.ms is INVALID_REQUEST naming the limit', async () => {
    const response = await fetchRecords('offset=0&timeout=15001');
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'INVALID_REQUEST', details: { limit: 'minikafka.fetch.max.wait.ms', maxWaitMs: 15_000, timeout: 15_001 } });
  });

  test('an Accept it cannot answer is NOT_ACCEPTABLE (406); */* and no Accept give JSON', async () => {
    const refused = await fetchRecords('offset=0', 'text/html, image/*');
    expect(refused.statusCode).toBe(406);
    expect(errorOf(refused)).toMatchObject({ code: 'NOT_ACCEPTABLE', error_code: 40601 });
    expect((await fetchRecords('offset=0', '*/*')).headers['content-type']).toMatch(/json/);
    expect((await fetchRecords('offset=0', `text/html, ${BINARY_V2};q=0.5`)).headers['content-type']).toMatch(/binary/);
    expect((await fetchRecords('offset=0', `${MSGPACK};q=0.2, ${BINARY_V2};q=0.9`)).headers['content-type']).toMatch(/binary/);
  });

  test('answers 404 for an unknown topic or partition', async () => {
    expect(errorOf(await h.app.inject('/topics/nope/partitions/0/records?offset=0')).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect((await h.app.inject('/topics/t/partitions/1/records?offset=0')).statusCode).toBe(404);
  });
});

describe('long polling', () => {
  test('a waiting fetch returns as soon as a record is appended (woken by the append, not by its timeout)', async () => {
    const pending = fetchRecords('offset=0&timeout=10000');
    await eventually(async () => (await purgatorySize(h)) === 1, 'the fetch to wait');
    await produceJson([{ value: 'arrived' }]);
    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(response.json().map((r: { value: unknown }) => r.value)).toEqual(['arrived']);
    expect(await purgatorySize(h)).toBe(0);
  });

  test('a waiting fetch with nothing appended returns an empty list after its timeout', async () => {
    const response = await fetchRecords('offset=0&timeout=50');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([]);
  });

  test('closing the app ends waiting fetches at once, with what they have', async () => {
    const pending = fetchRecords('offset=0&timeout=10000');
    await eventually(async () => (await purgatorySize(h)) === 1, 'the fetch to wait');
    await h.app.close();
    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([]);
  });
});
