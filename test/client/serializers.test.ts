/**
 * The built-in serdes: each round trips its values, null is Kafka's null in all of them, wrong
 * types are refused, and records produced through the SDK read back through the broker equal what
 * was sent (the JSON serde's bytes also equal what the broker's own json format stores).
 */

import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import type { RunningBroker } from '../../broker/broker.ts';
import { MiniKafka } from '../../client/client.ts';
import { InvalidArgumentError } from '../../client/errors.ts';
import { serializers } from '../../client/serializers.ts';
import type { RecordField } from '../../client/serializers.ts';
import { readRecords, startTestBroker } from './client-harness.ts';

const toBytes = (field: RecordField): Buffer | null => (field === null ? null : Buffer.isBuffer(field) ? field : Buffer.from(field, 'utf8'));

describe('serializers', () => {
  test('json and msgpack round trip any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      fc.pre(value !== null);
      // msgpackr renames a __proto__ key on unpack (so no prototype can come from the wire).
      fc.pre(!JSON.stringify(value).includes('"__proto__"'));
      // Both formats write -0 as 0; compare through that normalisation.
      const expected = JSON.parse(JSON.stringify(value));
      expect(serializers.json.deserialize(toBytes(serializers.json.serialize(value)))).toEqual(expected);
      expect(serializers.msgpack.deserialize(toBytes(serializers.msgpack.serialize(value)))).toEqual(expected);
    }));
  });

  test('string and buffer round trip their values; raw passes Buffers and strings through', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.uint8Array(), (text, bytes) => {
      expect(serializers.string.deserialize(toBytes(serializers.string.serialize(text)))).toBe(text);
      expect(serializers.buffer.deserialize(toBytes(serializers.buffer.serialize(bytes)))).toEqual(Buffer.from(bytes));
    }));
    const buffer = Buffer.from('x');
    expect(serializers.raw.serialize(buffer)).toBe(buffer);
    expect(serializers.raw.serialize('text')).toBe('text');
  });

  test('null is Kafka null in every serde, both ways', () => {
    for (const serde of Object.values(serializers)) {
      expect(serde.serialize(null as never), serde.name).toBeNull();
      expect(serde.deserialize(null), serde.name).toBeNull();
    }
  });

  test('refuses values a serde cannot write with INVALID_ARGUMENT', () => {
    expect(() => serializers.raw.serialize({ a: 1 } as never)).toThrow(InvalidArgumentError);
    expect(() => serializers.string.serialize(5 as never)).toThrow(/takes a string; got number/);
    expect(() => serializers.buffer.serialize('x' as never)).toThrow(InvalidArgumentError);
    expect(() => serializers.json.serialize(() => 1)).toThrow(InvalidArgumentError);
  });
});

describe('serializers through a real broker', () => {
  let broker: RunningBroker;
  afterEach(async () => {
    await broker.close();
  });

  test('a json producer writes the bytes the broker’s json format writes, and they read back equal', async () => {
    broker = await startTestBroker();
    const client = new MiniKafka({ url: broker.url });
    const producer = client.producer({ keySerializer: serializers.string, valueSerializer: serializers.json });
    const value = { item: 'book', qty: 2, tags: ['a', 'ü'], nested: { ok: true } };
    await producer.send({ topic: 'j', messages: [{ key: 'alice', value, partition: 0 }] });
    await producer.close();
    await fetch(`${broker.url}/topics/j/partitions/0`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, body: JSON.stringify({ records: [{ value }] }) });
    const [viaSdk, viaRest] = await readRecords(broker.url, 'j', 0);
    expect(viaSdk.key!.toString()).toBe('alice');
    expect(serializers.json.deserialize(viaSdk.value)).toEqual(value);
    expect(viaSdk.value).toEqual(viaRest.value);
  });

  test('a msgpack producer’s values read back equal, Buffers included', async () => {
    broker = await startTestBroker();
    const producer = new MiniKafka({ url: broker.url }).producer({ valueSerializer: serializers.msgpack });
    const values = [{ n: 1, bytes: Buffer.from([0, 255]) }, [1, 'two', 3.5], 'text'];
    await producer.send({ topic: 'm', messages: values.map((value) => ({ value, partition: 0 })) });
    await producer.close();
    const records = await readRecords(broker.url, 'm', 0);
    expect(records.map((r) => serializers.msgpack.deserialize(r.value))).toEqual(values);
  });
});
