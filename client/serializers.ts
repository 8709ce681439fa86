/**
 * Serializers: how a message's key and value become the bytes of a record, and back.
 *
 * A `Serde<T>` turns a T into what a record field holds (a Buffer, a string written as its UTF-8
 * bytes, or null for Kafka's null) and back. The producer uses `serialize`, the consumer
 * `deserialize`. In every built-in serde, null is Kafka's null (no key, or a tombstone value),
 * never the encoding of null:
 *
 * | serde       | serialize                       | deserialize                      |
 * |-------------|---------------------------------|----------------------------------|
 * | `raw`       | Buffer or string as is (KafkaJS's rule) | the Buffer                |
 * | `buffer`    | a Buffer (or Uint8Array) as is  | the Buffer                       |
 * | `string`    | a string as UTF-8               | the bytes as UTF-8               |
 * | `json`      | JSON.stringify as UTF-8         | JSON.parse of the UTF-8          |
 * | `msgpack`   | msgpackr's pack                 | msgpackr's unpack                |
 *
 * The JSON serde stores exactly the bytes the broker's json format stores (docs/http-api.md), so
 * records produced either way read back the same either way.
 */

import { Packr } from 'msgpackr';
import { InvalidArgumentError } from './errors.ts';

/** What a serializer may hand to the record encoder: bytes, a string (written as UTF-8), or null. */
export type RecordField = Buffer | string | null;

export interface Serde<T> {
  /** A short name for error messages. */
  readonly name: string;
  serialize(value: T): RecordField;
  deserialize(bytes: Buffer | null): T | null;
}

/** KafkaJS's rule: Buffer or string, as is. */
const raw: Serde<Buffer | string | null> = {
  name: 'raw',
  serialize(value) {
    if (value === null || value === undefined || typeof value === 'string' || Buffer.isBuffer(value)) return value ?? null;
    throw notSerializable('raw', value, 'a Buffer, a string or null (or choose the json or msgpack serializer)');
  },
  deserialize: (bytes) => bytes,
};

const buffer: Serde<Uint8Array> = {
  name: 'buffer',
  serialize(value) {
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    throw notSerializable('buffer', value, 'a Buffer or Uint8Array');
  },
  deserialize: (bytes) => bytes,
};

const string: Serde<string> = {
  name: 'string',
  serialize(value) {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') throw notSerializable('string', value, 'a string');
    return value;
  },
  deserialize: (bytes) => (bytes === null ? null : bytes.toString('utf8')),
};

const json: Serde<unknown> = {
  name: 'json',
  serialize(value) {
    if (value === null || value === undefined) return null;
    const text = JSON.stringify(value);
    if (text === undefined) throw notSerializable('json', value, 'a value JSON.stringify can write');
    return text;
  },
  deserialize: (bytes) => (bytes === null ? null : JSON.parse(bytes.toString('utf8'))),
};

// useRecords off: each value is self-contained, so a consumer without this Packr can unpack it.
const packr = new Packr({ useRecords: false });

const msgpack: Serde<unknown> = {
  name: 'msgpack',
  serialize(value) {
    if (value === null || value === undefined) return null;
    return packr.pack(value);
  },
  deserialize: (bytes) => (bytes === null ? null : packr.unpack(bytes)),
};

/** The built-in serdes; see the table in this file's header. */
export const serializers = Object.freeze({ raw, buffer, string, json, msgpack });

function notSerializable(serde: string, value: unknown, expected: string): InvalidArgumentError {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return new InvalidArgumentError(`the ${serde} serializer takes ${expected}; got ${type === 'object' ? (value as object).constructor?.name ?? 'object' : type}`, { serializer: serde, type });
}
