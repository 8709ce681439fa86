/**
 * The SDK's errors: one base class, `MiniKafkaClientError`, with the stable string `code` to
 * match on and `retriable` (whether the same call, made again unchanged, can succeed), in the
 * spirit of KafkaJS's `KafkaJSError` family.
 *
 * Where each comes from:
 *
 * | class                  | code                                   | retriable | raised when                                   |
 * |------------------------|----------------------------------------|-----------|-----------------------------------------------|
 * | `BrokerError`          | the catalogue's (common/errors.ts)     | as listed | the broker answered with its one error body   |
 * | `ConnectionError`      | `CONNECTION_ERROR`                     | yes       | refused, reset or closed before the answer    |
 * | `RequestTimeoutError`  | `REQUEST_TIMED_OUT`                    | yes       | a call's own timeout passed                   |
 * | `DeliveryTimeoutError` | `DELIVERY_TIMEOUT`                     | no        | a record was not delivered within delivery.timeout.ms |
 * | `BufferExhaustedError` | `BUFFER_EXHAUSTED`                     | yes       | send() waited max.block.ms for buffer memory  |
 * | `ClientClosedError`    | `CLIENT_CLOSED`                        | no        | a call on a closed producer or admin          |
 * | `InvalidArgumentError` | `INVALID_ARGUMENT`                     | no        | an option or argument the SDK refuses itself  |
 * | `MiniKafkaClientError` | `UNEXPECTED_RESPONSE`                  | 502–504   | an answer that is not the broker's (a proxy's page) |
 *
 * A BrokerError is rebuilt from `{"error_code","message","code","retriable","details"}`, so the
 * SDK reports what the broker reported, with the same code, message and details. Codes the SDK
 * does not know (a newer broker) keep their string; `kafkaCode` is then null.
 */

import { errorCatalogue } from '../common/errors.ts';
import type { ErrorCode } from '../common/errors.ts';

/** The codes the SDK raises itself, beside the broker's catalogue. */
export const ClientErrorCode = {
  connection: 'CONNECTION_ERROR',
  requestTimedOut: 'REQUEST_TIMED_OUT',
  deliveryTimeout: 'DELIVERY_TIMEOUT',
  bufferExhausted: 'BUFFER_EXHAUSTED',
  clientClosed: 'CLIENT_CLOSED',
  invalidArgument: 'INVALID_ARGUMENT',
  unexpectedResponse: 'UNEXPECTED_RESPONSE',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export interface ClientErrorFields {
  readonly retriable: boolean;
  /** The REST Proxy style error_code of the broker's answer (e.g. 40401), or null. */
  readonly errorCode?: number | null;
  /** Kafka's error number, where Kafka has the same error, or null. */
  readonly kafkaCode?: number | null;
  /** The HTTP status the broker answered with, or null when there was no answer. */
  readonly httpStatus?: number | null;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

export class MiniKafkaClientError extends Error {
  /** A catalogue code (`UNKNOWN_TOPIC_OR_PARTITION`) or one of ClientErrorCode. */
  readonly code: ErrorCode | ClientErrorCode | (string & {});
  readonly retriable: boolean;
  readonly errorCode: number | null;
  readonly kafkaCode: number | null;
  readonly httpStatus: number | null;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, fields: ClientErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'MiniKafkaClientError';
    this.code = code;
    this.retriable = fields.retriable;
    this.errorCode = fields.errorCode ?? null;
    this.kafkaCode = fields.kafkaCode ?? knownKafkaCode(code);
    this.httpStatus = fields.httpStatus ?? null;
    this.details = fields.details ?? {};
  }
}

/** What the broker answered with its one error body; see docs/errors.md for every code. */
export class BrokerError extends MiniKafkaClientError {
  constructor(body: ErrorBodyFields, httpStatus: number) {
    super(body.code, body.message, {
      retriable: body.retriable,
      errorCode: body.error_code,
      httpStatus,
      details: body.details ?? {},
    });
    this.name = 'BrokerError';
  }
}

/** The connection was refused, reset or closed before the answer: the request may or may not have been served. */
export class ConnectionError extends MiniKafkaClientError {
  constructor(message: string, details: Record<string, unknown>, cause: unknown) {
    super(ClientErrorCode.connection, message, { retriable: true, details, cause });
    this.name = 'ConnectionError';
  }
}

/** A call's own timeout (requestTimeoutMs, or the `timeoutMs` given to it) passed before the answer. */
export class RequestTimeoutError extends MiniKafkaClientError {
  constructor(message: string, details: Record<string, unknown>) {
    super(ClientErrorCode.requestTimedOut, message, { retriable: true, details, kafkaCode: errorCatalogue.REQUEST_TIMED_OUT.kafkaCode });
    this.name = 'RequestTimeoutError';
  }
}

/** Records not acknowledged within delivery.timeout.ms of send(); `cause` is the last failure, if any. */
export class DeliveryTimeoutError extends MiniKafkaClientError {
  constructor(message: string, details: Record<string, unknown>, cause: unknown) {
    super(ClientErrorCode.deliveryTimeout, message, { retriable: false, details, cause });
    this.name = 'DeliveryTimeoutError';
  }
}

/** send() found the producer's buffer full for max.block.ms: the broker is slower than the sends, or gone. */
export class BufferExhaustedError extends MiniKafkaClientError {
  constructor(message: string, details: Record<string, unknown>) {
    super(ClientErrorCode.bufferExhausted, message, { retriable: true, details });
    this.name = 'BufferExhaustedError';
  }
}

export class ClientClosedError extends MiniKafkaClientError {
  constructor(message: string) {
    super(ClientErrorCode.clientClosed, message, { retriable: false });
    this.name = 'ClientClosedError';
  }
}

export class InvalidArgumentError extends MiniKafkaClientError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ClientErrorCode.invalidArgument, message, { retriable: false, details });
    this.name = 'InvalidArgumentError';
  }
}

/** The broker's error body as it arrives. */
export interface ErrorBodyFields {
  readonly error_code: number;
  readonly message: string;
  readonly code: string;
  readonly retriable: boolean;
  readonly details?: Record<string, unknown>;
}

export function isErrorBody(value: unknown): value is ErrorBodyFields {
  if (value === null || typeof value !== 'object') return false;
  const body = value as Record<string, unknown>;
  return typeof body.error_code === 'number' && typeof body.message === 'string' && typeof body.code === 'string' && typeof body.retriable === 'boolean' &&
    (body.details === undefined || (typeof body.details === 'object' && body.details !== null));
}

/** Gateways answer 502–504 while the broker behind them restarts: worth another try. */
const RETRIABLE_GATEWAY_STATUSES = new Set([502, 503, 504]);

/**
 * The error for an HTTP answer with status ≥ 400: the broker's own, rebuilt from its body, or an
 * UNEXPECTED_RESPONSE when the body is not the broker's (a proxy in between, a wrong URL).
 */
export function errorFromResponse(httpStatus: number, body: Buffer, context: { method: string; path: string }): MiniKafkaClientError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (isErrorBody(parsed)) return new BrokerError(parsed, httpStatus);
  return new MiniKafkaClientError(ClientErrorCode.unexpectedResponse, `${context.method} ${context.path} answered HTTP ${httpStatus} without minikafka's error body: is the URL a minikafka broker? Body starts: ${JSON.stringify(body.toString('utf8', 0, 200))}`, {
    retriable: RETRIABLE_GATEWAY_STATUSES.has(httpStatus),
    httpStatus,
    details: { method: context.method, path: context.path },
  });
}

/** True for errors a retry can help: the error says so. Anything that is not a client error (a bug) is not. */
export function isRetriable(error: unknown): boolean {
  return error instanceof MiniKafkaClientError && error.retriable;
}

function knownKafkaCode(code: string): number | null {
  return Object.hasOwn(errorCatalogue, code) ? errorCatalogue[code as ErrorCode].kafkaCode : null;
}
