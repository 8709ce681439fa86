/**
 * POST /produce: many partitions' raw batches in one request. What is stored (read through the
 * core), per-entry results in request order, entries of one partition appended in order, one
 * partition's failure not failing the others, the whole request failing when every entry failed
 * alike, framing checked before anything is written, acks, idempotent retries, and the client's
 * encoder agreeing with the route's parser.
 */

import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { encodeProduceBatches, parseProduceBatches } from '../../../common/produce-batches.ts';
import { isMiniKafkaError } from '../../../common/errors.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import type { HttpHarness } from './http-harness.ts';
import { MSGPACK, errorOf, startHarness } from './http-harness.ts';

const MEDIA_TYPE = 'application/vnd.minikafka.produce-batches';
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

let h: HttpHarness;
beforeEach(async () => {
  h = await startHarness();
  await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 't', partitions: 3 } });
});
afterEach(async () => {
  await h.close();
});

interface Entry {
  topic: string;
  partition: number;
  batch: Buffer;
}

/** The request grammar written out independently of the client's encoder. */
function frame(entries: Entry[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0].writeInt32BE(entries.length);
  for (const { topic, partition, batch } of entries) {
    const topicBytes = Buffer.from(topic, 'utf8');
    const head = Buffer.alloc(2 + topicBytes.length + 8);
    head.writeInt16BE(topicBytes.length, 0);
    topicBytes.copy(head, 2);
    head.writeInt32BE(partition, 2 + topicBytes.length);
    head.writeInt32BE(batch.length, 6 + topicBytes.length);
    parts.push(head, batch);
  }
  return Buffer.concat(parts);
}

function batchOf(...values: string[]): Buffer {
  return encodeRecordBatch({ records: values.map((value) => ({ value })) });
}

function post(body: Buffer, query = '', headers: Record<string, string> = {}) {
  return h.app.inject({ method: 'POST', url: `/produce${query}`, headers: { 'content-type': MEDIA_TYPE, ...headers }, payload: body });
}

async function stored(topic: string, partition: number): Promise<string[]> {
  const { bytes } = await h.core.fetch(topic, partition, { offset: 0, maxBytes: 1 << 20, maxWaitMs: 0 });
  const values: string[] = [];
  for (const { position } of iterateRecordBatches(bytes)) values.push(...decodeRecordBatch(bytes, position).records.map((r) => r.value!.toString()));
  return values;
}

describe('POST /produce', () => {
  test('appends each entry to its partition and answers one result per entry, in request order', async () => {
    const response = await post(frame([
      { topic: 't', partition: 2, batch: batchOf('a', 'b') },
      { topic: 't', partition: 0, batch: batchOf('c') },
      { topic: 't', partition: 2, batch: batchOf('d') },
    ]));
    expect(response.statusCode).toBe(200);
    const base = { log_append_time: -1, log_start_offset: 0, duplicate: false, error: null };
    expect(response.json()).toEqual({ results: [
      { topic: 't', partition: 2, base_offset: 0, ...base },
      { topic: 't', partition: 0, base_offset: 0, ...base },
      { topic: 't', partition: 2, base_offset: 2, ...base },
    ] });
    expect(await stored('t', 2)).toEqual(['a', 'b', 'd']);
    expect(await stored('t', 0)).toEqual(['c']);
  });

  test('fails one entry without failing the others, with the one error body in its result', async () => {
    const response = await post(frame([
      { topic: 't', partition: 0, batch: batchOf('ok') },
      { topic: 't', partition: 9, batch: batchOf('lost') },
    ]));
    expect(response.statusCode).toBe(200);
    const [ok, failed] = response.json().results;
    expect(ok.error).toBeNull();
    expect(failed).toMatchObject({ topic: 't', partition: 9, base_offset: -1, error: { code: 'UNKNOWN_TOPIC_OR_PARTITION', error_code: 40401, retriable: false } });
    expect(await stored('t', 0)).toEqual(['ok']);
  });

  test('fails the whole request with the error when every entry failed alike', async () => {
    const damaged = batchOf('x');
    damaged[damaged.length - 1] ^= 0xff;
    const response = await post(frame([{ topic: 't', partition: 0, batch: damaged }, { topic: 't', partition: 1, batch: Buffer.from(damaged) }]));
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'CORRUPT_MESSAGE', retriable: false });
    expect(await stored('t', 0)).toEqual([]);
  });

  test('refuses a frame that overruns the body, trailing bytes, or no entries, with INVALID_REQUEST and writes nothing', async () => {
    const good = frame([{ topic: 't', partition: 0, batch: batchOf('a') }, { topic: 't', partition: 1, batch: batchOf('b') }]);
    for (const body of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.from([0, 0, 0, 0]), Buffer.from([0, 0])]) {
      const response = await post(body);
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INVALID_REQUEST');
    }
    const negative = frame([{ topic: 't', partition: 0, batch: batchOf('a') }]);
    negative.writeInt32BE(-1, 4 + 2 + 1);
    expect(errorOf(await post(negative)).message).toMatch(/partition -1 is negative/);
    expect(await stored('t', 0)).toEqual([]);
    expect(await stored('t', 1)).toEqual([]);
  });

  test('answers a retry of an idempotent batch with its original offsets and writes it once', async () => {
    const { producer_id: producerId, producer_epoch: producerEpoch } = (await h.app.inject({ method: 'POST', url: '/producers' })).json();
    const batch = encodeRecordBatch({ records: [{ value: 'once' }], producerId, producerEpoch, baseSequence: 0 });
    const body = frame([{ topic: 't', partition: 1, batch }]);
    expect((await post(Buffer.from(body))).json().results[0]).toMatchObject({ base_offset: 0, duplicate: false });
    expect((await post(Buffer.from(body))).json().results[0]).toMatchObject({ base_offset: 0, duplicate: true });
    expect(await stored('t', 1)).toEqual(['once']);
  });

  test('hides offsets with acks=0, answers msgpack when asked, and creates unknown topics like the other produce routes', async () => {
    const hidden = await post(frame([{ topic: 't', partition: 0, batch: batchOf('a') }]), '?acks=0');
    expect(hidden.json().results[0].base_offset).toBe(-1);
    const packed = await post(frame([{ topic: 'fresh', partition: 0, batch: batchOf('b') }]), '?acks=1', { accept: MSGPACK });
    expect(packed.headers['content-type']).toMatch(/msgpack/);
    expect(unpackr.unpack(packed.rawPayload).results[0]).toMatchObject({ topic: 'fresh', base_offset: 0, error: null });
    expect(await stored('fresh', 0)).toEqual(['b']);
  });

  test('refuses other content types with UNSUPPORTED_CONTENT_TYPE and a bad acks with INVALID_REQUEST', async () => {
    const wrongType = await h.app.inject({ method: 'POST', url: '/produce', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(errorOf(wrongType).code).toBe('UNSUPPORTED_CONTENT_TYPE');
    expect(errorOf(await post(frame([{ topic: 't', partition: 0, batch: batchOf('a') }]), '?acks=2')).code).toBe('INVALID_REQUEST');
  });

  test('encodeProduceBatches() (common/, the SDK producer\'s) writes the grammar byte for byte, and parseProduceBatches() gives every entry back', () => {
    const entries = [
      { topic: 't', partition: 0, batch: batchOf('a') },
      { topic: 'ünïcode.topic', partition: 2_147_483_647, batch: batchOf('b', 'c') },
    ];
    const parsed = parseProduceBatches(encodeProduceBatches(entries));
    expect(parsed.map((e) => ({ ...e, batch: Buffer.from(e.batch) }))).toEqual(entries);
    expect(encodeProduceBatches(entries)).toEqual(frame(entries));
  });

  test('parseProduceBatches() gives back any framed entries, and refuses any other bytes only with INVALID_REQUEST', () => {
    const entryArbitrary = fc.record({ topic: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), partition: fc.integer({ min: 0, max: 2 ** 31 - 1 }), batch: fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)) });
    fc.assert(fc.property(fc.array(entryArbitrary, { minLength: 1, maxLength: 8 }), (entries) => {
      expect(parseProduceBatches(frame(entries)).map((e) => ({ ...e, batch: Buffer.from(e.batch) }))).toEqual(entries);
    }));
    fc.assert(fc.property(fc.array(entryArbitrary, { minLength: 1, maxLength: 4 }), fc.nat(), fc.uint8Array({ maxLength: 16 }), (entries, cutAt, noise) => {
      const framed = frame(entries);
      const damaged = Buffer.concat([framed.subarray(0, cutAt % framed.length), Buffer.from(noise)]);
      try {
        parseProduceBatches(damaged);
      } catch (error) {
        expect(isMiniKafkaError(error, 'INVALID_REQUEST')).toBe(true);
      }
    }));
  });
});
