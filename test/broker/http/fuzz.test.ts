/**
 * Hostile input against every route: whatever arrives, the answer is a success or a 4xx whose
 * body is the one error shape with a catalogue code for that status; never a 5xx, never a file
 * outside the partition directories; and the broker keeps serving afterwards.
 */

import fs from 'node:fs';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isValidTopicName } from '../../../common/topic-name.ts';
import { encodeRecordBatch } from '../../../common/record-batch.ts';
import type { HttpHarness } from './http-harness.ts';
import { BINARY_V2, JSON_V2, MSGPACK, RECORD_BATCH, expectHandled, startHarness } from './http-harness.ts';

const RUNS = 150;
const packr = new Packr({ useRecords: false });

let h: HttpHarness;
beforeAll(async () => {
  h = await startHarness({ limits: { maxBodyBytes: 64 * 1024, maxRecordsPerRequest: 50, fetchMaxWaitMs: 0 } });
  await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 'fuzz', partitions: 2 } });
});
afterAll(async () => {
  await h.close();
});

/** The broker still answers health checks and takes a produce. */
async function expectStillServing(): Promise<void> {
  expect((await h.app.inject('/healthz')).statusCode).toBe(200);
  const produced = await h.app.inject({ method: 'POST', url: '/topics/fuzz/partitions/0', headers: { 'content-type': JSON_V2 }, payload: { records: [{ value: 'alive' }] } });
  expect(produced.statusCode).toBe(200);
  for (const entry of fs.readdirSync(h.dataDir)) {
    const match = /^(.+)-(\d+)$/.exec(entry);
    if (match !== null) expect(isValidTopicName(match[1]), entry).toBe(true);
  }
}

const trickyNames = fc.constantFrom('..%2F..', '..%2F..%2Fetc', '%2e%2e', '..', '.', '%00', 'a%2Fb', '%5C..%5C', 'x'.repeat(300), '%C0%AE%C0%AE', '%E2%80%AE', 'fuzz%20', '');
const topicSegment = fc.oneof(trickyNames, fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.constant('fuzz'));
const numberText = fc.oneof(
  fc.constantFrom('-1', '0', '1', '1.5', '1e3', '-0', 'NaN', 'Infinity', '9007199254740993', '99999999999999999999999', '0x10', '', ' 1', '%00'),
  fc.integer().map(String),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
);
const contentTypes = fc.constantFrom('application/json', JSON_V2, BINARY_V2, MSGPACK, 'application/x-msgpack', RECORD_BATCH, 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '', 'application/vnd.kafka.v2+json');
const hostileBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.string({ maxLength: 200 }).map((text) => Buffer.from(text)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(packr.pack(value))),
);

describe('fuzzing the HTTP API', () => {
  test('any method, path and body on the topic routes is handled', async () => {
    const routes = fc.tuple(topicSegment, numberText).chain(([topic, number]) =>
      fc.constantFrom(
        ['GET', '/topics'], ['POST', '/topics'], ['GET', `/topics/${topic}`], ['DELETE', `/topics/${topic}`], ['PUT', `/topics/${topic}/configs`],
        ['POST', `/topics/${topic}/partitions`], ['GET', `/topics/${topic}/partitions`], ['GET', `/topics/${topic}/partitions/${number}`],
        ['GET', `/topics/${topic}/partitions/${number}/offsets?timestamp=${number}`], ['POST', '/producers'], ['GET', `/${topic}`],
      ),
    );
    await fc.assert(
      fc.asyncProperty(routes, contentTypes, hostileBody, async ([method, url], contentType, body) => {
        // Never delete the topic the later checks produce to.
        if (method === 'DELETE' && url === '/topics/fuzz') return;
        const headers = contentType === '' ? {} : { 'content-type': contentType };
        expectHandled(await h.app.inject({ method: method as 'GET', url, headers, payload: method === 'GET' ? undefined : body }));
      }),
      { numRuns: RUNS },
    );
    await expectStillServing();
  });

  test('produce routes take any envelope, in every content type, without a server error', async () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.base64String({ maxLength: 12 }), fc.constant(null), fc.constant(undefined));
    /** Mostly well-formed values, now and then a hostile one, so both the happy path and the checks run. */
    const mostly = <T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>) => fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: hostile });
    const record = fc.record(
      {
        key: field,
        value: field,
        partition: mostly(fc.constantFrom(0, 1, null), fc.oneof(fc.integer({ min: -2, max: 3 }), fc.double(), fc.string({ maxLength: 3 }))),
        timestamp: mostly(fc.integer({ min: 0, max: 2 ** 45 }), fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 63))),
        headers: mostly(fc.array(fc.record({ key: fc.string({ maxLength: 5 }), value: fc.oneof(fc.base64String({ maxLength: 8 }), fc.constant(null)) }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
      },
      { requiredKeys: [] },
    );
    const envelope = mostly(fc.record({ records: fc.array(record, { maxLength: 60 }) }), fc.jsonValue({ maxDepth: 3 }));
    const path = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('/topics/fuzz', '/topics/fuzz/partitions/0', '/topics/fuzz/partitions/1') },
      { weight: 1, arbitrary: numberText.map((p) => `/topics/fuzz/partitions/${p}`) },
      { weight: 1, arbitrary: topicSegment.map((t) => `/topics/${t}`) },
    );
    await fc.assert(
      fc.asyncProperty(path, fc.constantFrom(JSON_V2, BINARY_V2, MSGPACK, 'application/json'), envelope, fc.constantFrom('', '?acks=0', '?acks=1', '?acks=all', '?acks=7', '?acks=-1'), async (url, contentType, body, acks) => {
        const payload = contentType === MSGPACK ? packr.pack(body) : JSON.stringify(body) ?? 'null';
        expectHandled(await h.app.inject({ method: 'POST', url: `${url}${acks}`, headers: { 'content-type': contentType }, payload }));
      }),
      { numRuns: RUNS },
    );
    await expectStillServing();
  });

  test('raw batches that are truncated, bit-flipped or random are refused and never appended', async () => {
    const valid = encodeRecordBatch({ records: [{ key: 'k', value: 'v' }, { value: 'w' }] });
    const mutated = fc.oneof(
      fc.integer({ min: 0, max: valid.length - 1 }).map((length) => valid.subarray(0, length)),
      fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([position, mask]) => {
        const copy = Buffer.from(valid);
        copy[position] ^= mask;
        return copy;
      }),
      fc.uint8Array({ minLength: 0, maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc.uint8Array({ minLength: 1, maxLength: 20 }).map((bytes) => Buffer.concat([valid, Buffer.from(bytes)])),
    );
    await fc.assert(
      fc.asyncProperty(mutated, async (batch) => {
        const before = h.core.offsets('fuzz', 1).highWatermark;
        const response = await h.app.inject({ method: 'POST', url: '/topics/fuzz/partitions/1', headers: { 'content-type': RECORD_BATCH }, payload: Buffer.from(batch) });
        expectHandled(response);
        // Bytes 0..20 lie outside the CRC (offset, length, epoch, magic, CRC); a change there may still
        // leave a valid batch (base offset and leader epoch are the broker's to overwrite).
        if (response.statusCode === 200) expect(h.core.offsets('fuzz', 1).highWatermark).toBe(before + 2);
        else expect(h.core.offsets('fuzz', 1).highWatermark).toBe(before);
      }),
      { numRuns: RUNS },
    );
    await expectStillServing();
  });

  test('fetch query strings and Accept headers of any shape are handled', async () => {
    const query = fc.record({ offset: numberText, max_bytes: numberText, timeout: numberText }, { requiredKeys: [] }).map((q) => Object.entries(q).map(([k, v]) => `${k}=${v}`).join('&'));
    const accept = fc.oneof(fc.constantFrom(JSON_V2, BINARY_V2, MSGPACK, RECORD_BATCH, '*/*', 'text/html', '', 'application/*;q=0', `${JSON_V2};q=abc`), fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)));
    await fc.assert(
      fc.asyncProperty(topicSegment, numberText, query, accept, async (topic, partition, q, acceptHeader) => {
        const headers = acceptHeader === '' ? {} : { accept: acceptHeader };
        expectHandled(await h.app.inject({ url: `/topics/${topic}/partitions/${partition}/records?${q}`, headers }));
      }),
      { numRuns: RUNS },
    );
    await expectStillServing();
  });
});
