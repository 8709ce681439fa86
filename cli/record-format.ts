/**
 * How `minikafka consume` prints a record.
 *
 * Text (the default), as Kafka's console consumer (its DefaultMessageFormatter) prints: the value,
 * preceded, when asked, by these fields in this order, each followed by a tab:
 *
 *   --print-timestamp  CreateTime:1700000000000   (LogAppendTime:… on such topics)
 *   --print-partition  Partition:0
 *   --print-offset     Offset:42
 *   --print-headers    trace:abc,source:web      (NO_HEADERS when there are none)
 *   --print-key        alice                     (null when there is no key)
 *
 * A null value prints `null`, as Kafka's does. Bytes are printed as UTF-8 text: bytes that are not
 * valid UTF-8 come out as U+FFFD, and a value with line breaks spans lines, as in Kafka's tool;
 * use the JSON format for exact bytes.
 *
 * JSON (`--format json`): one object per line (JSON Lines), with the fields in this order:
 *
 *   {"topic":"orders","partition":0,"offset":42,"key":"alice","value":"{\"total\":12}","timestamp":1700000000000,"headers":[{"key":"trace","value":"abc"}]}
 *
 * `key`, `value` and header values are the bytes as UTF-8 text, or null. Bytes that are not
 * valid UTF-8 are given in base64 instead, and the record (or the header) then says so with
 * `"keyEncoding": "base64"` / `"valueEncoding": "base64"` (`"encoding": "base64"` in a header),
 * so nothing is lost and text stays readable. Headers are a list, in order, repeats kept.
 */

export type TimestampTypeName = 'CreateTime' | 'LogAppendTime';

/** A record as consume prints it, whichever way it was read (partition fetch or group consumer). */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: TimestampTypeName;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Buffer | null }>;
}

export interface TextFields {
  readonly printTimestamp: boolean;
  readonly printPartition: boolean;
  readonly printOffset: boolean;
  readonly printHeaders: boolean;
  readonly printKey: boolean;
}

const FIELD_SEPARATOR = '\t';
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function formatRecordText(record: ConsumedRecord, fields: TextFields): string {
  let line = '';
  if (fields.printTimestamp) line += `${record.timestampType}:${record.timestamp}${FIELD_SEPARATOR}`;
  if (fields.printPartition) line += `Partition:${record.partition}${FIELD_SEPARATOR}`;
  if (fields.printOffset) line += `Offset:${record.offset}${FIELD_SEPARATOR}`;
  if (fields.printHeaders) {
    line += record.headers.length === 0 ? 'NO_HEADERS' : record.headers.map((header) => `${header.key}:${textOrNull(header.value)}`).join(',');
    line += FIELD_SEPARATOR;
  }
  if (fields.printKey) line += textOrNull(record.key) + FIELD_SEPARATOR;
  return `${line}${textOrNull(record.value)}\n`;
}

export function formatRecordJson(record: ConsumedRecord): string {
  const key = exactText(record.key);
  const value = exactText(record.value);
  const document: Record<string, unknown> = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: key.text,
    value: value.text,
    timestamp: record.timestamp,
    headers: record.headers.map((header) => {
      const shown = exactText(header.value);
      return shown.isBase64 ? { key: header.key, value: shown.text, encoding: 'base64' } : { key: header.key, value: shown.text };
    }),
  };
  if (key.isBase64) document.keyEncoding = 'base64';
  if (value.isBase64) document.valueEncoding = 'base64';
  return JSON.stringify(document) + '\n';
}

function textOrNull(bytes: Buffer | null): string {
  return bytes === null ? 'null' : bytes.toString('utf8');
}

/** The bytes as text when they are valid UTF-8, else as base64 (and says which). */
function exactText(bytes: Buffer | null): { text: string | null; isBase64: boolean } {
  if (bytes === null) return { text: null, isBase64: false };
  try {
    return { text: utf8.decode(bytes), isBase64: false };
  } catch {
    return { text: bytes.toString('base64'), isBase64: true };
  }
}
