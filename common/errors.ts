/**
 * The error catalogue: every error that a user, a client or a disk can cause, in one table.
 *
 * Each entry has a stable string code (what scripts and the SDK match on), Kafka's error number
 * where Kafka has one (so the Kafka protocol listener and the HTTP API agree), the HTTP status the
 * HTTP API answers with, the REST Proxy style five-digit `error_code` (HTTP status × 100 + a
 * number, as Confluent's REST Proxy v2 does), and whether retrying the same request can help.
 *
 * Programmer errors (broken invariants) are not here: they are `assert`s and crash.
 * docs/errors.md lists the same table; a test keeps the two in step.
 */

export interface ErrorSpec {
  /** Kafka's error number (clients/.../protocol/Errors.java), or null where Kafka has none. */
  readonly kafkaCode: number | null;
  readonly httpStatus: number;
  /** REST Proxy v2 style: httpStatus * 100 + a small number unique within that status. */
  readonly restCode: number;
  readonly retriable: boolean;
  /** One line for docs/errors.md: when this error happens. */
  readonly summary: string;
}

export const errorCatalogue = {
  UNKNOWN_SERVER_ERROR: { kafkaCode: -1, httpStatus: 500, restCode: 50001, retriable: false, summary: 'An unexpected failure inside the broker; the request may or may not have taken effect.' },
  OFFSET_OUT_OF_RANGE: { kafkaCode: 1, httpStatus: 416, restCode: 41601, retriable: false, summary: 'The requested offset is below the log start offset or above the log end offset.' },
  CORRUPT_MESSAGE: { kafkaCode: 2, httpStatus: 400, restCode: 40001, retriable: false, summary: 'A record batch failed validation: bad length, magic byte, CRC-32C or record framing.' },
  UNKNOWN_TOPIC_OR_PARTITION: { kafkaCode: 3, httpStatus: 404, restCode: 40401, retriable: false, summary: 'The topic or partition does not exist.' },
  REQUEST_TIMED_OUT: { kafkaCode: 7, httpStatus: 504, restCode: 50401, retriable: true, summary: 'The request did not complete within its timeout.' },
  MESSAGE_TOO_LARGE: { kafkaCode: 10, httpStatus: 413, restCode: 41301, retriable: false, summary: 'A record batch is larger than max.message.bytes or segment.bytes allows.' },
  INVALID_TOPIC_EXCEPTION: { kafkaCode: 17, httpStatus: 400, restCode: 40002, retriable: false, summary: "The topic name breaks Kafka's rules: 1 to 249 characters of [a-zA-Z0-9._-], not '.' or '..'." },
  KAFKA_STORAGE_ERROR: { kafkaCode: 56, httpStatus: 503, restCode: 50301, retriable: true, summary: 'The disk refused a read or write (ENOSPC, EIO); the log was left valid and the request can be retried.' },
  UNSUPPORTED_COMPRESSION_TYPE: { kafkaCode: 76, httpStatus: 400, restCode: 40003, retriable: false, summary: 'The batch uses a compression codec this broker does not support (only none and gzip are).' },
  INVALID_RECORD: { kafkaCode: 87, httpStatus: 400, restCode: 40004, retriable: false, summary: 'A record batch is well formed but breaks a rule of the log (control batch from a client, bad offset deltas, null key on a compacted topic).' },
  INVALID_CONFIG: { kafkaCode: 40, httpStatus: 400, restCode: 40005, retriable: false, summary: 'A configuration name is unknown or its value is out of range.' },
  LOG_DIR_LOCKED: { kafkaCode: null, httpStatus: 500, restCode: 50002, retriable: false, summary: 'Another process holds the lock on the data directory.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue;

/**
 * The one error class for everything in the catalogue. `details` carries the values involved
 * (topic, partition, offset, file, position) so callers and the HTTP error body can show them.
 */
export class MiniKafkaError extends Error {
  readonly code: ErrorCode;
  readonly kafkaCode: number | null;
  readonly httpStatus: number;
  readonly restCode: number;
  readonly retriable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    const spec: ErrorSpec = errorCatalogue[code];
    this.name = 'MiniKafkaError';
    this.code = code;
    this.kafkaCode = spec.kafkaCode;
    this.httpStatus = spec.httpStatus;
    this.restCode = spec.restCode;
    this.retriable = spec.retriable;
    this.details = details;
  }
}

export function isMiniKafkaError(error: unknown, code?: ErrorCode): error is MiniKafkaError {
  return error instanceof MiniKafkaError && (code === undefined || error.code === code);
}
