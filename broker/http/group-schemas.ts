/**
 * The request shapes of the consumer-group routes (routes/groups.ts, routes/group-members.ts):
 * JSON schemas that fastify's ajv checks before a handler runs, the TypeScript views of the same
 * bodies, and the one place where the embedded-protocol bytes cross the HTTP edge.
 *
 * Bytes (a member's subscription `metadata`, an `assignment`) travel as base64 strings in JSON
 * and as msgpack `bin` in msgpack; a msgpack client may also send base64 strings. The schemas
 * let a byte field be a string or an object (a msgpack bin arrives as a Buffer, which ajv sees as
 * an object), and `bytesFrom` decides. Answers carry bytes the same way: base64 in JSON, bin in
 * msgpack (`bytesTo`).
 *
 * Numbers that Kafka's GroupCoordinator requests carry as int32 (timeouts, generations) are
 * int32 here too; the coordinator checks the values (INVALID_SESSION_TIMEOUT names the broker's
 * bounds), so the schemas stop only at what cannot be an int32.
 */

import type { FastifyRequest } from 'fastify';
import { MiniKafkaError } from '../../common/errors.ts';
import { validateGroupId } from '../groups/group-errors.ts';
import { JSON_BODY_TYPES, MediaType } from './content-types.ts';
import { INT32_MAX, offsetNumber, partitionNumber } from './schemas.ts';

/** Bodies of the membership routes: control JSON, or msgpack for the SDK. */
export const GROUP_BODY_TYPES: readonly string[] = [...JSON_BODY_TYPES, MediaType.msgpack, MediaType.xMsgpack];

/** What the membership routes answer with, server preference first (JSON for curl and browsers). */
export const groupAnswerTypes: ReadonlyArray<readonly [string, 'json' | 'msgpack']> = [
  [MediaType.json, 'json'],
  [MediaType.kafkaControl, 'json'],
  [MediaType.msgpack, 'msgpack'],
  [MediaType.xMsgpack, 'msgpack'],
];

const int32 = { type: 'integer', minimum: -(2 ** 31), maximum: INT32_MAX } as const;
const bytesField = { type: ['string', 'object'] } as const;
/**
 * Ids and names that the coordinator stores in `__consumer_offsets` as Kafka strings (at most
 * 32767 bytes) and that come back as path segments (a member id is `<client id>-<uuid>`, and the
 * router takes segments of up to 1024 characters): 200 characters fit both, percent-encoded.
 */
export const MAX_ID_CHARS = 200;
const id = { type: 'string', maxLength: MAX_ID_CHARS } as const;
const nullableId = { type: ['null', 'string'], maxLength: MAX_ID_CHARS } as const;
/** No client offers more than a handful of assignors; the bound keeps a hostile join small. */
const MAX_PROTOCOLS = 64;

export const groupParams = {
  type: 'object',
  required: ['group'],
  properties: { group: { type: 'string' } },
} as const;

export const memberParams = {
  type: 'object',
  required: ['group', 'member'],
  properties: { group: { type: 'string' }, member: { type: 'string' } },
} as const;

export interface GroupParams {
  group: string;
}
export interface MemberParams {
  group: string;
  member: string;
}

/** A preHandler for every `/groups/:group…` route: an empty id (`/groups//offsets`) is INVALID_GROUP_ID, as in Kafka. */
export async function checkGroupId(request: FastifyRequest): Promise<void> {
  validateGroupId((request.params as GroupParams).group);
}

// ---- admin --------------------------------------------------------------------------------------

export const listGroupsQuery = {
  type: 'object',
  properties: { state: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 64 } } },
} as const;

export interface ListGroupsQuery {
  state?: string[];
}

export const resetOffsetsBody = {
  type: 'object',
  required: ['to'],
  properties: {
    topics: {
      type: 'array',
      minItems: 1,
      // "orders" or { "topic": "orders", "partitions": [0, 2] }
      items: { type: ['string', 'object'], required: ['topic'], properties: { topic: { type: 'string' }, partitions: { type: 'array', items: partitionNumber } } },
    },
    all_topics: { type: 'boolean' },
    to: { type: ['string', 'object'] },
    execute: { type: 'boolean' },
  },
} as const;

export interface ResetOffsetsBody {
  topics?: Array<string | { topic: string; partitions?: number[] }>;
  all_topics?: boolean;
  to: string | Record<string, unknown>;
  execute?: boolean;
}

// ---- membership ---------------------------------------------------------------------------------

export const joinGroupBody = {
  type: 'object',
  required: ['session_timeout_ms'],
  properties: {
    member_id: { type: 'string' },
    group_instance_id: nullableId,
    client_id: id,
    session_timeout_ms: int32,
    rebalance_timeout_ms: int32,
    protocol_type: id,
    protocols: {
      type: 'array',
      maxItems: MAX_PROTOCOLS,
      items: { type: 'object', required: ['name', 'metadata'], properties: { name: id, metadata: bytesField } },
    },
    topics: { type: 'array', items: { type: 'string' } },
    assignors: { type: 'array', minItems: 1, maxItems: MAX_PROTOCOLS, items: id },
    require_known_member_id: { type: 'boolean' },
  },
} as const;

export interface JoinGroupBody {
  member_id?: string;
  group_instance_id?: string | null;
  client_id?: string;
  session_timeout_ms: number;
  rebalance_timeout_ms?: number;
  protocol_type?: string;
  protocols?: Array<{ name: string; metadata: unknown }>;
  topics?: string[];
  assignors?: string[];
  require_known_member_id?: boolean;
}

export const syncGroupBody = {
  type: 'object',
  required: ['generation_id'],
  properties: {
    generation_id: int32,
    group_instance_id: nullableId,
    protocol_type: nullableId,
    protocol_name: nullableId,
    assignments: {
      type: 'array',
      items: { type: 'object', required: ['member_id', 'assignment'], properties: { member_id: { type: 'string' }, assignment: bytesField } },
    },
    server_assignment: { type: 'string' },
  },
} as const;

export interface SyncGroupBody {
  generation_id: number;
  group_instance_id?: string | null;
  protocol_type?: string | null;
  protocol_name?: string | null;
  assignments?: Array<{ member_id: string; assignment: unknown }>;
  server_assignment?: string;
}

export const heartbeatBody = {
  type: 'object',
  required: ['generation_id'],
  properties: { generation_id: int32, group_instance_id: nullableId },
} as const;

export interface HeartbeatBody {
  generation_id: number;
  group_instance_id?: string | null;
}

export const commitOffsetsBody = {
  type: 'object',
  required: ['offsets'],
  properties: {
    generation_id: int32,
    member_id: { type: 'string' },
    group_instance_id: nullableId,
    offsets: {
      type: 'array',
      items: { type: 'object', required: ['topic', 'partition', 'offset'], properties: { topic: { type: 'string' }, partition: partitionNumber, offset: offsetNumber, metadata: { type: ['null', 'string'] } } },
    },
  },
} as const;

export interface CommitOffsetsBody {
  generation_id?: number;
  member_id?: string;
  group_instance_id?: string | null;
  offsets: Array<{ topic: string; partition: number; offset: number; metadata?: string | null }>;
}

export const fetchOffsetsQuery = {
  type: 'object',
  properties: {
    topic: { type: 'array', items: { type: 'string' } },
    partition: { type: 'array', items: partitionNumber },
  },
} as const;

export interface FetchOffsetsQuery {
  topic?: string[];
  partition?: number[];
}

// ---- bytes at the edge ----------------------------------------------------------------------------

/** Standard base64 (RFC 4648 §4), padding optional; Buffer.from would silently skip other characters. */
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** A byte field of a request: a msgpack bin, or a base64 string. `where` names it in the error. */
export function bytesFrom(value: unknown, where: string): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string' && base64Pattern.test(value)) return Buffer.from(value, 'base64');
  throw new MiniKafkaError('INVALID_REQUEST', `${where} must be base64 (or a msgpack bin)`, { field: where });
}

/** A byte field of an answer: base64 for JSON, the Buffer itself (a bin) for msgpack. */
export function bytesTo(bytes: Buffer, format: 'json' | 'msgpack'): string | Buffer {
  return format === 'msgpack' ? bytes : bytes.toString('base64');
}
