/**
 * The two shapes of `minikafka dump-log` output, one document per file:
 *
 * - text, in the spirit of Kafka's kafka-dump-log: a `Dumping <file>` line, one `name: value` line
 *   per batch or index entry (records indented under their batch with `| `), and a closing line
 *   saying where the valid data ends and why;
 * - JSON: one JSON document per file on one line (JSON Lines), written as it is read, so a 1 GiB
 *   segment is never held in memory: `{ file, kind, baseOffset, batches|entries: [...], <summary> }`.
 *
 * Field names are documented in docs/cli.md; they are part of the CLI's contract with scripts.
 *
 * In the text output of a `__consumer_offsets` log, a record's key and value are shown decoded
 * (`key: OffsetCommitKey v1 {group: "g", topic: "t", partition: 0}`), with one `|   member:` line
 * per group member under a GroupMetadata record; the JSON keeps `key` and `value` as bytes and adds
 * the decoded form as `offsetsTopic`.
 */

import assert from 'node:assert';
import { quoteDisplayed } from './display-bytes.ts';
import type { IndexFileSummary, OffsetIndexEntryReport, TimeIndexEntryReport } from './index-file-dump.ts';
import type { BatchReport, GroupMemberReport, LogFileSummary, OffsetsTopicRecordReport, RecordReport } from './log-file-dump.ts';

export type DumpKind = 'log' | 'index' | 'timeindex';

const kindTitle: Readonly<Record<DumpKind, string>> = {
  log: 'log segment',
  index: 'offset index',
  timeindex: 'time index',
};

/** Writes one JSON document as its list grows: head fields, the list, then summary fields. */
export class JsonDocumentWriter {
  readonly #write: (text: string) => void;
  #items = 0;

  constructor(write: (text: string) => void, head: Readonly<Record<string, unknown>>, listName: string) {
    this.#write = write;
    const headJson = JSON.stringify(head);
    assert(headJson.length > 2, 'the head has fields: the list follows a comma');
    write(`${headJson.slice(0, -1)},${JSON.stringify(listName)}:[`);
  }

  item(value: unknown): void {
    this.#write(this.#items === 0 ? JSON.stringify(value) : `,${JSON.stringify(value)}`);
    this.#items += 1;
  }

  end(summary: object): void {
    const summaryJson = JSON.stringify(summary);
    assert(summaryJson.length > 2, 'the summary has fields: they follow a comma');
    this.#write(`],${summaryJson.slice(1)}\n`);
  }
}

export function formatFileHeader(file: string, kind: DumpKind, baseOffset: number | null): string {
  const base = baseOffset === null ? 'base offset unknown: the name is not <20-digit base offset>.log' : `base offset ${baseOffset}`;
  return `Dumping ${file} (${kindTitle[kind]}, ${base})\n`;
}

export function formatBatchLine(batch: BatchReport): string {
  let line = `baseOffset: ${batch.baseOffset} lastOffset: ${batch.lastOffset} count: ${batch.recordCount}` +
    ` position: ${batch.position} size: ${batch.sizeBytes} crcValid: ${batch.crcValid} crc: ${batch.crc} magic: ${batch.magic}` +
    ` compression: ${batch.compression} timestampType: ${batch.timestampType} ${batchTimestamp(batch)} maxTimestamp: ${batch.maxTimestamp}` +
    ` producerId: ${batch.producerId} producerEpoch: ${batch.producerEpoch} baseSequence: ${batch.baseSequence} lastSequence: ${batch.lastSequence}` +
    ` partitionLeaderEpoch: ${batch.partitionLeaderEpoch} isTransactional: ${batch.isTransactional} isControl: ${batch.isControl}\n`;
  if (batch.records === undefined) return line;
  if (batch.records === null) return `${line}| records ${batch.recordsError}\n`;
  for (const record of batch.records) line += formatRecordLine(record);
  return line;
}

/** A cleaner-stamped batch holds its delete horizon where the first record's timestamp would be. */
function batchTimestamp(batch: BatchReport): string {
  return batch.deleteHorizonMs === null ? `baseTimestamp: ${batch.baseTimestamp}` : `deleteHorizonMs: ${batch.deleteHorizonMs}`;
}

function formatRecordLine(record: RecordReport): string {
  const headers = record.headers.map((header) => `${JSON.stringify(header.key)}=${quoteDisplayed(header.value)}`).join(', ');
  const decoded = record.offsetsTopic;
  const key = decoded === undefined ? quoteDisplayed(record.key) : offsetsTopicKeyText(record, decoded);
  const value = decoded === undefined ? quoteDisplayed(record.value) : offsetsTopicValueText(record, decoded);
  let line = `| offset: ${record.offset} timestamp: ${record.timestamp} keySize: ${record.keySizeBytes} key: ${key}` +
    ` valueSize: ${record.valueSizeBytes} value: ${value} headers: [${headers}]\n`;
  if (decoded?.value != null && 'members' in decoded.value) {
    for (const member of decoded.value.members) line += `|   member: ${memberText(member)}\n`;
  }
  return line;
}

function offsetsTopicKeyText(record: RecordReport, decoded: OffsetsTopicRecordReport): string {
  if (decoded.type === null || decoded.key === null) return quoteDisplayed(record.key);
  return `${decoded.type}Key v${decoded.keyVersion} ${fieldsText(decoded.key)}`;
}

function offsetsTopicValueText(record: RecordReport, decoded: OffsetsTopicRecordReport): string {
  if (decoded.isTombstone) return 'null (tombstone: deletes this key)';
  if (decoded.value === null) return `${quoteDisplayed(record.value)} (${decoded.error ?? 'not decoded'})`;
  const counts: Record<string, string> = 'members' in decoded.value ? { members: String(decoded.value.members.length) } : {};
  return `${decoded.type}Value v${decoded.valueVersion} ${fieldsText(decoded.value, counts)}`;
}

function memberText(member: GroupMemberReport): string {
  const { assignedPartitions } = member;
  const assigned = assignedPartitions === null ? 'null' : `{${assignedPartitions.map((tp) => `${JSON.stringify(tp.topic)}: [${tp.partitions.join(', ')}]`).join(', ')}}`;
  return fieldsText(member, { assignedPartitions: assigned });
}

/** `{name: value, …}`, each value as JSON writes it (strings quoted) unless `shown` gives its text. */
function fieldsText(fields: object, shown: Readonly<Record<string, string>> = {}): string {
  return `{${Object.entries(fields).map(([name, value]) => `${name}: ${shown[name] ?? JSON.stringify(value)}`).join(', ')}}`;
}

export function formatLogSummary(summary: LogFileSummary): string {
  let line = `validBytes: ${summary.validBytes} of ${summary.sizeBytes} stopReason: ${summary.stopReason}`;
  line += summary.stopDetail === null ? ' (every batch is whole, its CRC matches and its offsets increase)\n' : ` (${summary.stopDetail})\n`;
  if (summary.unreadableBytes > 0 && summary.stopReason !== 'partial' && summary.stopReason !== 'invalid') {
    line += `unreadableBytes: ${summary.unreadableBytes} (after the last batch that could be read, the rest of the file is not whole batches)\n`;
  }
  return line;
}

export function formatOffsetEntryLine(entry: OffsetIndexEntryReport): string {
  return `offset: ${entry.offset} position: ${entry.position} matchesLog: ${entry.matchesLog}${problemSuffix(entry.problem)}\n`;
}

export function formatTimeEntryLine(entry: TimeIndexEntryReport): string {
  return `timestamp: ${entry.timestamp} offset: ${entry.offset} matchesLog: ${entry.matchesLog}${problemSuffix(entry.problem)}\n`;
}

export function formatIndexSummary(summary: IndexFileSummary): string {
  const why = summary.stopDetail === null ? 'every entry is good' : summary.stopDetail;
  const against = summary.logFile === null ? 'no .log beside it, so entries were not checked against batches' : `checked against ${summary.logFile}`;
  return `entries: ${summary.entryCount} validBytes: ${summary.validBytes} of ${summary.sizeBytes} stopReason: ${summary.stopReason} (${why}; ${against})\n`;
}

function problemSuffix(problem: string | null): string {
  return problem === null ? '' : ` problem: ${problem}`;
}
