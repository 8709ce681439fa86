/**
 * The SDK's raw path: one RecordBatch v2 in, its offsets out; idempotent retries, sequence gaps and
 * fenced epochs; damaged batches refused without a write; raw fetches that return the stored bytes.
 */

import { Unpackr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { crc32c } from '../../../common/crc32c.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import type { BatchInput } from '../../../common/record-batch.ts';
import type { HttpHarness } from './http-harness.ts';
import { MSGPACK, RECORD_BATCH, errorOf, startHarness } from './http-harness.ts';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

let h: HttpHarness;
beforeEach(async () => {
  h = await startHarness();
  await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 't', partitions: 2 } });
});
afterEach(async () => {
  await h.close();
});

function batchOf(count: number, options: Partial<BatchInput> = {}): Buffer {
  return encodeRecordBatch({ records: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}` })), ...options });
}

function produceBatch(batch: Buffer, options: { partition?: number; accept?: string; query?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': RECORD_BATCH };
  if (options.accept !== undefined) headers.accept = options.accept;
  return h.app.inject({ method: 'POST', url: `/topics/t/partitions/${options.partition ?? 0}${options.query ?? ''}`, headers, payload: batch });
}

async function storedBatchCount(partition = 0): Promise<{ batches: number; records: number }> {
  const { bytes } = await h.core.fetch('t', partition, { offset: 0, maxBytes: 1 << 20, maxWaitMs: 0 });
  let batches = 0;
  let records = 0;
  for (const { header } of iterateRecordBatches(bytes)) {
    batches += 1;
    records += header.recordCount;
  }
  return { batches, records };
}

/** Rewrites the attributes of an encoded batch and fixes its CRC, so only the attribute is wrong. */
function withAttributes(batch: Buffer, attributes: number): Buffer {
  const copy = Buffer.from(batch);
  copy.writeInt16BE(attributes, 21);
  copy.writeUInt32BE(crc32c(copy, 21), 17);
  return copy;
}

describe('POST /topics/:topic/partitions/:partition with a raw record batch', () => {
  test('appends the batch as is and answers its base offset', async () => {
    const first = await produceBatch(batchOf(3));
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ partition: 0, base_offset: 0, log_append_time: -1, log_start_offset: 0, duplicate: false });
    expect((await produceBatch(batchOf(2))).json().base_offset).toBe(3);
    expect(await storedBatchCount()).toEqual({ batches: 2, records: 5 });
    // acks=0 hides the offset, as the JSON path does, but the batch is written.
    expect((await produceBatch(batchOf(1), { query: '?acks=0' })).json().base_offset).toBe(-1);
    expect(await storedBatchCount()).toEqual({ batches: 3, records: 6 });
  });

  test('answers in msgpack when Accept asks for it, and refuses an Accept it cannot meet before appending', async () => {
    const response = await produceBatch(batchOf(1), { accept: MSGPACK });
    expect(response.headers['content-type']).toBe(MSGPACK);
    expect(unpackr.unpack(response.rawPayload)).toEqual({ partition: 0, base_offset: 0, log_append_time: -1, log_start_offset: 0, duplicate: false });
    const refused = await produceBatch(batchOf(1), { accept: 'text/html' });
    expect(refused.statusCode).toBe(406);
    expect(errorOf(refused).code).toBe('NOT_ACCEPTABLE');
    expect(await storedBatchCount()).toEqual({ batches: 1, records: 1 });
  });

  test('reports the broker time for a LogAppendTime topic', async () => {
    await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 'lat', configs: { 'message.timestamp.type': 'LogAppendTime' } } });
    const before = Date.now();
    const response = await h.app.inject({ method: 'POST', url: '/topics/lat/partitions/0', headers: { 'content-type': RECORD_BATCH }, payload: batchOf(1, { baseTimestamp: 5 }) });
    expect(response.json().log_append_time).toBeGreaterThanOrEqual(before);
  });

  test('an idempotent retry of the same producer id, epoch and sequence is answered with the original offsets and not written again', async () => {
    const { producer_id: producerId, producer_epoch: producerEpoch } = (await h.app.inject({ method: 'POST', url: '/producers' })).json();
    await produceBatch(batchOf(2, { producerId, producerEpoch, baseSequence: 0 }));
    const batch = batchOf(3, { producerId, producerEpoch, baseSequence: 2 });
    const first = (await produceBatch(Buffer.from(batch))).json();
    const retry = (await produceBatch(Buffer.from(batch))).json();
    expect(first).toMatchObject({ base_offset: 2, duplicate: false });
    expect(retry).toMatchObject({ base_offset: 2, duplicate: true });
    expect(await storedBatchCount()).toEqual({ batches: 2, records: 5 });
    // A damaged copy of that retry is refused for its CRC, not taken for a duplicate.
    const damaged = Buffer.from(batch);
    damaged[damaged.length - 1] ^= 0x5a;
    const refused = await produceBatch(damaged);
    expect(refused.statusCode).toBe(400);
    expect(errorOf(refused).code).toBe('CORRUPT_MESSAGE');
  });

  test('a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER (409) and nothing is written', async () => {
    const { producer_id: producerId } = (await h.app.inject({ method: 'POST', url: '/producers' })).json();
    await produceBatch(batchOf(1, { producerId, producerEpoch: 0, baseSequence: 0 }));
    const gap = await produceBatch(batchOf(1, { producerId, producerEpoch: 0, baseSequence: 5 }));
    expect(gap.statusCode).toBe(409);
    expect(errorOf(gap)).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER', error_code: 40902, retriable: false });
    expect(await storedBatchCount()).toEqual({ batches: 1, records: 1 });
  });

  test('a batch from a fenced (older) epoch is INVALID_PRODUCER_EPOCH (409)', async () => {
    const first = (await h.app.inject({ method: 'POST', url: '/producers' })).json();
    const bumped = (await h.app.inject({ method: 'POST', url: '/producers', payload: first })).json();
    expect(bumped).toEqual({ producer_id: first.producer_id, producer_epoch: first.producer_epoch + 1 });
    await produceBatch(batchOf(1, { producerId: bumped.producer_id, producerEpoch: bumped.producer_epoch, baseSequence: 0 }));
    const fenced = await produceBatch(batchOf(1, { producerId: first.producer_id, producerEpoch: first.producer_epoch, baseSequence: 1 }));
    expect(fenced.statusCode).toBe(409);
    expect(errorOf(fenced).code).toBe('INVALID_PRODUCER_EPOCH');
  });

  test.each([
    ['an empty body', Buffer.alloc(0), 'CORRUPT_MESSAGE'],
    ['a truncated header', batchOf(1).subarray(0, 40), 'CORRUPT_MESSAGE'],
    ['a truncated batch', batchOf(2).subarray(0, 70), 'CORRUPT_MESSAGE'],
    ['a flipped byte under the CRC', (() => { const b = batchOf(2); b[b.length - 3] ^= 0xff; return b; })(), 'CORRUPT_MESSAGE'],
    ['two batches in one body', Buffer.concat([batchOf(1), batchOf(1)]), 'CORRUPT_MESSAGE'],
    ['magic 1', (() => { const b = batchOf(1); b[16] = 1; return b; })(), 'CORRUPT_MESSAGE'],
    ['zstd compression', withAttributes(batchOf(1), 4), 'UNSUPPORTED_COMPRESSION_TYPE'],
    ['a control batch', withAttributes(batchOf(1), 0x20), 'INVALID_RECORD'],
  ])('refuses %s with %s and writes nothing', async (_name, body, code) => {
    const response = await produceBatch(Buffer.from(body));
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe(code);
    expect(await storedBatchCount()).toEqual({ batches: 0, records: 0 });
  });

  test('refuses a batch for a partition the topic lacks with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const response = await produceBatch(batchOf(1), { partition: 2 });
    expect(response.statusCode).toBe(404);
    expect(errorOf(response).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});

describe('GET …/records with Accept: application/vnd.kafka.record-batch', () => {
  test('returns the stored batches byte for byte, with the high watermark and log start offset in headers', async () => {
    await produceBatch(batchOf(2));
    await produceBatch(batchOf(3));
    const response = await h.app.inject({ url: '/topics/t/partitions/0/records?offset=0', headers: { accept: RECORD_BATCH } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(RECORD_BATCH);
    expect(response.headers['x-high-watermark']).toBe('5');
    expect(response.headers['x-log-start-offset']).toBe('0');
    const { bytes } = await h.core.fetch('t', 0, { offset: 0, maxBytes: 1 << 20, maxWaitMs: 0 });
    expect(response.rawPayload.equals(bytes)).toBe(true);
    const batches = [...iterateRecordBatches(response.rawPayload)].map(({ position }) => decodeRecordBatch(response.rawPayload, position));
    expect(batches.map((b) => b.header.baseOffset)).toEqual([0, 2]);
    expect(batches[1].records.map((r) => r.value?.toString())).toEqual(['v0', 'v1', 'v2']);
  });

  test('starts with the whole batch holding the offset, as Kafka does', async () => {
    await produceBatch(batchOf(4));
    const response = await h.app.inject({ url: '/topics/t/partitions/0/records?offset=2', headers: { accept: RECORD_BATCH } });
    const [first] = [...iterateRecordBatches(response.rawPayload)];
    expect(first.header.baseOffset).toBe(0);
    expect(first.header.lastOffset).toBe(3);
  });

  test('a gzip batch produced raw is decoded record by record for a JSON fetch', async () => {
    await produceBatch(encodeRecordBatch({ compression: 'gzip', records: [{ key: 'a', value: '{"n":1}' }, { key: 'b', value: '{"n":2}' }] }));
    const records = (await h.app.inject('/topics/t/partitions/0/records?offset=1')).json();
    expect(records.map((r: { offset: number; key: unknown; value: unknown }) => [r.offset, r.key, r.value])).toEqual([[1, 'b', { n: 2 }]]);
  });

  test('answers an empty body at the log end offset', async () => {
    await produceBatch(batchOf(1));
    const response = await h.app.inject({ url: '/topics/t/partitions/0/records?offset=1', headers: { accept: RECORD_BATCH } });
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.length).toBe(0);
    expect(response.headers['x-high-watermark']).toBe('1');
  });
});
