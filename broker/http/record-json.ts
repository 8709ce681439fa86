/**
 * Records between their HTTP shapes and the core's: the produce body's records become
 * ProduceRecords (Buffers), fetched record batches become JSON or msgpack objects.
 *
 * How keys, values and header values travel, per format (docs/http-api.md has examples):
 *
 * | format  | produce: key / value                     | fetch: key / value                                  | header values          |
 * |---------|------------------------------------------|-----------------------------------------------------|------------------------|
 * | json    | any JSON; stored as its JSON text, so    | parsed as JSON where the bytes are JSON, else their | UTF-8 strings          |
 * |         | "hi" is stored as the 4 bytes `"hi"`     | UTF-8 text as a string                              |                        |
 * | binary  | base64 strings                           | base64 strings                                      | base64 strings         |
 * | msgpack | bin stored as is, anything else packed   | bin: the stored bytes as they are                   | bin or str → bin       |
 *
 * null (or a missing field) is Kafka's null in every format: no key, or a tombstone value. This
 * follows REST Proxy v2's json embedded format, whose serializer writes every value as JSON text.
 * All of this is the slow, friendly path; the SDK sends and fetches raw record batches.
 */

import { Packr } from 'msgpackr';
import { MiniKafkaError } from '../../common/errors.ts';
import { decodeRecordBatch, iterateRecordBatches } from '../../common/record-batch.ts';
import type { ProduceRecord } from '../core/broker-core.ts';

export type EnvelopeFormat = 'json' | 'binary' | 'msgpack';

/** One record of a produce body, after the schema in routes/produce.ts has checked its types. */
export interface ProduceBodyRecord {
  readonly key?: unknown;
  readonly value?: unknown;
  readonly partition?: number | null;
  readonly timestamp?: number | null;
  readonly headers?: unknown;
}

export interface FetchedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: unknown;
  readonly value: unknown;
  readonly headers: Array<{ key: string; value: unknown }>;
}

const packr = new Packr({ useRecords: false });
/** Standard base64 (RFC 4648 §4), padding optional as Java's decoder allows; checked before decoding. */
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const utf8 = new TextDecoder('utf-8');

export function toProduceRecords(records: ReadonlyArray<ProduceBodyRecord>, format: EnvelopeFormat): ProduceRecord[] {
  return records.map((record, index) => {
    const where = `records[${index}]`;
    return {
      key: toBytes(record.key, format, `${where}.key`),
      value: toBytes(record.value, format, `${where}.value`),
      headers: toHeaders(record.headers, format, `${where}.headers`),
      partition: record.partition ?? undefined,
      timestamp: record.timestamp ?? undefined,
    };
  });
}

function toBytes(field: unknown, format: EnvelopeFormat, where: string): Buffer | null {
  if (field === null || field === undefined) return null;
  switch (format) {
    case 'json':
      return Buffer.from(JSON.stringify(field), 'utf8');
    case 'binary':
      if (typeof field !== 'string') throw invalid(where, 'must be a base64 string or null');
      return fromBase64(field, where);
    case 'msgpack':
      return field instanceof Uint8Array ? Buffer.from(field.buffer, field.byteOffset, field.byteLength) : packr.pack(field);
  }
}

function toHeaderValue(value: unknown, format: EnvelopeFormat, where: string): Buffer | null {
  if (value === null || value === undefined) return null;
  if (format === 'msgpack' && value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value !== 'string') throw invalid(where, format === 'binary' ? 'must be a base64 string or null' : 'must be a string or null');
  return format === 'binary' ? fromBase64(value, where) : Buffer.from(value, 'utf8');
}

/** Headers come as `[{ key | name, value }]` (order and duplicates kept) or as `{ key: value }`. */
function toHeaders(headers: unknown, format: EnvelopeFormat, where: string): Array<{ key: string; value: Buffer | null }> {
  if (headers === null || headers === undefined) return [];
  if (Array.isArray(headers)) {
    return headers.map((header: unknown, index) => {
      const entry = header as { key?: unknown; name?: unknown; value?: unknown } | null;
      const key = entry?.key ?? entry?.name;
      if (entry === null || typeof entry !== 'object' || typeof key !== 'string') throw invalid(`${where}[${index}]`, 'must be an object with a string "key" (or "name") and a "value"');
      return { key, value: toHeaderValue(entry.value, format, `${where}[${index}].value`) };
    });
  }
  if (typeof headers !== 'object' || headers instanceof Uint8Array) throw invalid(where, 'must be an array of { key, value } or an object of key: value');
  return Object.entries(headers).map(([key, value]) => ({ key, value: toHeaderValue(value, format, `${where}.${key}`) }));
}

function fromBase64(text: string, where: string): Buffer {
  // Buffer.from skips characters outside the alphabet; REST Proxy's decoder rejects them.
  if (!base64Pattern.test(text)) throw invalid(where, 'is not valid base64');
  return Buffer.from(text, 'base64');
}

function invalid(where: string, problem: string): MiniKafkaError {
  return new MiniKafkaError('INVALID_REQUEST', `${where} ${problem}`, { field: where });
}

/**
 * The records of `bytes` (whole batches as the core fetched them) from `fromOffset` on: the first
 * batch may begin before it, as Kafka's fetch does, and those earlier records are dropped here.
 */
export function toFetchedRecords(topic: string, partition: number, bytes: Buffer, fromOffset: number, format: EnvelopeFormat): FetchedRecord[] {
  const fetched: FetchedRecord[] = [];
  for (const { position, header } of iterateRecordBatches(bytes)) {
    if (header.lastOffset < fromOffset || header.isControl) continue;
    for (const record of decodeRecordBatch(bytes, position).records) {
      if (record.offset < fromOffset) continue;
      fetched.push({
        topic,
        partition,
        offset: record.offset,
        timestamp: record.timestamp,
        key: fromBytes(record.key, format),
        value: fromBytes(record.value, format),
        headers: record.headers.map((h) => ({ key: h.key, value: fromHeaderBytes(h.value, format) })),
      });
    }
  }
  return fetched;
}

function fromBytes(bytes: Buffer | null, format: EnvelopeFormat): unknown {
  if (bytes === null) return null;
  switch (format) {
    case 'json':
      return parseJsonOrText(bytes);
    case 'binary':
      return bytes.toString('base64');
    case 'msgpack':
      return bytes;
  }
}

function fromHeaderBytes(bytes: Buffer | null, format: EnvelopeFormat): unknown {
  if (bytes === null) return null;
  return format === 'json' ? utf8.decode(bytes) : fromBytes(bytes, format);
}

/** JSON where the bytes hold JSON, else their UTF-8 text (invalid sequences become U+FFFD). */
function parseJsonOrText(bytes: Buffer): unknown {
  const text = utf8.decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
