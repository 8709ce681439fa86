/**
 * Produce in the REST Proxy v2 shape (json, binary and msgpack formats): what is stored (read back
 * through the core, not the route under test), where records land (murmur2 for keys), acks,
 * per-record and whole-request errors, and the named limits.
 */

import { Packr, Unpackr } from 'msgpackr';
import { afterEach, describe, expect, test } from 'vitest';
import { partitionForKey } from '../../../common/murmur2.ts';
import { decodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import type { DecodedRecord } from '../../../common/record-batch.ts';
import type { HarnessOptions, HttpHarness } from './http-harness.ts';
import { BINARY_V2, JSON_V2, MSGPACK, RECORD_BATCH, errorOf, startHarness } from './http-harness.ts';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

let h: HttpHarness;
async function start(options: HarnessOptions = {}): Promise<HttpHarness> {
  h = await startHarness(options);
  return h;
}
afterEach(async () => {
  await h.close();
});

async function createTopic(name: string, partitions = 1, configs: Record<string, string> = {}): Promise<void> {
  const response = await h.app.inject({ method: 'POST', url: '/topics', payload: { name, partitions, configs } });
  expect(response.statusCode).toBe(201);
}

function produce(url: string, contentType: string, body: unknown) {
  const payload = contentType === MSGPACK ? packr.pack(body) : JSON.stringify(body);
  return h.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
}

/** The records of a partition as stored, read through the core (not through the route under test). */
async function storedRecords(topic: string, partition: number): Promise<DecodedRecord[]> {
  const { bytes } = await h.core.fetch(topic, partition, { offset: 0, maxBytes: 1 << 20, maxWaitMs: 0 });
  const records: DecodedRecord[] = [];
  for (const { position } of iterateRecordBatches(bytes)) records.push(...decodeRecordBatch(bytes, position).records);
  return records;
}

describe('POST /topics/:topic in the json format', () => {
  test('stores keys and values as their JSON text, as REST Proxy v2 does, and answers offsets per record', async () => {
    await start();
    await createTopic('t');
    const response = await produce('/topics/t', JSON_V2, { records: [{ key: 'k1', value: 'hi' }, { key: { id: 7 }, value: [1, 2] }, { value: null }] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      offsets: [0, 1, 2].map((offset) => ({ partition: 0, offset, error_code: null, error: null })),
      key_schema_id: null,
      value_schema_id: null,
    });
    const stored = await storedRecords('t', 0);
    expect(stored.map((r) => r.key?.toString())).toEqual(['"k1"', '{"id":7}', undefined]);
    expect(stored.map((r) => r.value?.toString() ?? null)).toEqual(['"hi"', '[1,2]', null]);
  });

  test('application/json is the json format too', async () => {
    await start();
    await createTopic('t');
    expect((await produce('/topics/t', 'application/json', { records: [{ value: { a: 1 } }] })).statusCode).toBe(200);
    expect((await storedRecords('t', 0))[0].value?.toString()).toBe('{"a":1}');
  });

  test('puts a keyed record on the partition murmur2 gives for its key bytes, as Kafka does', async () => {
    await start();
    await createTopic('t', 6);
    const keys = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const response = await produce('/topics/t', JSON_V2, { records: keys.map((key) => ({ key, value: 1 })) });
    const partitions = response.json().offsets.map((o: { partition: number }) => o.partition);
    // The json format stores the key as JSON text, so the hashed bytes include the quotes.
    expect(partitions).toEqual(keys.map((key) => partitionForKey(Buffer.from(JSON.stringify(key)), 6)));
    expect(new Set(partitions).size).toBeGreaterThan(1);
  });

  test('sends keyless records of one request to one partition (sticky), and an explicit partition wins', async () => {
    await start();
    await createTopic('t', 4);
    const sticky = await produce('/topics/t', JSON_V2, { records: Array.from({ length: 10 }, (_, i) => ({ value: i })) });
    expect(new Set(sticky.json().offsets.map((o: { partition: number }) => o.partition)).size).toBe(1);
    const explicit = await produce('/topics/t', JSON_V2, { records: [{ key: 'x', value: 1, partition: 3 }, { value: 2, partition: 2 }] });
    expect(explicit.json().offsets.map((o: { partition: number }) => o.partition)).toEqual([3, 2]);
  });

  test('keeps headers in either shape, and record timestamps', async () => {
    await start();
    await createTopic('t');
    await produce('/topics/t', JSON_V2, {
      records: [
        { value: 1, timestamp: 1_700_000_000_000, headers: [{ key: 'trace', value: 'abc' }, { name: 'trace', value: 'def' }, { key: 'empty', value: null }] },
        { value: 2, headers: { source: 'web' } },
      ],
    });
    const [first, second] = await storedRecords('t', 0);
    expect(first.timestamp).toBe(1_700_000_000_000);
    expect(first.headers.map((x) => [x.key, x.value?.toString() ?? null])).toEqual([['trace', 'abc'], ['trace', 'def'], ['empty', null]]);
    expect(second.headers.map((x) => [x.key, x.value?.toString()])).toEqual([['source', 'web']]);
  });
});

describe('POST /topics/:topic in the binary and msgpack formats', () => {
  test('binary: base64 keys, values and header values are stored as the bytes they encode', async () => {
    await start();
    await createTopic('t', 3);
    const key = Buffer.from('user-1');
    const value = Buffer.from([0, 1, 2, 255]);
    const response = await produce('/topics/t', BINARY_V2, { records: [{ key: key.toString('base64'), value: value.toString('base64'), headers: [{ key: 'h', value: Buffer.from('v').toString('base64') }] }] });
    const [{ partition }] = response.json().offsets;
    expect(partition).toBe(partitionForKey(key, 3));
    const [record] = await storedRecords('t', partition);
    expect(record.key).toEqual(key);
    expect(record.value).toEqual(value);
    expect(record.headers[0].value).toEqual(Buffer.from('v'));
  });

  test('binary: refuses a value that is not base64, naming the field', async () => {
    await start();
    await createTopic('t');
    for (const value of ['not base64!', 'abc$', 'a', 42]) {
      const response = await produce('/topics/t', BINARY_V2, { records: [{ value: 'AAAA' }, { value }] });
      expect(response.statusCode, String(value)).toBe(400);
      expect(errorOf(response)).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'records[1].value' } });
    }
    expect(await storedRecords('t', 0)).toEqual([]);
  });

  test('msgpack: bin fields are stored as they are, other values msgpack-encoded', async () => {
    await start();
    await createTopic('t');
    const response = await produce('/topics/t', MSGPACK, { records: [{ key: Buffer.from('raw-key'), value: { n: 1, s: 'x' }, headers: { h: Buffer.from([9]) } }] });
    expect(response.statusCode).toBe(200);
    const [record] = await storedRecords('t', 0);
    expect(record.key).toEqual(Buffer.from('raw-key'));
    expect(unpackr.unpack(record.value!)).toEqual({ n: 1, s: 'x' });
    expect(record.headers[0].value).toEqual(Buffer.from([9]));
  });

  test('application/x-msgpack is accepted as the msgpack format; a body that is not msgpack is INVALID_REQUEST', async () => {
    await start();
    await createTopic('t');
    expect((await h.app.inject({ method: 'POST', url: '/topics/t', headers: { 'content-type': 'application/x-msgpack' }, payload: packr.pack({ records: [{ value: 'v' }] }) })).statusCode).toBe(200);
    const bad = await h.app.inject({ method: 'POST', url: '/topics/t', headers: { 'content-type': MSGPACK }, payload: Buffer.from([0x93, 0x01]) });
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).code).toBe('INVALID_REQUEST');
  });
});

describe('produce acks and errors', () => {
  test('acks=0 answers without offsets; acks=1 and acks=all with them; anything else is INVALID_REQUEST', async () => {
    await start();
    await createTopic('t');
    expect((await produce('/topics/t?acks=0', JSON_V2, { records: [{ value: 1 }] })).json().offsets[0].offset).toBe(-1);
    expect((await produce('/topics/t?acks=1', JSON_V2, { records: [{ value: 1 }] })).json().offsets[0].offset).toBe(1);
    expect((await produce('/topics/t?acks=all', JSON_V2, { records: [{ value: 1 }] })).json().offsets[0].offset).toBe(2);
    expect((await produce('/topics/t?acks=-1', JSON_V2, { records: [{ value: 1 }] })).json().offsets[0].offset).toBe(3);
    expect(errorOf(await produce('/topics/t?acks=2', JSON_V2, { records: [{ value: 1 }] })).code).toBe('INVALID_REQUEST');
  });

  test('acks=all on a topic with min.insync.replicas=2 fails with NOT_ENOUGH_REPLICAS (503, retriable)', async () => {
    await start();
    await createTopic('t', 1, { 'min.insync.replicas': '2' });
    const response = await produce('/topics/t', JSON_V2, { records: [{ value: 1 }] });
    expect(response.statusCode).toBe(503);
    expect(errorOf(response)).toMatchObject({ code: 'NOT_ENOUGH_REPLICAS', retriable: true });
    expect((await produce('/topics/t?acks=1', JSON_V2, { records: [{ value: 1 }] })).statusCode).toBe(200);
  });

  test('creates an unknown topic on produce when auto-create is on, and answers 404 when it is off', async () => {
    await start();
    expect((await produce('/topics/fresh', JSON_V2, { records: [{ value: 1 }] })).statusCode).toBe(200);
    expect(h.core.topics.list()).toEqual(['fresh']);
    await h.close();
    await start({ autoCreateTopics: false });
    const response = await produce('/topics/fresh', JSON_V2, { records: [{ value: 1 }] });
    expect(response.statusCode).toBe(404);
    expect(errorOf(response).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  test('reports a failed partition per record while the others succeed, and fails the request when all records fail alike', async () => {
    await start();
    await createTopic('t', 2);
    const mixed = await produce('/topics/t', JSON_V2, { records: [{ value: 1, partition: 0 }, { value: 2, partition: 7 }] });
    expect(mixed.statusCode).toBe(200);
    const [ok, failed] = mixed.json().offsets;
    expect(ok).toEqual({ partition: 0, offset: 0, error_code: null, error: null });
    expect(failed).toMatchObject({ partition: 7, offset: -1, error_code: 40401 });
    expect(failed.error).toContain('no partition 7');
    const allFailed = await produce('/topics/t/partitions/5', JSON_V2, { records: [{ value: 1 }, { value: 2 }] });
    expect(allFailed.statusCode).toBe(404);
    expect(errorOf(allFailed).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  test('a record larger than max.message.bytes fails with MESSAGE_TOO_LARGE (413)', async () => {
    await start();
    await createTopic('t', 1, { 'max.message.bytes': '200' });
    const response = await produce('/topics/t', JSON_V2, { records: [{ value: 'x'.repeat(1000) }] });
    expect(response.statusCode).toBe(413);
    expect(errorOf(response).code).toBe('MESSAGE_TOO_LARGE');
  });

  test('refuses more records than minikafka.http.max.records.per.request with REQUEST_TOO_LARGE (413), naming the limit', async () => {
    await start({ limits: { maxRecordsPerRequest: 5 } });
    await createTopic('t');
    const response = await produce('/topics/t', JSON_V2, { records: Array.from({ length: 6 }, () => ({ value: 1 })) });
    expect(response.statusCode).toBe(413);
    expect(errorOf(response)).toMatchObject({ code: 'REQUEST_TOO_LARGE', error_code: 41302, details: { limit: 'minikafka.http.max.records.per.request', maxRecords: 5, records: 6 } });
    expect((await produce('/topics/t', JSON_V2, { records: Array.from({ length: 5 }, () => ({ value: 1 })) })).statusCode).toBe(200);
  });

  test('refuses a body over minikafka.http.max.body.bytes with REQUEST_TOO_LARGE (413), naming the limit', async () => {
    await start({ limits: { maxBodyBytes: 1024 } });
    await createTopic('t');
    const response = await produce('/topics/t', JSON_V2, { records: [{ value: 'x'.repeat(2000) }] });
    expect(response.statusCode).toBe(413);
    expect(errorOf(response)).toMatchObject({ code: 'REQUEST_TOO_LARGE', details: { limit: 'minikafka.http.max.body.bytes', maxBytes: 1024 } });
  });

  test.each([
    ['text/plain', 'hello'],
    ['application/xml', '<records/>'],
    [RECORD_BATCH, 'raw'],
  ])('refuses a body of type %s on /topics/:topic with UNSUPPORTED_CONTENT_TYPE (415)', async (contentType, payload) => {
    await start();
    await createTopic('t');
    const response = await h.app.inject({ method: 'POST', url: '/topics/t', headers: { 'content-type': contentType }, payload });
    expect(response.statusCode).toBe(415);
    expect(errorOf(response)).toMatchObject({ code: 'UNSUPPORTED_CONTENT_TYPE', error_code: 41501 });
  });

  test.each<[unknown, string]>([
    [{}, 'no records field'],
    [{ records: {} }, 'records not an array'],
    [{ records: [{ value: 1, partition: -1 }] }, 'negative partition'],
    [{ records: [{ value: 1, partition: 2 ** 31 }] }, 'partition over int32'],
    [{ records: [{ value: 1, partition: 0.5 }] }, 'fractional partition'],
    [{ records: [{ value: 1, timestamp: -5 }] }, 'negative timestamp'],
    [{ records: [{ value: 1, timestamp: 2 ** 60 }] }, 'timestamp past 2^53'],
    [{ records: [{ value: 1, headers: [{ value: 'no key' }] }] }, 'header without key'],
    [{ records: [{ value: 1, headers: 'h=v' }] }, 'headers as a string'],
    [{ records: [{ value: 1, headers: { h: 5 } }] }, 'header value not a string'],
  ])('refuses %j (%s) with INVALID_REQUEST and writes nothing', async (body) => {
    await start();
    await createTopic('t');
    const response = await produce('/topics/t', JSON_V2, body);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe('INVALID_REQUEST');
    expect(await storedRecords('t', 0)).toEqual([]);
  });

  test('an empty records list is answered with no offsets', async () => {
    await start();
    await createTopic('t');
    expect((await produce('/topics/t', JSON_V2, { records: [] })).json().offsets).toEqual([]);
  });
});
