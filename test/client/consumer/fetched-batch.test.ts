/**
 * decodeFetch(): raw record batches as a fetch answers them, turned into messages. Batches are
 * built with the common codec (encodeRecordBatch), placed at the offsets a log would give them,
 * and cut as a fetch may cut them.
 */

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { crc32c } from '../../../common/crc32c.ts';
import { HeaderPosition } from '../../../common/record-batch-header.ts';
import { encodeRecordBatch, setBaseOffset } from '../../../common/record-batch.ts';
import type { RecordInput } from '../../../common/record-batch.ts';
import { MiniKafkaClientError } from '../../../client/errors.ts';
import { decodeFetch, nextFetchOffset } from '../../../client/consumer/fetched-batch.ts';
import { serializers } from '../../../client/serializers.ts';

const raw = serializers.buffer;

function batchAt(baseOffset: number, records: RecordInput[]): Buffer {
  const batch = encodeRecordBatch({ records });
  setBaseOffset(batch, baseOffset);
  return batch;
}

/** A control batch (a transaction marker) as the log would hold it: the control bit set, the CRC made again. */
function controlBatchAt(baseOffset: number): Buffer {
  const batch = batchAt(baseOffset, [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }]);
  batch.writeInt16BE(batch.readInt16BE(HeaderPosition.attributes) | 0x20, HeaderPosition.attributes);
  batch.writeUInt32BE(crc32c(batch, HeaderPosition.attributes), HeaderPosition.crc);
  return batch;
}

const values = (records: RecordInput[]): string[] => records.map((r) => String(r.value));
const numbered = (from: number, count: number): RecordInput[] => Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, timestamp: 1_700_000_000_000 + i }));

describe('decodeFetch()', () => {
  test('hands out the records at and after the fetch offset; the first batch may begin earlier', () => {
    const bytes = Buffer.concat([batchAt(0, numbered(0, 5)), batchAt(5, numbered(5, 5))]);
    const decoded = decodeFetch(bytes, 'orders', 2, 3, raw, raw);
    expect(decoded.messages.map((m) => m.offset)).toEqual(['3', '4', '5', '6', '7', '8', '9']);
    expect(decoded.messages.map((m) => m.value!.toString())).toEqual(values(numbered(3, 7)));
    expect(decoded.messages[0]).toMatchObject({ topic: 'orders', partition: 2, timestamp: String(1_700_000_000_003), key: Buffer.from('k3'), headers: {} });
    expect(decoded.nextOffset).toBe(10);
  });

  test('leaves a trailing partial batch for the next fetch', () => {
    const second = batchAt(3, numbered(3, 3));
    const bytes = Buffer.concat([batchAt(0, numbered(0, 3)), second.subarray(0, second.length - 7)]);
    const decoded = decodeFetch(bytes, 't', 0, 0, raw, raw);
    expect(decoded.messages.map((m) => m.offset)).toEqual(['0', '1', '2']);
    expect(decoded.nextOffset).toBe(3);
    expect(decodeFetch(second.subarray(0, 70), 't', 0, 3, raw, raw)).toEqual({ messages: [], nextOffset: 3 });
  });

  test('never hands out a control batch, but steps over its offsets', () => {
    const bytes = Buffer.concat([batchAt(0, numbered(0, 2)), controlBatchAt(2), batchAt(3, numbered(3, 1))]);
    const decoded = decodeFetch(bytes, 't', 0, 0, raw, raw);
    expect(decoded.messages.map((m) => m.offset)).toEqual(['0', '1', '3']);
    expect(decoded.nextOffset).toBe(4);
    expect(decodeFetch(controlBatchAt(7), 't', 0, 7, raw, raw)).toEqual({ messages: [], nextOffset: 8 });
  });

  test('gives headers as KafkaJS does: a Buffer per key, an array for a repeated key, null kept', () => {
    const bytes = batchAt(0, [{ value: 'v', headers: [{ key: 'trace', value: 'a' }, { key: 'hop', value: 'x' }, { key: 'hop', value: 'y' }, { key: 'hop', value: null }, { key: '__proto__', value: 'p' }] }]);
    const [message] = decodeFetch(bytes, 't', 0, 0, raw, raw).messages;
    expect(message.headers.trace).toEqual(Buffer.from('a'));
    expect(message.headers.hop).toEqual([Buffer.from('x'), Buffer.from('y'), null]);
    expect(Object.getPrototypeOf(message.headers)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(message.headers, '__proto__')?.value).toEqual(Buffer.from('p'));
  });

  test('deserializes keys and values; null stays null; a value the deserializer refuses is an error naming the record', () => {
    const good = batchAt(10, [{ key: 'a', value: '{"n":1}' }, { key: null, value: null }]);
    expect(decodeFetch(good, 'readings', 1, 10, serializers.string, serializers.json).messages.map((m) => [m.key, m.value])).toEqual([['a', { n: 1 }], [null, null]]);

    const bad = batchAt(10, [{ key: 'a', value: '{"n":1}' }, { key: null, value: null }, { key: 'c', value: 'not json' }]);
    expect(() => decodeFetch(bad, 'readings', 1, 10, serializers.string, serializers.json)).toThrow(expect.objectContaining({
      code: 'INVALID_RECORD', retriable: false, details: { topic: 'readings', partition: 1, offset: 12, field: 'value', deserializer: 'json' },
    }));
    expect(() => decodeFetch(bad, 'readings', 1, 10, serializers.string, serializers.json)).toThrow(MiniKafkaClientError);
  });

  test('refuses a batch whose CRC does not match, naming the partition and the fetch offset', () => {
    const bytes = batchAt(0, numbered(0, 3));
    bytes[bytes.length - 2] ^= 0xff;
    expect(() => decodeFetch(bytes, 'orders', 4, 1, raw, raw)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE', details: { topic: 'orders', partition: 4, offset: 1 } }));
  });
});

describe('nextFetchOffset()', () => {
  test('agrees with decodeFetch on where the next fetch starts, for any run of batches, control batches, fetch offset and cut', () => {
    const batchSpec = fc.record({ count: fc.integer({ min: 1, max: 6 }), isControl: fc.boolean(), gap: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(batchSpec, { minLength: 1, maxLength: 6 }), fc.nat(), fc.nat(), (specs, fetchPick, cutPick) => {
        let offset = 0;
        const batches = specs.map(({ count, isControl, gap }) => {
          offset += gap;
          const batch = isControl ? controlBatchAt(offset) : batchAt(offset, numbered(offset, count));
          offset += isControl ? 1 : count;
          return batch;
        });
        const whole = Buffer.concat(batches);
        const bytes = whole.subarray(0, whole.length - (cutPick % Math.min(whole.length, 200)));
        const fetchOffset = fetchPick % (offset + 1);
        expect(nextFetchOffset(bytes, 't', 0, fetchOffset)).toBe(decodeFetch(bytes, 't', 0, fetchOffset, raw, raw).nextOffset);
      }),
    );
  });

  test('reads headers only: a damaged record does not stop it, a batch length that cannot be stepped over does', () => {
    const bytes = batchAt(0, numbered(0, 3));
    bytes[bytes.length - 2] ^= 0xff;
    expect(nextFetchOffset(bytes, 'orders', 4, 0)).toBe(3);
    bytes.writeInt32BE(3, HeaderPosition.batchLength);
    expect(() => nextFetchOffset(bytes, 'orders', 4, 0)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE', details: { topic: 'orders', partition: 4, offset: 0 } }));
  });
});
