/**
 * JSON-schema pieces the routes share. fastify's ajv checks params, query strings and bodies with
 * them before a handler runs, so a negative, fractional, or out-of-range number is an
 * INVALID_REQUEST naming the field, and handlers see numbers they can pass to the core.
 *
 * Query strings are text: ajv converts "42" to 42 for an integer field (fastify's coerceTypes).
 * Nullable fields list "null" first among their types, so a JSON null stays null instead of
 * being coerced to 0.
 */

/** Kafka's partition numbers are int32. */
export const INT32_MAX = 2 ** 31 - 1;

export const partitionNumber = { type: 'integer', minimum: 0, maximum: INT32_MAX } as const;
export const offsetNumber = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export const topicParams = {
  type: 'object',
  required: ['topic'],
  properties: { topic: { type: 'string' } },
} as const;

export const partitionParams = {
  type: 'object',
  required: ['topic', 'partition'],
  properties: { topic: { type: 'string' }, partition: partitionNumber },
} as const;

export interface TopicParams {
  topic: string;
}
export interface PartitionParams {
  topic: string;
  partition: number;
}

/** Kafka's acks as REST users write them; `all` and -1 mean the same. */
export const acksQuery = {
  type: 'object',
  properties: { acks: { type: 'string', enum: ['0', '1', '-1', 'all'] } },
} as const;

export function toAcks(acks: string | undefined): 0 | 1 | -1 {
  return acks === '0' ? 0 : acks === '1' ? 1 : -1;
}
