/**
 * `minikafka dump-log FILE… [--records] [--json]`: prints what a segment's files hold, the way
 * Kafka's kafka-dump-log does, for learning and for looking at a damaged log.
 *
 * Read-only and offline: it opens the files with `r` and never writes, so it works on the files of
 * a stopped broker and of a running one alike (a running broker's active segment is read up to
 * its size when opened; its index files lag until the broker next flushes or rolls).
 *
 * The kind of file comes from its extension; the segment's base offset from its name
 * (`00000000000000000042.log`). Files are dumped in the order given. A file that cannot be dumped
 * (missing, wrong kind) gets one `error:` line on stderr, the others are still dumped, and the
 * exit code is 1. A damaged file is not a failure: reporting the damage is the tool's job, in
 * `stopReason` (exit code 0).
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, parseSegmentFileName } from '../broker/storage/file-names.ts';
import { CliUserError, describeError } from './cli-errors.ts';
import type { CliContext } from './cli-io.ts';
import { BufferedWriter } from './cli-io.ts';
import type { DumpKind } from './dump-log-format.ts';
import {
  JsonDocumentWriter, formatBatchLine, formatFileHeader, formatIndexSummary, formatLogSummary, formatOffsetEntryLine,
  formatTimeEntryLine,
} from './dump-log-format.ts';
import { readOffsetIndexFile, readTimeIndexFile } from './index-file-dump.ts';
import { readLogFile } from './log-file-dump.ts';

export interface DumpLogOptions {
  readonly records: boolean;
  readonly json: boolean;
}

const kindBySuffix: Readonly<Record<string, DumpKind>> = {
  [LOG_SUFFIX]: 'log',
  [INDEX_SUFFIX]: 'index',
  [TIME_INDEX_SUFFIX]: 'timeindex',
};

const examples = `
Examples:
  $ minikafka dump-log data/orders-0/00000000000000000000.log
  $ minikafka dump-log --records data/orders-0/00000000000000000000.log
  $ minikafka dump-log data/orders-0/*.index data/orders-0/*.timeindex
  $ minikafka dump-log --json data/orders-0/00000000000000000000.log | jq .stopReason

Each file prints one document: a header, one line per batch (or index entry), and where the valid
data ends and why (stopReason: end, partial, invalid, crc, offset for a .log). See docs/cli.md.`;

export function registerDumpLog(program: Command, context: CliContext): void {
  program
    .command('dump-log')
    .description('print the record batches of .log files and the entries of .index and .timeindex files, checking each (read-only, no broker needed)')
    .argument('<file...>', 'segment files named <20-digit base offset>.log, .index or .timeindex')
    .option('--records', 'also print every record of each batch (.log files)')
    .addHelpText('after', examples)
    .action(async (files: string[], _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ records?: boolean; json?: boolean }>();
      await dumpFiles(files, { records: options.records === true, json: options.json === true }, context);
    });
}

/** Dumps each file in turn; a file that cannot be read is reported and skipped. */
export async function dumpFiles(files: ReadonlyArray<string>, options: DumpLogOptions, context: CliContext): Promise<void> {
  const out = new BufferedWriter(context.io);
  for (const file of files) {
    try {
      await dumpFile(file, options, out);
    } catch (error) {
      const described = describeError(error);
      // A bug is not one bad file: let the program's handler print it with its stack.
      if (described.stack !== null) throw error;
      out.flush();
      context.io.writeErr(described.line);
      context.exitCode = described.exitCode;
    }
  }
  out.flush();
  await out.takeReaderWait();
}

async function dumpFile(file: string, options: DumpLogOptions, out: BufferedWriter): Promise<void> {
  const name = path.basename(file);
  const kind = kindBySuffix[path.extname(name)];
  if (kind === undefined) {
    throw new CliUserError(`${file}: dump-log reads ${LOG_SUFFIX}, ${INDEX_SUFFIX} and ${TIME_INDEX_SUFFIX} files, not ${path.extname(name) || 'files without an extension'}`);
  }
  checkIsFile(file);
  const baseOffset = parseSegmentFileName(name)?.baseOffset ?? null;
  if (kind === 'log') {
    const batches = readLogFile(file, { segmentBaseOffset: baseOffset, records: options.records });
    return writeDocument({ file, kind, baseOffset }, 'batches', batches, formatBatchLine, formatLogSummary, options, out);
  }
  if (baseOffset === null) {
    throw new CliUserError(`${file}: an index file must keep its segment's name, <20-digit base offset>${path.extname(name)}, which gives the base offset its entries are relative to`);
  }
  if (kind === 'index') {
    return writeDocument({ file, kind, baseOffset }, 'entries', readOffsetIndexFile(file, baseOffset), formatOffsetEntryLine, formatIndexSummary, options, out);
  }
  return writeDocument({ file, kind, baseOffset }, 'entries', readTimeIndexFile(file, baseOffset), formatTimeEntryLine, formatIndexSummary, options, out);
}

/** Fails before anything is printed for the file, so its document is never half there. */
function checkIsFile(file: string): void {
  if (!fs.statSync(file).isDirectory()) return;
  throw new CliUserError(`${file}: is a directory; give the segment files in it, such as ${path.join(file, '*.log')}`);
}

/**
 * Writes one file's document, as JSON or as text, item by item as the reader yields them.
 * Between items it waits whenever stdout's reader has fallen behind, so memory stays bounded.
 */
async function writeDocument<T, S extends object>(
  head: { file: string; kind: DumpKind; baseOffset: number | null }, listName: 'batches' | 'entries', items: Generator<T, S, void>,
  formatItem: (item: T) => string, formatSummary: (summary: S) => string, options: DumpLogOptions, out: BufferedWriter,
): Promise<void> {
  const json = options.json ? new JsonDocumentWriter((text) => out.write(text), head, listName) : null;
  if (json === null) out.write(formatFileHeader(head.file, head.kind, head.baseOffset));
  let isDone = false;
  try {
    for (;;) {
      const next = items.next();
      if (next.done === true) {
        isDone = true;
        if (json === null) out.write(formatSummary(next.value));
        else json.end(next.value);
        return;
      }
      if (json === null) out.write(formatItem(next.value));
      else json.item(next.value);
      const wait = out.takeReaderWait();
      if (wait !== null) await wait;
    }
  } finally {
    // Writing failed part way: close the reader, and with it the file.
    if (!isDone) items.return(undefined as never);
  }
}
