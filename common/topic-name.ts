/**
 * Kafka's rules for topic names (clients/.../internals/Topic.java, kafka-facts §1.1).
 *
 * A legal name is 1 to 249 characters, each one of `[a-zA-Z0-9._-]`, and is neither `.` nor `..`.
 * The broker relies on this for safety, not only for compatibility: a partition lives in the
 * directory `<data dir>/<topic>-<partition>`, so a name that passes here is one plain path
 * component — no `/`, `\`, NUL, drive letter or `..` can reach outside the data directory.
 * 249 leaves room in a 255-byte file name for `-<partition>` and Kafka's `.<uuid>-delete` suffix.
 *
 * Kafka also warns (but allows) names that differ only by `.` versus `_`: its metric names turn
 * `.` into `_`, so `orders.eu` and `orders_eu` would report into the same metrics.
 * `collidesWith` finds those; whether to refuse or only warn is the caller's choice.
 */

import { MiniKafkaError } from './errors.ts';

export const MAX_TOPIC_NAME_LENGTH = 249;

const legalNamePattern = /^[a-zA-Z0-9._-]+$/;
const illegalCharPattern = /[^a-zA-Z0-9._-]/gu;
/** How much of a rejected name an error message quotes; a hostile name can be megabytes long. */
const QUOTED_NAME_MAX_LENGTH = 60;
const LISTED_ILLEGAL_CHARS_MAX = 10;

/** Throws INVALID_TOPIC_EXCEPTION saying why, unless `name` is a legal Kafka topic name. */
export function validateTopicName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidTopic(String(name), 'a topic name cannot be empty');
  }
  if (name === '.' || name === '..') {
    throw invalidTopic(name, `a topic name cannot be "." or ".."`);
  }
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw invalidTopic(name, `a topic name is at most ${MAX_TOPIC_NAME_LENGTH} characters; this one has ${name.length}`);
  }
  if (!legalNamePattern.test(name)) {
    throw invalidTopic(name, `a topic name may contain only ASCII letters, digits, '.', '_' and '-'; it contains ${describeIllegalChars(name)}`);
  }
}

/** Whether `name` is a legal topic name (see validateTopicName for the reason when it is not). */
export function isValidTopicName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_TOPIC_NAME_LENGTH
    && name !== '.' && name !== '..' && legalNamePattern.test(name);
}

/** Whether the name contains a `.` or `_`, the two characters Kafka's metric names cannot tell apart. */
export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_');
}

/**
 * The names in `existingNames` that differ from `name` only by `.` versus `_` (Kafka's
 * `Topic.hasCollision`). An identical name is not a collision: it is the same topic.
 */
export function collidesWith(name: string, existingNames: Iterable<string>): string[] {
  if (!hasCollisionChars(name)) return [];
  const unified = unifyCollisionChars(name);
  const collisions: string[] = [];
  for (const existing of existingNames) {
    if (existing !== name && unifyCollisionChars(existing) === unified) collisions.push(existing);
  }
  return collisions;
}

function unifyCollisionChars(name: string): string {
  return name.replaceAll('.', '_');
}

function invalidTopic(name: string, reason: string): MiniKafkaError {
  return new MiniKafkaError('INVALID_TOPIC_EXCEPTION', `Invalid topic name ${quoteName(name)}: ${reason}.`, { topic: name.slice(0, QUOTED_NAME_MAX_LENGTH), reason });
}

/** JSON-quoted so control characters and NUL are visible; long names are cut with their length noted. */
function quoteName(name: string): string {
  if (name.length <= QUOTED_NAME_MAX_LENGTH) return JSON.stringify(name);
  return `${JSON.stringify(name.slice(0, QUOTED_NAME_MAX_LENGTH))}… (${name.length} characters)`;
}

/**
 * The distinct illegal characters in first-seen order: printable ASCII quoted (`"/"`, `" "`),
 * anything else as its code point (`U+0000`, `U+200B`), so invisible characters show up.
 */
function describeIllegalChars(name: string): string {
  const distinct = [...new Set(name.match(illegalCharPattern) ?? [])];
  const shown = distinct.slice(0, LISTED_ILLEGAL_CHARS_MAX).map(describeChar).join(', ');
  const more = distinct.length > LISTED_ILLEGAL_CHARS_MAX ? ` and ${distinct.length - LISTED_ILLEGAL_CHARS_MAX} more` : '';
  return `${shown}${more}`;
}

function describeChar(char: string): string {
  if (/^[\x20-\x7e]$/.test(char)) return JSON.stringify(char);
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
