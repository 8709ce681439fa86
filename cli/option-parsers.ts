/**
 * Parsers for option values that several commands share, for commander's `.option(…, parser)`.
 *
 * A value that does not parse throws commander's InvalidArgumentError, which commander turns into
 * one line naming the option (`error: option '--partitions <n>' argument 'x' is invalid. …`) and
 * exit code 2: a mistake on the command line, caught before anything is sent to a broker.
 */

import { InvalidArgumentError } from 'commander';

/** Commander's accumulator for a repeatable option: `--config a=1 --config b=2`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A whole number ≥ `min`, written in plain decimal digits (an optional leading minus when min < 0). */
export function integerParser(min: number, what: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`${what} is a whole number${min === 0 ? ' ≥ 0' : min === 1 ? ' ≥ 1' : ''}.`);
    }
    return number;
  };
}

export const parsePartition = integerParser(0, 'a partition');
export const parsePartitionCount = integerParser(1, 'a partition count');
export const parseMessageCount = integerParser(1, 'a message count');
export const parseOffset = integerParser(0, 'an offset');
/** --shift-by takes negative numbers too. */
export const parseShift = integerParser(Number.MIN_SAFE_INTEGER, 'a shift');

/** `name=value` (the value may itself contain `=`); the name must not be empty. */
export function parseKeyValue(text: string, what: string): { name: string; value: string } {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`${what} is written name=value, got ${JSON.stringify(text)}.`);
  return { name: text.slice(0, at).trim(), value: text.slice(at + 1) };
}

/**
 * A point in time: milliseconds since the epoch (`1700000000000`), or an ISO 8601 date or date
 * and time (`2026-01-31`, `2026-01-31T12:00:00Z`; without a zone it is local time, as Kafka's
 * tools read `--to-datetime`). Returns milliseconds since the epoch.
 */
export function parseTimestampMs(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed);
    if (Number.isSafeInteger(ms)) return ms;
  }
  // Date.parse reads a date alone (2026-01-31) as UTC midnight and a date-time without a zone as local time.
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(trimmed) ? Date.parse(trimmed.replace(' ', 'T')) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(`a time is an ISO 8601 date or date-time (2026-01-31T12:00:00Z) or milliseconds since the epoch, got ${JSON.stringify(text)}.`);
  }
  return ms;
}
