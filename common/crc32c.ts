/**
 * CRC-32C (Castagnoli): the checksum of record format v2, which covers a batch from its
 * attributes field to its end (kafka-facts §2.1). Not the zlib CRC-32 of the legacy formats.
 *
 * Parameters: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF; check value
 * crc32c("123456789") = 0xE3069283 (kafka-facts A.5).
 *
 * A thin wrapper over @node-rs/crc32, which uses the CPU's CRC32 instructions. Invariants: the
 * result is an unsigned 32-bit number, so it compares directly with `readUInt32BE`; a byte range is
 * checksummed through a `subarray` view, never a copy.
 */
import assert from 'node:assert';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of `buf[start, end)`. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  assert(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= buf.length, 'crc32c range lies inside the buffer');
  const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
  // The binding already answers in [0, 2^32); `>>> 0` keeps that true should it ever return the
  // signed form, as some CRC libraries do.
  return nativeCrc32c(view) >>> 0;
}
