/**
 * Zigzag variable-length integers: how record format v2 writes every length, delta and count
 * inside a record (kafka-facts §2.2).
 *
 * A signed value is first zigzag-mapped to an unsigned one so that small magnitudes of either sign
 * stay short, then written as unsigned LEB128: seven bits per byte, least significant group first,
 * the high bit set on every byte except the last.
 *
 * | value      | zigzag     | bytes            |
 * |-----------:|-----------:|------------------|
 * | 0          | 0          | `00`             |
 * | −1         | 1          | `01`             |
 * | 1          | 2          | `02`             |
 * | 64         | 128        | `80 01`          |
 * | −2^31      | 2^32 − 1   | `ff ff ff ff 0f` |
 *
 * Invariants: a varint holds an int32 in at most 5 bytes; a varlong holds an int64 in at most 10.
 * Varlongs are JS numbers here, so only safe integers (|n| ≤ 2^53 − 1) are written or read back.
 * Reading past the end of the buffer, an encoding longer than its limit, or a value that does not
 * fit is corrupt data (CORRUPT_MESSAGE), never a silent truncation. Writers size first
 * (`sizeOfVarint`, `sizeOfVarlong`) and then write into a buffer that has room: writing past the end
 * is a programmer error.
 */
import assert from 'node:assert';
import { MiniKafkaError } from './errors.ts';

/** What a read returns: the value and the position just after its last byte. */
export interface VarintRead {
  readonly value: number;
  readonly position: number;
}

const VARINT_MAX_BYTES = 5;
const VARLONG_MAX_BYTES = 10;

// Varlongs whose zigzag form fits in 31 bits take the int32 code; beyond that, zigzag(n) can
// exceed 2^32 (and even 2^53), so the slow path never forms it and uses arithmetic instead of
// 32-bit bitwise operators.
const VARLONG_FAST_LIMIT = 2 ** 30;

function isInt32(value: number): boolean {
  return (value | 0) === value;
}

function zigzag32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

export function sizeOfVarint(value: number): number {
  assert(isInt32(value), 'a varint holds an int32');
  return sizeOfUnsigned32(zigzag32(value));
}

export function sizeOfVarlong(value: number): number {
  assert(Number.isSafeInteger(value), 'a varlong here holds a safe integer');
  if (value >= -VARLONG_FAST_LIMIT && value < VARLONG_FAST_LIMIT) return sizeOfUnsigned32(zigzag32(value));
  // zigzag = 2 * magnitude + sign needs k bytes when it is below 2^(7k), that is when
  // magnitude is below 2^(7k − 1).
  const magnitude = value < 0 ? -value - 1 : value;
  let byteCount = 1;
  for (let limit = 64; magnitude >= limit; limit *= 128) byteCount += 1;
  return byteCount;
}

function sizeOfUnsigned32(unsigned: number): number {
  if (unsigned < 0x80) return 1;
  if (unsigned < 0x4000) return 2;
  if (unsigned < 0x200000) return 3;
  if (unsigned < 0x10000000) return 4;
  return 5;
}

/** Writes `value` (an int32) at `position` and returns the position after it. */
export function writeVarint(buf: Uint8Array, value: number, position: number): number {
  assert(isInt32(value), 'a varint holds an int32');
  return writeUnsigned32(buf, zigzag32(value), position);
}

/** Writes `value` (a safe integer) at `position` and returns the position after it. */
export function writeVarlong(buf: Uint8Array, value: number, position: number): number {
  assert(Number.isSafeInteger(value), 'a varlong here holds a safe integer');
  if (value >= -VARLONG_FAST_LIMIT && value < VARLONG_FAST_LIMIT) return writeUnsigned32(buf, zigzag32(value), position);
  const sign = value < 0 ? 1 : 0;
  const magnitude = value < 0 ? -value - 1 : value;
  // zigzag = 2 * magnitude + sign: its low 7 bits come from the low 6 bits of magnitude, and
  // zigzag >> 7 is magnitude / 64. |value| ≥ 2^30 here, so more bytes always follow the first.
  buf[position++] = (((magnitude % 64) * 2) + sign) | 0x80;
  let rest = Math.floor(magnitude / 64);
  while (rest > 0x7f) {
    buf[position++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[position++] = rest;
  // Typed arrays drop out-of-range writes silently; this catches a caller that sized wrong.
  assert(position <= buf.length, 'varlong written past the end of the buffer');
  return position;
}

function writeUnsigned32(buf: Uint8Array, unsigned: number, position: number): number {
  while (unsigned > 0x7f) {
    buf[position++] = (unsigned & 0x7f) | 0x80;
    unsigned >>>= 7;
  }
  buf[position++] = unsigned;
  assert(position <= buf.length, 'varint written past the end of the buffer');
  return position;
}

/**
 * Reads the varint at `position`.
 * Throws CORRUPT_MESSAGE when the buffer ends inside it, when it runs longer than 5 bytes, or when
 * its fifth byte carries bits beyond 32 (Kafka's reader drops those bits; a correct writer never
 * sets them, so here they mean corruption).
 */
export function readVarint(buf: Uint8Array, position: number): VarintRead {
  const start = position;
  let unsigned = 0;
  for (let shift = 0; shift < 7 * VARINT_MAX_BYTES; shift += 7) {
    if (position >= buf.length) throw truncatedError('varint', start, buf.length);
    const byte = buf[position++];
    if (shift === 28 && byte > 0x0f) throw overflowError('varint', start, byte, VARINT_MAX_BYTES);
    unsigned |= (byte & 0x7f) << shift;
    if (byte < 0x80) return { value: (unsigned >>> 1) ^ -(unsigned & 1), position };
  }
  assert.fail('unreachable: the fifth byte either ends the varint or fails the overflow check');
}

/**
 * Reads the varlong at `position`.
 * Throws CORRUPT_MESSAGE when the buffer ends inside it, when it runs longer than 10 bytes, or when
 * its value is not a safe integer.
 */
export function readVarlong(buf: Uint8Array, position: number): VarintRead {
  const start = position;
  // The first four bytes carry bits 0..27: small enough for 32-bit operators.
  let low = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (position >= buf.length) throw truncatedError('varlong', start, buf.length);
    const byte = buf[position++];
    low |= (byte & 0x7f) << shift;
    if (byte < 0x80) return { value: (low >>> 1) ^ -(low & 1), position };
  }
  // Bits 28..63 accumulate by arithmetic: at most 36 bits, so every step is exact in a double.
  let high = 0;
  for (let shift = 0; shift < 7 * (VARLONG_MAX_BYTES - 4); shift += 7) {
    if (position >= buf.length) throw truncatedError('varlong', start, buf.length);
    const byte = buf[position++];
    // The tenth byte may only carry bit 63.
    if (shift === 35 && byte > 0x01) throw overflowError('varlong', start, byte, VARLONG_MAX_BYTES);
    high += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return { value: unzigzagWide(high, low, start), position };
  }
  assert.fail('unreachable: the tenth byte either ends the varlong or fails the overflow check');
}

/** zigzag = high * 2^28 + low; returns the signed value without forming zigzag itself. */
function unzigzagWide(high: number, low: number, start: number): number {
  // magnitude = zigzag >> 1, exact whenever it is below 2^53; larger ones fail the check below.
  const magnitude = high * 2 ** 27 + (low >>> 1);
  const value = (low & 1) === 1 ? -magnitude - 1 : magnitude;
  if (!Number.isSafeInteger(value)) {
    throw new MiniKafkaError(
      'CORRUPT_MESSAGE',
      `varlong at position ${start} does not fit a safe integer (|n| ≤ 2^53 − 1); offsets and timestamps never need more`,
      { position: start },
    );
  }
  return value;
}

function truncatedError(kind: 'varint' | 'varlong', start: number, bufferBytes: number): MiniKafkaError {
  return new MiniKafkaError('CORRUPT_MESSAGE', `${kind} at position ${start} is truncated: the buffer ends at ${bufferBytes}`, {
    position: start,
    bufferBytes,
  });
}

function overflowError(kind: 'varint' | 'varlong', start: number, lastByte: number, maxBytes: number): MiniKafkaError {
  const problem = lastByte >= 0x80 ? `is longer than ${maxBytes} bytes` : `overflows ${kind === 'varint' ? 32 : 64} bits`;
  return new MiniKafkaError('CORRUPT_MESSAGE', `${kind} at position ${start} ${problem} (byte ${maxBytes} is 0x${lastByte.toString(16)})`, {
    position: start,
    lastByte,
  });
}
