/**
 * The on-disk format guard. test/fixtures/segments/ holds a partition log written once by
 * test/fixtures/make-segment-fixture.ts; these tests check that today's code still opens it as
 * written, that its bytes still follow the rules docs/on-disk-format.md states, and that today's
 * code, given the same appends, still writes the same bytes. A change to the batch layout, the
 * index entries, the file names or the roll rule fails here loudly.
 *
 * The one gzip batch is compared by decoded content, not by bytes: gzip output depends on the
 * zlib that Node bundles, and a new Node must not fail this test. Everything else is compared
 * byte for byte.
 */

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord, RecordBatchHeader } from '../../../common/record-batch.ts';
import { CompressionType, decodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import { ManualClock } from '../../../broker/storage/clock.ts';
import { parseSegmentFileName } from '../../../broker/storage/file-names.ts';
import { PartitionLog } from '../../../broker/storage/partition-log.ts';
import { StorageCounters } from '../../../broker/storage/storage-observer.ts';
import type { ExpectedLog, ExpectedRecord } from '../../fixtures/make-segment-fixture.ts';
import { EXPECTED_FILE, FIXTURE_DIR, fixtureLogConfig, formatExpected, listSegmentFiles, writeFixtureLog } from '../../fixtures/make-segment-fixture.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

const REGENERATE = 'if the format is meant to change, regenerate with `npx tsx test/fixtures/make-segment-fixture.ts --overwrite` and update docs/on-disk-format.md';

const expectedText = fs.readFileSync(path.join(FIXTURE_DIR, EXPECTED_FILE), 'utf8');
const expected = JSON.parse(expectedText) as ExpectedLog;
const fixtureFiles = listSegmentFiles(FIXTURE_DIR);
const segmentBaseOffsets = fixtureFiles.filter((name) => name.endsWith('.log')).map((name) => parseSegmentFileName(name)!.baseOffset);

/** A copy of the checked-in segment files in a fresh partition directory. */
function copyFixture(): string {
  const dir = path.join(makeTempDir(), 'fixture-0');
  fs.mkdirSync(dir);
  for (const name of fixtureFiles) fs.copyFileSync(path.join(FIXTURE_DIR, name), path.join(dir, name));
  return dir;
}

function openAfterCleanShutdown(dir: string, metrics: StorageCounters): PartitionLog {
  return PartitionLog.open({ dir, config: fixtureLogConfig, clock: new ManualClock(), metrics, hadCleanShutdown: true, logStartOffset: 0 });
}

function asExpected(record: DecodedRecord): ExpectedRecord {
  const base64 = (bytes: Buffer | null): string | null => (bytes === null ? null : bytes.toString('base64'));
  return {
    offset: record.offset,
    timestamp: record.timestamp,
    key: base64(record.key),
    value: base64(record.value),
    headers: record.headers.map((header) => ({ key: header.key, value: base64(header.value) })),
  };
}

function fixtureFile(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURE_DIR, name));
}

function batchesOf(file: Buffer): Array<{ position: number; header: RecordBatchHeader }> {
  return [...iterateRecordBatches(file)];
}

describe('the checked-in segment files', () => {
  it('cover what they are meant to: three or more segments, index entries in each, a gzip batch', () => {
    expect(segmentBaseOffsets.length).toBeGreaterThanOrEqual(3);
    for (const baseOffset of segmentBaseOffsets) {
      const name = String(baseOffset).padStart(20, '0');
      expect(fixtureFiles).toEqual(expect.arrayContaining([`${name}.log`, `${name}.index`, `${name}.timeindex`]));
      expect(fixtureFile(`${name}.index`).length, `${name}.index`).toBeGreaterThan(0);
      expect(fixtureFile(`${name}.timeindex`).length, `${name}.timeindex`).toBeGreaterThan(0);
    }
    const compressions = fixtureFiles.filter((name) => name.endsWith('.log')).flatMap((name) => batchesOf(fixtureFile(name)).map((b) => b.header.compression));
    expect(compressions).toContain(CompressionType.gzip);
    expect(expected.records.some((r) => r.key === null)).toBe(true);
    expect(expected.records.some((r) => r.value === null)).toBe(true);
    expect(expected.records.some((r) => r.headers.length > 1)).toBe(true);
  });

  it('follow the documented rules: contiguous batches with broker-assigned offsets, index entries where index.interval.bytes puts them', () => {
    let nextOffset = 0;
    for (const [i, baseOffset] of segmentBaseOffsets.entries()) {
      const name = String(baseOffset).padStart(20, '0');
      const log = fixtureFile(`${name}.log`);
      const batches = batchesOf(log);
      const end = batches.at(-1)!.position + batches.at(-1)!.header.sizeBytes;
      expect(end, `${name}.log is whole batches and nothing else`).toBe(log.length);
      expect(log.length, `${name}.log fits segment.bytes`).toBeLessThanOrEqual(fixtureLogConfig.segmentBytes);

      // The oracle: the index rules of docs/on-disk-format.md, applied to the batches as they lie.
      const offsetEntries = Buffer.alloc(batches.length * 8);
      const timeEntries = Buffer.alloc((batches.length + 1) * 12);
      let offsetEntryCount = 0;
      let timeEntryCount = 0;
      let bytesSinceLastEntry = 0;
      let maxTimestamp = -1;
      let offsetOfMaxTimestamp = baseOffset;
      let lastIndexedTimestamp = -1;
      const addTimeEntry = (): void => {
        if (maxTimestamp <= lastIndexedTimestamp) return;
        timeEntries.writeBigInt64BE(BigInt(maxTimestamp), timeEntryCount * 12);
        timeEntries.writeInt32BE(offsetOfMaxTimestamp - baseOffset, timeEntryCount * 12 + 8);
        timeEntryCount += 1;
        lastIndexedTimestamp = maxTimestamp;
      };
      for (const { position, header } of batches) {
        const decoded = decodeRecordBatch(log, position);
        expect(header.baseOffset, `${name}.log at position ${position}: offsets follow on without gaps`).toBe(nextOffset);
        expect(header.partitionLeaderEpoch, 'the broker stamps leader epoch 0').toBe(0);
        expect(decoded.records.map(asExpected)).toEqual(expected.records.slice(header.baseOffset, header.lastOffset + 1));
        nextOffset = header.lastOffset + 1;
        if (header.maxTimestamp > maxTimestamp) {
          maxTimestamp = header.maxTimestamp;
          offsetOfMaxTimestamp = header.lastOffset;
        }
        if (bytesSinceLastEntry > fixtureLogConfig.indexIntervalBytes) {
          offsetEntries.writeInt32BE(header.lastOffset - baseOffset, offsetEntryCount * 8);
          offsetEntries.writeInt32BE(position, offsetEntryCount * 8 + 4);
          offsetEntryCount += 1;
          addTimeEntry();
          bytesSinceLastEntry = 0;
        }
        bytesSinceLastEntry += header.sizeBytes;
      }
      // Every segment was made inactive (by a roll, or by the clean close for the last one).
      addTimeEntry();
      expect(fixtureFile(`${name}.index`).toString('hex'), `${name}.index`).toBe(offsetEntries.subarray(0, offsetEntryCount * 8).toString('hex'));
      expect(fixtureFile(`${name}.timeindex`).toString('hex'), `${name}.timeindex`).toBe(timeEntries.subarray(0, timeEntryCount * 12).toString('hex'));

      // The roll rule: the next segment exists because its first batch did not fit in this one.
      const nextBaseOffset = segmentBaseOffsets[i + 1];
      if (nextBaseOffset !== undefined) {
        expect(nextBaseOffset, 'a segment is named after its first offset').toBe(nextOffset);
        const firstOfNext = batchesOf(fixtureFile(`${String(nextBaseOffset).padStart(20, '0')}.log`))[0].header;
        expect(log.length + firstOfNext.sizeBytes, `${name}.log rolled because the next batch would pass segment.bytes`).toBeGreaterThan(fixtureLogConfig.segmentBytes);
      }
    }
    expect(nextOffset).toBe(expected.nextOffset);
  });
});

describe('PartitionLog on the checked-in files', () => {
  it('open() after a clean shutdown trusts them as they are and read() returns every record at its offset', async () => {
    const dir = copyFixture();
    const counters = new StorageCounters();
    const log = openAfterCleanShutdown(dir, counters);
    expect(counters.indexesRebuilt, 'no index was rebuilt: each one passed its sanity check').toBe(0);
    expect(counters.recoveryCuts).toEqual([]);
    expect(log.logStartOffset).toBe(expected.logStartOffset);
    expect(log.nextOffset).toBe(expected.nextOffset);
    expect(log.recoveryPoint).toBe(expected.nextOffset);
    expect(log.segments.map((s) => s.baseOffset)).toEqual(segmentBaseOffsets);

    for (const want of expected.records) {
      const read = log.read(want.offset, 1);
      expect(read, `read(${want.offset})`).not.toBeNull();
      // maxBytes 1 still returns the whole batch holding the offset, which may start before it.
      const { header, records } = decodeRecordBatch(read!.bytes, 0);
      expect(read!.bytes.length).toBe(header.sizeBytes);
      expect(header.baseOffset).toBeLessThanOrEqual(want.offset);
      expect(records.map(asExpected).find((r) => r.offset === want.offset), `offset ${want.offset}`).toEqual(want);
    }
    expect(log.read(expected.nextOffset, 1 << 20)).toBeNull();
    await log.close();

    expect(listSegmentFiles(dir)).toEqual(fixtureFiles);
    for (const name of fixtureFiles) {
      expect(fs.readFileSync(path.join(dir, name)).equals(fixtureFile(name)), `${name} unchanged by open, read and close`).toBe(true);
    }
  });

  it('findOffsetByTimestamp() answers through the checked-in time indexes as a scan of the records would', async () => {
    const log = openAfterCleanShutdown(copyFixture(), new StorageCounters());
    const targets = new Set<number>();
    for (const record of expected.records) for (const delta of [-1, 0, 1]) targets.add(record.timestamp + delta);
    for (const target of targets) {
      const first = expected.records.find((record) => record.timestamp >= target);
      const want = first === undefined ? null : { offset: first.offset, timestamp: first.timestamp };
      expect(log.findOffsetByTimestamp(target), `timestamp ${target}`).toEqual(want);
    }
    await log.close();
  });
});

describe('the storage engine today', () => {
  it('writes the checked-in bytes when given the same appends (the gzip batch compared by content)', async () => {
    const dir = path.join(makeTempDir(), 'fixture-0');
    const regenerated = await writeFixtureLog(dir);
    expect(formatExpected(regenerated), `the generator's records differ from ${EXPECTED_FILE}; ${REGENERATE}`).toBe(expectedText);
    expect(listSegmentFiles(dir), `segment files; ${REGENERATE}`).toEqual(fixtureFiles);
    for (const name of fixtureFiles) {
      const written = fs.readFileSync(path.join(dir, name));
      const checkedIn = fixtureFile(name);
      if (!name.endsWith('.log')) {
        // Index entries do not depend on the gzip batch's size: it is the last batch of all.
        expect(written.toString('hex'), `${name}; ${REGENERATE}`).toBe(checkedIn.toString('hex'));
        continue;
      }
      const writtenBatches = batchesOf(written);
      const checkedInBatches = batchesOf(checkedIn);
      expect(writtenBatches.length, `${name}: batch count`).toBe(checkedInBatches.length);
      for (const [i, { position, header }] of checkedInBatches.entries()) {
        const now = writtenBatches[i];
        expect(now.position, `${name}: position of batch ${i}`).toBe(position);
        if (header.compression === CompressionType.none) {
          const was = checkedIn.subarray(position, position + header.sizeBytes).toString('hex');
          const is = written.subarray(now.position, now.position + now.header.sizeBytes).toString('hex');
          expect(is, `${name}: batch at position ${position} (offset ${header.baseOffset}); ${REGENERATE}`).toBe(was);
        } else {
          expect(now.header.compression).toBe(header.compression);
          const { crc: _crc, batchLength: _length, sizeBytes: _size, ...fields } = header;
          expect(now.header, `${name}: header of the gzip batch at offset ${header.baseOffset}`).toMatchObject(fields);
          expect(decodeRecordBatch(written, now.position).records.map(asExpected)).toEqual(decodeRecordBatch(checkedIn, position).records.map(asExpected));
        }
      }
      const writtenEnd = writtenBatches.length === 0 ? 0 : writtenBatches.at(-1)!.position + writtenBatches.at(-1)!.header.sizeBytes;
      expect(writtenEnd, `${name} holds whole batches only`).toBe(written.length);
    }
  });
});
