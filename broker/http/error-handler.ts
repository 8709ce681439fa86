/**
 * One error body for every failure the HTTP API answers, whoever raised it:
 *
 *   { "error_code": 40401, "message": "topic orders does not exist", "code": "UNKNOWN_TOPIC_OR_PARTITION",
 *     "retriable": false, "details": { "topic": "orders" } }
 *
 * `error_code` is the REST Proxy style five-digit code (HTTP status × 100 + n), `code` the stable
 * string from common/errors.ts, `retriable` whether sending the same request again can help;
 * `details` carries the values involved when there are any. The SDK rebuilds a MiniKafkaError
 * from this body.
 *
 * Sources, and how each maps onto the catalogue:
 * - MiniKafkaError from the core or an adapter → itself, at its HTTP status;
 * - fastify's own errors → schema validation and unparsable bodies: INVALID_REQUEST, a body over
 *   the limit: REQUEST_TOO_LARGE, a media type without a parser: UNSUPPORTED_CONTENT_TYPE, no
 *   route: ROUTE_NOT_FOUND;
 * - anything else is a bug: UNKNOWN_SERVER_ERROR, logged with its stack, never shown to the client.
 */

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { MiniKafkaError, isMiniKafkaError } from '../../common/errors.ts';
import type { ErrorCode } from '../../common/errors.ts';
import { limitNames } from './http-limits.ts';

export interface ErrorBody {
  readonly error_code: number;
  readonly message: string;
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details?: Record<string, unknown>;
}

/** Details that name files on the broker's disk stay in the broker's log. */
const PRIVATE_DETAILS = new Set(['dir', 'file', 'path']);
/** Schema errors listed in details; ajv stops at the first by default, this bounds the rest. */
const MAX_LISTED_VALIDATION_ERRORS = 10;

export function errorBody(error: MiniKafkaError): ErrorBody {
  const details = Object.entries(error.details).filter(([key]) => !PRIVATE_DETAILS.has(key));
  const body: ErrorBody = { error_code: error.restCode, message: error.message, code: error.code, retriable: error.retriable };
  return details.length === 0 ? body : { ...body, details: Object.fromEntries(details) };
}

/** The catalogue error for anything thrown while serving a request, or null for a bug. */
export function toMiniKafkaError(error: unknown, limits: { maxBodyBytes: number }): MiniKafkaError | null {
  if (isMiniKafkaError(error)) return error;
  const fastifyError = error as Partial<FastifyError> | null;
  if (fastifyError === null || typeof fastifyError !== 'object') return null;
  if (Array.isArray(fastifyError.validation)) {
    return new MiniKafkaError('INVALID_REQUEST', `invalid request: ${fastifyError.message}`, {
      validation: fastifyError.validation.slice(0, MAX_LISTED_VALIDATION_ERRORS).map((e) => ({ in: fastifyError.validationContext, path: e.instancePath, message: e.message })),
    });
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new MiniKafkaError('REQUEST_TOO_LARGE', `the body is larger than ${limitNames.maxBodyBytes} (${limits.maxBodyBytes} bytes)`, {
        limit: limitNames.maxBodyBytes, maxBytes: limits.maxBodyBytes,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new MiniKafkaError('UNSUPPORTED_CONTENT_TYPE', 'no route of this API takes a body of this Content-Type; see docs/http-api.md', {});
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MiniKafkaError('INVALID_REQUEST', 'the body is empty but its Content-Type says JSON', {});
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MiniKafkaError('INVALID_REQUEST', 'the body is not valid JSON', {});
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new MiniKafkaError('INVALID_REQUEST', 'the body length does not match its Content-Length header', {});
    case 'FST_ERR_BAD_URL':
      return new MiniKafkaError('INVALID_REQUEST', 'the URL is not valid: a path segment is badly percent-encoded', {});
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new MiniKafkaError('INVALID_REQUEST', 'a path segment is longer than the router accepts', {});
  }
  const status = fastifyError.statusCode;
  // Other 4xx from fastify or the JSON parser (a SyntaxError, a __proto__ key): the client's fault.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new MiniKafkaError('INVALID_REQUEST', `invalid request: ${String(fastifyError.message).slice(0, 200)}`, {});
  }
  return null;
}

export function registerErrorHandling(app: FastifyInstance, limits: { maxBodyBytes: number }): void {
  const handle = (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const known = toMiniKafkaError(error, limits);
    if (known === null) {
      request.log.error({ err: error, method: request.method, route: request.routeOptions.url }, 'request failed with an unexpected error');
      return sendError(reply, new MiniKafkaError('UNKNOWN_SERVER_ERROR', 'an unexpected failure inside the broker; its log has the details. The request may or may not have taken effect.'));
    }
    if (known.httpStatus >= 500 && known.code !== 'BROKER_SHUTTING_DOWN' && known.code !== 'TOO_MANY_CONNECTIONS') {
      request.log.warn({ err: error, code: known.code, route: request.routeOptions.url }, 'request failed on the broker side');
    }
    return sendError(reply, known);
  };

  app.setErrorHandler(handle);
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, new MiniKafkaError('ROUTE_NOT_FOUND', `no route for ${request.method} ${request.url.slice(0, 200)}; see docs/http-api.md`, { method: request.method }));
  });
}

/** Errors after which this connection should not carry more requests. */
const CLOSING_CODES = new Set(['TOO_MANY_CONNECTIONS', 'BROKER_SHUTTING_DOWN']);

export function sendError(reply: FastifyReply, error: MiniKafkaError): FastifyReply {
  if (CLOSING_CODES.has(error.code)) reply.header('connection', 'close');
  // A route may have set another type (raw batches, msgpack) before it failed.
  return reply.code(error.httpStatus).type('application/json').send(errorBody(error));
}

/** fastify's `frameworkErrors`: a bad URL fails before routing, so the error handler never sees it. */
export function frameworkErrorHandler(limits: { maxBodyBytes: number }) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    sendError(reply, toMiniKafkaError(error, limits) ?? new MiniKafkaError('INVALID_REQUEST', 'the request could not be routed', {}));
  };
}

/**
 * fastify's `clientErrorHandler`: Node could not parse the HTTP request itself (bad request line,
 * headers over the limit). There is no request object, so the answer is written to the socket.
 */
export function onClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = error.code === 'HPE_HEADER_OVERFLOW'
    ? new MiniKafkaError('REQUEST_TOO_LARGE', 'the request headers are larger than the server accepts (16 KiB)', {})
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new MiniKafkaError('REQUEST_TIMED_OUT', 'the request was not received completely in time', {})
      : new MiniKafkaError('INVALID_REQUEST', 'the request is not valid HTTP/1.1', {});
  const body = JSON.stringify(errorBody(known));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${known.httpStatus} ${STATUS_CODES[known.httpStatus]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy();
}


