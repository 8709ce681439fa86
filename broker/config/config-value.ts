/**
 * Turning what a user typed into a checked config value, and the two errors that can come of it.
 *
 * Parsing follows Kafka's ConfigDef: surrounding whitespace is trimmed; integers are plain decimal
 * (an optional sign and digits: no `1e3`, `0x10`, `1_000` or `1.0`); booleans are `true`/`false`
 * in any case; lists split on commas with blanks around items ignored. Kafka's longs reach 2^63−1
 * but JavaScript numbers are exact only to 2^53−1, so a long above that (Kafka's Long.MAX_VALUE,
 * as copied from a Kafka config, most of all) is stored as NEVER = 2^53−1: as milliseconds that is
 * 285 000 years, as bytes 8 PiB, so "never" and "no limit" keep their meaning.
 *
 * Errors are INVALID_CONFIG with one grammar:
 *   Invalid value "0" for configuration num.partitions (server.properties:3): must be an integer in [1, 2147483647].
 *   Unknown broker configuration "log.segment.byte" (--config): did you mean log.segment.bytes?
 */

import { MiniKafkaError } from '../../common/errors.ts';
import { INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, brokerConfigDefinitions, isBrokerConfigName, isTopicConfigName, topicConfigDefinitions } from './config-definitions.ts';
import type { ConfigType, ConfigValidator, ConfigValue } from './config-definitions.ts';

/** A value as it arrives: text from a file or command line, or a JSON scalar from an HTTP body. */
export type RawConfigValue = string | number | boolean;

/** What parseConfigValue needs to know about a config. */
export interface ValueSpec {
  readonly type: ConfigType;
  readonly validator: ConfigValidator;
  readonly deviation?: string;
}

/** Builds the error; `isOutOfRange` adds the config's note on why minikafka's range differs from Kafka's. */
type Fail = (reason: string, isOutOfRange?: boolean) => MiniKafkaError;

const JAVA_LONG_MAX = (1n << 63n) - 1n;
const JAVA_LONG_MIN = -(1n << 63n);
/** Names longer than this are not compared for suggestions: edit distance is quadratic in length. */
const SUGGESTION_MAX_NAME_LENGTH = 100;
const QUOTED_MAX_LENGTH = 100;

/**
 * Parses and validates one value. `origin` says where it came from (`server.properties:12`,
 * `--config`, `topic orders`) and is quoted in the error. Throws INVALID_CONFIG.
 */
export function parseConfigValue(name: string, spec: ValueSpec, raw: RawConfigValue, origin?: string): Exclude<ConfigValue, null> {
  const fail: Fail = (reason, isOutOfRange = false) => invalidValue(name, spec, raw, origin, reason, isOutOfRange);
  switch (spec.type) {
    case 'int':
    case 'long': {
      const value = parseInteger(raw, spec.type, fail);
      checkValidator(value, spec.validator, fail);
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      if (typeof raw === 'string' && (text === 'true' || text === 'false')) return text === 'true';
      throw fail('must be true or false');
    }
    case 'string': {
      const value = String(raw).trim();
      checkValidator(value, spec.validator, fail);
      return value;
    }
    case 'list':
      return parseList(String(raw), spec.validator, fail);
  }
}

/** The text shown for a value in describe output and docs; `null` for unset, as Kafka shows it. */
export function formatConfigValue(value: ConfigValue): string {
  return value === null ? 'null' : String(value);
}

/** The allowed values in words: `[1, 2147483647]`, `one of CreateTime, LogAppendTime`, … */
export function describeAllowedValues(spec: ValueSpec): string {
  const validator = spec.validator;
  switch (validator.kind) {
    case 'range':
      return validator.min === validator.max ? `${validator.min}` : `[${validator.min}, ${validator.max}]`;
    case 'oneOf':
      return `one of ${validator.values.join(', ')}`;
    case 'list': {
      const count = validator.minItems === validator.maxItems ? `exactly ${validator.minItems}` : `${validator.minItems} to ${validator.maxItems}`;
      const noun = validator.maxItems === 1 ? 'item' : 'items';
      const from = validator.items === undefined ? '' : ` from ${validator.items.join(', ')}`;
      return `a comma-separated list of ${count} ${noun}${from}`;
    }
    case 'nonEmpty':
      return 'a non-empty string';
    case 'any':
      return spec.type === 'boolean' ? 'true or false' : 'any value';
  }
}

/**
 * INVALID_CONFIG for a name the scope does not know. Points a topic config used at broker level
 * (or the reverse) to the right name, and otherwise suggests the nearest known name.
 */
export function unknownConfigError(name: string, scope: 'broker' | 'topic', origin?: string): MiniKafkaError {
  const hint = scope === 'broker' ? brokerHint(name) : topicHint(name);
  const at = origin === undefined ? '' : ` (${origin})`;
  return new MiniKafkaError('INVALID_CONFIG', sentence(`Unknown ${scope} configuration ${quote(name)}${at}: ${hint}`), { config: name.slice(0, QUOTED_MAX_LENGTH), scope, origin });
}

function brokerHint(name: string): string {
  if (isTopicConfigName(name)) {
    const [first, ...others] = topicConfigDefinitions.get(name)!.brokerSynonyms.map((synonym) => synonym.name);
    const also = others.length === 0 ? '' : ` (or ${others.join(', ')})`;
    return `${name} is a topic config, set per topic when it is created or altered; its broker-wide default is ${first}${also}`;
  }
  return suggest(name, [...brokerConfigDefinitions.keys()]);
}

function topicHint(name: string): string {
  if (isBrokerConfigName(name)) {
    const synonymOf = brokerConfigDefinitions.get(name)!.synonymOf;
    if (synonymOf === null) return `${name} is a broker config, not a topic config`;
    return `${name} is a broker config that sets the default for all topics; the topic config is ${synonymOf.topicConfig}`;
  }
  return suggest(name, [...topicConfigDefinitions.keys()]);
}

function suggest(name: string, known: readonly string[]): string {
  if (name.length === 0) return 'the name is empty';
  if (name.length > SUGGESTION_MAX_NAME_LENGTH) return 'no such name; docs/configuration.md lists every config';
  let best = known[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  // A close match is almost surely a typo; a far one is only a pointer.
  const isClose = bestDistance <= Math.max(2, Math.floor(name.length / 3));
  return isClose ? `did you mean ${best}?` : `the closest known name is ${best}; docs/configuration.md lists every config`;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

function parseInteger(raw: RawConfigValue, type: 'int' | 'long', fail: Fail): number {
  if (typeof raw === 'boolean') throw fail(`must be an integer`);
  let big: bigint;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw fail('must be an integer');
    if (Number.isSafeInteger(raw)) return checkIntRange(raw, type, fail);
    // A JSON number is a double: Long.MAX_VALUE arrives rounded up to 2^63, one past the long range.
    big = BigInt(raw);
    if (big === -JAVA_LONG_MIN) big = JAVA_LONG_MAX;
  } else {
    const text = raw.trim();
    if (!/^[+-]?\d+$/.test(text)) throw fail('must be a whole number in plain decimal digits');
    big = BigInt(text);
  }
  if (type === 'int') return checkIntRange(Number(big), type, fail);
  if (big > JAVA_LONG_MAX || big < JAVA_LONG_MIN) throw fail(`must fit in a 64-bit long`);
  if (big > BigInt(LONG_MAX)) return LONG_MAX;
  if (big < BigInt(LONG_MIN)) return LONG_MIN;
  return Number(big);
}

function checkIntRange(value: number, type: 'int' | 'long', fail: Fail): number {
  if (type === 'int' && (value > INT_MAX || value < INT_MIN)) throw fail(`must fit in a 32-bit int [${INT_MIN}, ${INT_MAX}]`);
  return value;
}

function parseList(raw: string, validator: ConfigValidator, fail: Fail): string {
  const trimmed = raw.trim();
  const items = trimmed === '' ? [] : trimmed.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw fail('has an empty item between commas');
  const distinct = [...new Set(items)];
  if (validator.kind !== 'list') return distinct.join(',');
  if (validator.items !== undefined) {
    const allowed = validator.items;
    const unknown = distinct.filter((item) => !allowed.includes(item));
    if (unknown.length > 0) throw fail(`has ${unknown.map(quote).join(', ')}; items must be from ${allowed.join(', ')}`);
    // The canonical order is the catalogue's, so "delete,compact" and "compact,delete" are one value.
    distinct.sort((a, b) => allowed.indexOf(a) - allowed.indexOf(b));
  }
  if (distinct.length < validator.minItems || distinct.length > validator.maxItems) {
    throw fail(`must be ${describeAllowedValues({ type: 'list', validator })}; it has ${distinct.length}`, true);
  }
  return distinct.join(',');
}

function checkValidator(value: number | string, validator: ConfigValidator, fail: Fail): void {
  switch (validator.kind) {
    case 'range':
      if (typeof value !== 'number' || value < validator.min || value > validator.max) {
        throw fail(validator.min === validator.max ? `must be ${validator.min}` : `must be an integer in [${validator.min}, ${validator.max}]`, true);
      }
      return;
    case 'oneOf':
      if (!validator.values.includes(String(value))) throw fail(`must be one of ${validator.values.join(', ')}`);
      return;
    case 'nonEmpty':
      if (value === '') throw fail('must not be empty');
      return;
    case 'list':
    case 'any':
      return;
  }
}

function invalidValue(name: string, spec: ValueSpec, raw: RawConfigValue, origin: string | undefined, reason: string, isOutOfRange: boolean): MiniKafkaError {
  const at = origin === undefined ? '' : ` (${origin})`;
  const why = isOutOfRange && spec.deviation !== undefined ? `; ${spec.deviation}` : '';
  return new MiniKafkaError('INVALID_CONFIG', sentence(`Invalid value ${quote(String(raw))} for configuration ${name}${at}: ${reason}${why}`), {
    config: name,
    value: String(raw).slice(0, QUOTED_MAX_LENGTH),
    allowed: describeAllowedValues(spec),
    origin,
  });
}

/** Ends the message with a full stop unless it already ends a sentence (`did you mean x?`). */
function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

/** JSON-quoted so blanks and control characters show; long text is cut. */
function quote(text: string): string {
  return text.length <= QUOTED_MAX_LENGTH ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, QUOTED_MAX_LENGTH))}…`;
}
