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
  NOT_ENOUGH_REPLICAS: { kafkaCode: 19, httpStatus: 503, restCode: 50302, retriable: true, summary: 'acks=all asked for more in-sync replicas (min.insync.replicas) than this single broker has.' },
  TOPIC_ALREADY_EXISTS: { kafkaCode: 36, httpStatus: 409, restCode: 40901, retriable: false, summary: 'A topic with this name exists already.' },
  INVALID_PARTITIONS: { kafkaCode: 37, httpStatus: 400, restCode: 40006, retriable: false, summary: 'The partition count is not a positive integer within the limit, or does not grow the topic.' },
  INVALID_REPLICATION_FACTOR: { kafkaCode: 38, httpStatus: 400, restCode: 40007, retriable: false, summary: 'This single broker only supports a replication factor of 1.' },
  INVALID_REQUEST: { kafkaCode: 42, httpStatus: 400, restCode: 40008, retriable: false, summary: 'The request is malformed: a body that does not parse, a missing or mistyped field, a bad parameter.' },
  OUT_OF_ORDER_SEQUENCE_NUMBER: { kafkaCode: 45, httpStatus: 409, restCode: 40902, retriable: false, summary: "An idempotent producer's batch does not follow the last sequence number the partition has from it: a batch in between was lost." },
  INVALID_PRODUCER_EPOCH: { kafkaCode: 47, httpStatus: 409, restCode: 40903, retriable: false, summary: 'The producer epoch is older than the one the partition knows: a newer instance of this producer fenced this one.' },
  UNKNOWN_PRODUCER_ID: { kafkaCode: 59, httpStatus: 400, restCode: 40009, retriable: false, summary: 'The producer id was never allocated by this broker.' },
  UNSUPPORTED_CONTENT_TYPE: { kafkaCode: null, httpStatus: 415, restCode: 41501, retriable: false, summary: 'The request body has a content type this route does not accept.' },
  NOT_ACCEPTABLE: { kafkaCode: null, httpStatus: 406, restCode: 40601, retriable: false, summary: 'The Accept header asks for a response format this route cannot produce.' },
  ROUTE_NOT_FOUND: { kafkaCode: null, httpStatus: 404, restCode: 40402, retriable: false, summary: 'No route matches this method and path.' },
  REQUEST_TOO_LARGE: { kafkaCode: null, httpStatus: 413, restCode: 41302, retriable: false, summary: 'The request body or its record count is over a named limit (minikafka.http.max.body.bytes, minikafka.http.max.records.per.request).' },
  TOO_MANY_CONNECTIONS: { kafkaCode: null, httpStatus: 503, restCode: 50303, retriable: true, summary: 'The broker is at minikafka.http.max.connections; retry after others finish.' },
  BROKER_SHUTTING_DOWN: { kafkaCode: null, httpStatus: 503, restCode: 50304, retriable: true, summary: 'The broker is stopping and takes no new work; retry against it once it is back.' },
  LOG_DIR_LOCKED: { kafkaCode: null, httpStatus: 500, restCode: 50002, retriable: false, summary: 'Another process holds the lock on the data directory.' },
  COORDINATOR_NOT_AVAILABLE: { kafkaCode: 15, httpStatus: 503, restCode: 50305, retriable: true, summary: 'The group coordinator cannot serve the group right now: the group is being removed or loaded, storing its metadata failed, or the broker is stopping.' },
  ILLEGAL_GENERATION: { kafkaCode: 22, httpStatus: 409, restCode: 40904, retriable: false, summary: "The request names a generation other than the group's current one: the member missed a rebalance and must rejoin." },
  INCONSISTENT_GROUP_PROTOCOL: { kafkaCode: 23, httpStatus: 409, restCode: 40905, retriable: false, summary: "The member's protocol type differs from the group's, or it offers no assignor that every other member offers." },
  INVALID_GROUP_ID: { kafkaCode: 24, httpStatus: 400, restCode: 40010, retriable: false, summary: 'The group id is empty.' },
  UNKNOWN_MEMBER_ID: { kafkaCode: 25, httpStatus: 404, restCode: 40403, retriable: false, summary: 'The group has no member with this id (it left, timed out or was removed): join again with an empty member id.' },
  INVALID_SESSION_TIMEOUT: { kafkaCode: 26, httpStatus: 400, restCode: 40011, retriable: false, summary: 'The session timeout is outside group.min.session.timeout.ms and group.max.session.timeout.ms.' },
  REBALANCE_IN_PROGRESS: { kafkaCode: 27, httpStatus: 409, restCode: 40906, retriable: true, summary: 'The group is rebalancing: rejoin to get the new generation; a commit may be retried once the rebalance completes.' },
  NON_EMPTY_GROUP: { kafkaCode: 68, httpStatus: 409, restCode: 40907, retriable: false, summary: 'The group still has members; only an Empty group can be deleted.' },
  GROUP_ID_NOT_FOUND: { kafkaCode: 69, httpStatus: 404, restCode: 40404, retriable: false, summary: 'No group with this id exists.' },
  MEMBER_ID_REQUIRED: { kafkaCode: 79, httpStatus: 409, restCode: 40908, retriable: false, summary: 'A new member must join again with the member id given in this answer (KIP-394).' },
  OFFSET_METADATA_TOO_LARGE: { kafkaCode: 12, httpStatus: 400, restCode: 40012, retriable: false, summary: 'The metadata string of an offset commit is over offset.metadata.max.bytes (4096).' },
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
