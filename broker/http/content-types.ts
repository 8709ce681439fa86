/**
 * The media types the HTTP API speaks, the body parsers behind them, and content negotiation.
 *
 * Record formats, as Confluent's REST Proxy v2 embeds them in the media type:
 *
 * | format  | request Content-Type / response Accept                          | key and value in the body          |
 * |---------|-----------------------------------------------------------------|------------------------------------|
 * | json    | application/vnd.kafka.json.v2+json, application/json            | any JSON, stored as its JSON text  |
 * | binary  | application/vnd.kafka.binary.v2+json                            | base64 strings                     |
 * | msgpack | application/vnd.kafka.msgpack (also application/x-msgpack)      | msgpack bin as is, else packed     |
 * | batch   | application/vnd.kafka.record-batch                              | one raw RecordBatch v2, no envelope|
 *
 * Control requests (topics, producers) take `application/json` or `application/vnd.kafka.v2+json`.
 *
 * Every body is read whole by fastify (up to minikafka.http.max.body.bytes) into one Buffer;
 * the record-batch parser hands that Buffer on untouched, so a batch is copied once, from the
 * socket, on its way to the log.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Packr, Unpackr } from 'msgpackr';
import { MiniKafkaError } from '../../common/errors.ts';

export const MediaType = {
  json: 'application/json',
  kafkaJson: 'application/vnd.kafka.json.v2+json',
  kafkaBinary: 'application/vnd.kafka.binary.v2+json',
  kafkaControl: 'application/vnd.kafka.v2+json',
  msgpack: 'application/vnd.kafka.msgpack',
  xMsgpack: 'application/x-msgpack',
  recordBatch: 'application/vnd.kafka.record-batch',
} as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

export type RecordFormat = 'json' | 'binary' | 'msgpack' | 'batch';

const formatByMediaType: ReadonlyMap<string, RecordFormat> = new Map([
  [MediaType.json, 'json'],
  [MediaType.kafkaJson, 'json'],
  [MediaType.kafkaBinary, 'binary'],
  [MediaType.msgpack, 'msgpack'],
  [MediaType.xMsgpack, 'msgpack'],
  [MediaType.recordBatch, 'batch'],
]);

/** The Content-Type each format answers with. */
export const responseMediaType: Readonly<Record<RecordFormat, string>> = {
  json: MediaType.kafkaJson,
  binary: MediaType.kafkaBinary,
  msgpack: MediaType.msgpack,
  batch: MediaType.recordBatch,
};

export const JSON_BODY_TYPES: readonly string[] = [MediaType.json, MediaType.kafkaControl];
export const RECORD_BODY_TYPES: readonly string[] = [MediaType.kafkaJson, MediaType.json, MediaType.kafkaBinary, MediaType.msgpack, MediaType.xMsgpack];

/**
 * msgpack maps become plain objects (msgpackr renames a `__proto__` key, so no prototype can be
 * set from the wire); no records extension, so a body cannot define shared structures.
 */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const packr = new Packr({ useRecords: false });

/** The media type of a Content-Type or Accept entry: lower case, without parameters. */
export function mediaTypeOf(header: string | undefined): string {
  if (header === undefined) return '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

export function recordFormatOf(contentType: string | undefined): RecordFormat | undefined {
  return formatByMediaType.get(mediaTypeOf(contentType));
}

/** Registers the parsers for every media type above; application/json is fastify's own. */
export function registerBodyParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser([MediaType.kafkaJson, MediaType.kafkaBinary, MediaType.kafkaControl], { parseAs: 'string' }, parseJson);
  app.addContentTypeParser([MediaType.msgpack, MediaType.xMsgpack], { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, unpackr.unpack(body as Buffer));
    } catch (error) {
      done(new MiniKafkaError('INVALID_REQUEST', `the body is not valid msgpack: ${(error as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser(MediaType.recordBatch, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

/**
 * A preParsing hook that answers UNSUPPORTED_CONTENT_TYPE before the body is read, for a route
 * that takes only `allowed` (a body-less request passes: the schema decides whether it needs one).
 */
export function acceptContentTypes(allowed: readonly string[]) {
  return async function checkContentType(request: FastifyRequest): Promise<void> {
    const header = request.headers['content-type'];
    if (header === undefined && !hasBody(request)) return;
    const mediaType = mediaTypeOf(header);
    if (!allowed.includes(mediaType)) {
      throw new MiniKafkaError('UNSUPPORTED_CONTENT_TYPE', `${request.method} ${request.routeOptions.url} takes a body of type ${allowed.join(', ')}; got ${header === undefined ? 'no Content-Type' : JSON.stringify(mediaType)}`, {
        contentType: mediaType, accepted: allowed,
      });
    }
  };
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Picks the first of `offered` (the server's preference order) that the Accept header allows,
 * honouring q-values; `*` and `type/*` ranges take the server's first choice. A missing Accept
 * means anything. Throws NOT_ACCEPTABLE when nothing offered is acceptable.
 */
export function negotiate<T extends string>(accept: string | undefined, offered: ReadonlyArray<readonly [string, T]>): T {
  if (accept === undefined || accept.trim() === '') return offered[0][1];
  const ranges = parseAccept(accept);
  let best: { value: T; q: number } | null = null;
  for (const range of ranges) {
    if (range.q <= 0) continue;
    const match = offered.find(([type]) => range.type === '*/*' || range.type === type || (range.type.endsWith('/*') && type.startsWith(range.type.slice(0, -1))));
    if (match === undefined) continue;
    if (best === null || range.q > best.q) best = { value: match[1], q: range.q };
  }
  if (best === null) {
    throw new MiniKafkaError('NOT_ACCEPTABLE', `this route answers with ${[...new Set(offered.map(([type]) => type))].join(', ')}; the Accept header allows none of them`, {
      accept: accept.slice(0, 200),
    });
  }
  return best.value;
}

/** At most this many Accept entries are looked at; a header is bounded by Node anyway (16 KiB). */
const MAX_ACCEPT_RANGES = 32;

function parseAccept(accept: string): Array<{ type: string; q: number }> {
  return accept
    .split(',')
    .slice(0, MAX_ACCEPT_RANGES)
    .map((entry) => {
      const [type, ...parameters] = entry.split(';');
      const qParameter = parameters.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParameter === undefined ? 1 : Number(qParameter.slice(2));
      return { type: type.trim().toLowerCase(), q: Number.isFinite(q) ? q : 0 };
    });
}

/** Sends `value` as msgpack or JSON, whichever `format` names. */
export function sendAs(reply: FastifyReply, format: 'json' | 'msgpack', value: unknown): FastifyReply {
  if (format === 'msgpack') return reply.type(MediaType.msgpack).send(packr.pack(value));
  return reply.type(MediaType.json).send(value);
}
