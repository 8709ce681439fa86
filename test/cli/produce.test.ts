/**
 * `minikafka produce`: lines, JSON documents and CSV rows from a file (in-process) or stdin (a real
 * child process with a pipe) become records, read back through the broker's fetch route with the
 * common codec; a line that fails stops the command with exit 1 and its number; the progress line
 * is drawn only on a terminal. Also the units behind it: the CSV row reader, the input parsers and
 * the progress line's formatting.
 */

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/broker.ts';
import { startBroker } from '../../broker/broker.ts';
import { CsvRowReader, CsvSyntaxError, formatCsvRow } from '../../cli/csv-row-reader.ts';
import { InputLineError, createInputParser } from '../../cli/produce-input.ts';
import { ProgressBar, formatBytes, formatCount, formatDuration, formatProgress } from '../../cli/progress-bar.ts';
import { partitionForKey } from '../../common/murmur2.ts';
import { readRecords } from '../client/client-harness.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import type { CliRun } from './cli-harness.ts';
import { runCapturing } from './cli-harness.ts';

const cliMain = path.resolve(import.meta.dirname, '../../cli/main.ts');
const execFileAsync = promisify(execFile);

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
});

afterAll(async () => {
  await broker.close();
});

function run(...args: string[]): Promise<CliRun> {
  return runCapturing(args);
}

/** `minikafka produce TOPIC --file <a file holding text> ARGS…` against the test broker. */
async function produceFile(topic: string, text: string, ...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const file = path.join(makeTempDir(), 'input');
  fs.writeFileSync(file, text);
  return run('produce', topic, '--file', file, '--broker', broker.url, ...args);
}

async function createTopic(topic: string, partitions: number, ...configs: string[]): Promise<void> {
  const result = await run('topic', 'create', topic, '--partitions', String(partitions), ...configs.flatMap((c) => ['--config', c]), '--broker', broker.url);
  expect(result.exitCode).toBe(0);
}

interface StoredRecord {
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
}

async function stored(topic: string, partition: number): Promise<StoredRecord[]> {
  return (await readRecords(broker.url, topic, partition)).map((r) => ({
    key: r.key === null ? null : r.key.toString(),
    value: r.value === null ? null : r.value.toString(),
    headers: r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString()]),
  }));
}

function expectOneErrorLine(stderr: string, pattern: RegExp): void {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr.trimEnd()).toMatch(pattern);
}

/** The CLI as a child process, as a user runs it, with `input` on its stdin (a pipe, not a terminal). */
function spawnCli(args: string[], input: string): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cliMain, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

describe('minikafka produce --format line', () => {
  it('sends each line as a value, an empty line as an empty value, and prints a summary per partition', async () => {
    await createTopic('lines', 1);
    const { exitCode, stdout, stderr } = await produceFile('lines', 'first\n\nthird\r\nfourth');
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(await stored('lines', 0)).toEqual([
      { key: null, value: 'first', headers: [] }, { key: null, value: '', headers: [] }, { key: null, value: 'third', headers: [] }, { key: null, value: 'fourth', headers: [] },
    ]);
    const [summary, ...table] = stdout.trimEnd().split('\n');
    expect(summary).toMatch(/^Produced 4 records \(16 B\) to lines in \d+\.\d\d s( \([\d,]+ records\/s\))?\.$/);
    expect(table.map((line) => line.split(/\s+/))).toEqual([['PARTITION', 'RECORDS', 'FIRST-OFFSET', 'LAST-OFFSET'], ['0', '4', '0', '3']]);
  });

  it('splits key and value at the first --key-separator, and keyed records go where murmur2 puts them', async () => {
    await createTopic('keyed', 3);
    const { exitCode } = await produceFile('keyed', 'alice:{"total":12}\nbob:7:8\n:empty key\n', '--key-separator', ':');
    expect(exitCode).toBe(0);
    const expected = new Map<number, StoredRecord[]>([[0, []], [1, []], [2, []]]);
    for (const [key, value] of [['alice', '{"total":12}'], ['bob', '7:8'], ['', 'empty key']]) {
      expected.get(partitionForKey(Buffer.from(key), 3))?.push({ key, value, headers: [] });
    }
    for (const [partition, records] of expected) expect(await stored('keyed', partition)).toEqual(records);
  });

  it('adds every --header to every record, sends to --partition, and takes --acks 1', async () => {
    await createTopic('headed', 2);
    const { exitCode, stdout } = await produceFile('headed', 'a\nb\n', '--header', 'source=import', '--header', 'trace=1=2', '--header', 'source=again', '--partition', '1', '--acks', '1', '--json');
    expect(exitCode).toBe(0);
    const headers: Array<[string, string]> = [['source', 'import'], ['source', 'again'], ['trace', '1=2']];
    expect(await stored('headed', 1)).toEqual([{ key: null, value: 'a', headers }, { key: null, value: 'b', headers }]);
    const summary = JSON.parse(stdout) as { topic: string; records: number; bytes: number; partitions: unknown[] };
    expect(summary).toMatchObject({ topic: 'headed', records: 2, bytes: 2, partitions: [{ partition: 1, records: 2, firstOffset: 0, lastOffset: 1 }] });
  });
});

describe('minikafka produce --format json', () => {
  it('sends each JSON document as its own text, skips blank lines, and takes the key from --key-field', async () => {
    await createTopic('docs', 1);
    const lines = ['{"id": "u1", "n": 12345678901234567890}', '', '   ', '{"id": 7, "nested": {"a": [1, 2]}}', '{"id": null}'];
    const { exitCode } = await produceFile('docs', lines.join('\n') + '\n', '--format', 'json', '--key-field', 'id');
    expect(exitCode).toBe(0);
    expect(await stored('docs', 0)).toEqual([
      { key: 'u1', value: lines[0], headers: [] },
      { key: '7', value: lines[3], headers: [] },
      { key: null, value: lines[4], headers: [] },
    ]);
  });

  it('stops at a line that is not JSON, after sending the lines before it, and names the line (exit 1)', async () => {
    await createTopic('badjson', 1);
    const { exitCode, stderr } = await produceFile('badjson', '{"a":1}\n[2]\n{oops\n{"a":4}\n', '--format', 'json');
    expect(exitCode).toBe(1);
    expectOneErrorLine(stderr, /^error: line 3 was not produced: not valid JSON \(.+\); 2 records were acknowledged; the input was read up to line 3$/);
    expect((await stored('badjson', 0)).map((r) => r.value)).toEqual(['{"a":1}', '[2]']);
  });
});

describe('minikafka produce --format csv', () => {
  it('sends each row as the JSON object of its columns, quoted fields and line breaks included, keyed by --key-column', async () => {
    await createTopic('people', 1);
    const csv = '\uFEFFid,name,note\r\n1,Ann,"hello, ""world"""\r\n2,Bob,"two\nlines"\n\n3,,plain "quotes"\n';
    const { exitCode } = await produceFile('people', csv, '--format', 'csv', '--key-column', 'id');
    expect(exitCode).toBe(0);
    expect(await stored('people', 0)).toEqual([
      { key: '1', value: JSON.stringify({ id: '1', name: 'Ann', note: 'hello, "world"' }), headers: [] },
      { key: '2', value: JSON.stringify({ id: '2', name: 'Bob', note: 'two\nlines' }), headers: [] },
      { key: '3', value: JSON.stringify({ id: '3', name: '', note: 'plain "quotes"' }), headers: [] },
    ]);
  });

  it('names the line of a row with the wrong number of fields', async () => {
    await createTopic('ragged', 1);
    const { exitCode, stderr } = await produceFile('ragged', 'a,b\n1,2\n"x\ny",2\n3\n', '--format', 'csv');
    expect(exitCode).toBe(1);
    expectOneErrorLine(stderr, /^error: line 5 was not produced: the row has 1 fields, the header row has 2 \(a,b\); 2 records were acknowledged/);
  });

  it('refuses a --key-column the header does not have, before sending anything', async () => {
    await createTopic('nokeycol', 1);
    const { exitCode, stderr } = await produceFile('nokeycol', 'a,b\n1,2\n', '--format', 'csv', '--key-column', 'id');
    expect(exitCode).toBe(1);
    expectOneErrorLine(stderr, /^error: line 1 was not produced: --key-column "id" is not in the header row \(a,b\); 0 records were acknowledged/);
    expect(await stored('nokeycol', 0)).toEqual([]);
  });
});

describe('minikafka produce failures', () => {
  it('names the line the producer refused, after delivering the lines before it', async () => {
    await createTopic('toolarge', 1);
    const { exitCode, stderr } = await produceFile('toolarge', `small\n${'x'.repeat(2 * 1024 * 1024)}\n`);
    expect(exitCode).toBe(1);
    expectOneErrorLine(stderr, /^error: line 2 was not produced: .*over the producer's limit.* \(MESSAGE_TOO_LARGE\); 1 record was acknowledged/);
    expect((await stored('toolarge', 0)).map((r) => r.value)).toEqual(['small']);
  });

  it("passes on the broker's refusal with the failing line, and --json adds the summary with failedLine", async () => {
    await createTopic('twoparts', 2);
    const { exitCode, stdout, stderr } = await produceFile('twoparts', 'a\n', '--partition', '5', '--json');
    expect(exitCode).toBe(1);
    expectOneErrorLine(stderr, /^error: line 1 was not produced: topic twoparts has no partition 5: it has partitions 0 to 1 \(UNKNOWN_TOPIC_OR_PARTITION\)/);
    expect(JSON.parse(stdout)).toMatchObject({ records: 0, failedLine: 1, error: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } });
  });

  it('refuses options that do not go together as command-line mistakes (exit 2)', async () => {
    const csvSeparator = await produceFile('any', 'a\n', '--format', 'csv', '--key-separator', ':');
    expect(csvSeparator.exitCode).toBe(2);
    expectOneErrorLine(csvSeparator.stderr, /^error: --key-separator goes with --format line or json/);
    const keyColumn = await produceFile('any', 'a\n', '--key-column', 'id');
    expect(keyColumn.exitCode).toBe(2);
    const format = await produceFile('any', 'a\n', '--format', 'xml');
    expect(format.exitCode).toBe(2);
    expectOneErrorLine(format.stderr, /^error: option '--format <format>' argument 'xml' is invalid\. Allowed choices are line, json, csv\.$/);
  });

  it('reports a missing --file as a file error before connecting', async () => {
    const result = await run('produce', 'any', '--file', path.join(makeTempDir(), 'missing.txt'), '--broker', 'http://127.0.0.1:1');
    expect(result.exitCode).toBe(1);
    expectOneErrorLine(result.stderr, /^error: .*missing\.txt: no such file or directory \(ENOENT\)$/);
  });
});

describe('minikafka produce as a child process', () => {
  it('reads stdin from a pipe, exits 0, prints the summary on stdout and nothing on stderr', async () => {
    await createTopic('piped', 1);
    const { exitCode, stdout, stderr } = await spawnCli(['produce', 'piped', '--key-separator', '=', '--broker', broker.url], 'k1=v1\nk2=v2\n');
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Produced 2 records \(8 B\) to piped in /);
    expect(await stored('piped', 0)).toEqual([{ key: 'k1', value: 'v1', headers: [] }, { key: 'k2', value: 'v2', headers: [] }]);
  });

  it('exits non-zero and names the line when a piped line fails', async () => {
    await createTopic('pipefail', 1);
    const { exitCode, stderr } = await spawnCli(['produce', 'pipefail', '--key-separator', '=', '--broker', broker.url], 'k1=v1\nno separator here\nk3=v3\n');
    expect(exitCode).toBe(1);
    expectOneErrorLine(stderr, /^error: line 2 was not produced: no key separator "=" in "no separator here"/);
  });

  it('draws no progress line when stderr is not a terminal, even for a file', async () => {
    await createTopic('noprogress', 1);
    const file = path.join(makeTempDir(), 'many.txt');
    fs.writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => `record ${i}`).join('\n'));
    const { exitCode, stderr, stdout } = await spawnCli(['produce', 'noprogress', '--file', file, '--broker', broker.url], '');
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).not.toMatch(/[\r\x1b]/);
    expect(stdout).toMatch(/^Produced 20,000 records/);
  });

  it.skipIf(!fs.existsSync('/usr/bin/script'))('draws the progress line on a terminal and erases it before the summary', async () => {
    await createTopic('progress', 1);
    const file = path.join(makeTempDir(), 'many.txt');
    fs.writeFileSync(file, Array.from({ length: 60_000 }, (_, i) => `record number ${i} with some padding to make it longer`).join('\n'));
    // util-linux's script runs the command on a pseudo-terminal and copies what it writes.
    const command = [process.execPath, '--import', 'tsx', cliMain, 'produce', 'progress', '--file', file, '--broker', broker.url].map((arg) => `'${arg}'`).join(' ');
    const { stdout } = await execFileAsync('script', ['-qfec', command, '/dev/null'], { maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toMatch(/\r\x1b\[K\[[█░]+\] +\d+% {2}[\d.]+\/[\d.]+ MiB {2}[\d,]+ records/);
    const summaryAt = stdout.indexOf('Produced 60,000 records');
    expect(summaryAt).toBeGreaterThan(0);
    // The last thing before the summary is the erase, not a half-drawn bar.
    expect(stdout.slice(0, summaryAt).endsWith('\r\x1b[K')).toBe(true);
  });
});

describe('CsvRowReader', () => {
  function readAll(lines: string[]): string[][] {
    const reader = new CsvRowReader();
    const rows: string[][] = [];
    lines.forEach((line, index) => {
      const row = reader.push(line, index + 1);
      if (row !== null) rows.push(row.fields);
    });
    reader.end();
    return rows;
  }

  it('reads bare and quoted fields, doubled quotes, and a quoted field over several lines with the line it started on', () => {
    const reader = new CsvRowReader();
    expect(reader.push('a,"b,c",""""', 1)).toEqual({ fields: ['a', 'b,c', '"'], lineNumber: 1 });
    expect(reader.push('x,"two', 2)).toBeNull();
    expect(reader.push('', 3)).toBeNull();
    expect(reader.push('lines",y', 4)).toEqual({ fields: ['x', 'two\n\nlines', 'y'], lineNumber: 2 });
    expect(reader.push('', 5)).toEqual({ fields: [''], lineNumber: 5 });
  });

  it('refuses text after a closing quote, and a quoted field the input never closes', () => {
    expect(() => new CsvRowReader().push('"a"b,c', 7)).toThrow(CsvSyntaxError);
    const reader = new CsvRowReader();
    reader.push('"open', 3);
    expect(() => reader.end()).toThrow(/line|never closed/);
  });

  it('reads back any rows formatCsvRow wrote, split into lines at their line breaks', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', ' ', 'é') });
    fc.assert(fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }), (rows) => {
      const text = rows.map((row) => formatCsvRow(row)).join('\n');
      expect(readAll(text.split('\n'))).toEqual(rows);
    }));
  });
});

describe('createInputParser()', () => {
  it('gives each line format record its line number and refuses a line without the separator', () => {
    const parser = createInputParser({ format: 'line', keySeparator: '::' });
    expect(parser.push('k::v::w', 4)).toEqual({ key: 'k', value: 'v::w', lineNumber: 4 });
    expect(() => parser.push('kv', 5)).toThrow(new InputLineError(5, 'no key separator "::" in "kv" (--key-separator: every line is key::value)'));
  });

  it('takes a JSON key field of any type as text, and refuses a line that is not an object', () => {
    const parser = createInputParser({ format: 'json', keyField: 'k' });
    expect(parser.push('{"k":{"a":1}}', 1)?.key).toBe('{"a":1}');
    expect(() => parser.push('[1]', 2)).toThrow(/^line 2: --key-field k needs a JSON object on each line, this line holds an array$/);
    expect(() => parser.push('{"other":1}', 3)).toThrow(/^line 3: the object has no field "k"/);
  });

  it('refuses a CSV header that names a column twice', () => {
    expect(() => createInputParser({ format: 'csv' }).push('a,b,a', 1)).toThrow(/names column "a" twice/);
  });

  it('refuses key options that do not belong to the format', () => {
    expect(() => createInputParser({ format: 'line', keyField: 'x' })).toThrow('--key-field goes with --format json');
    expect(() => createInputParser({ format: 'json', keyColumn: 'x' })).toThrow('--key-column goes with --format csv');
    expect(() => createInputParser({ format: 'json', keyField: 'x', keySeparator: ':' })).toThrow('not both');
  });
});

describe('formatProgress()', () => {
  it('shows a bar, percent, bytes of the total, records, rate and ETA once a quarter second has passed', () => {
    const line = formatProgress({ bytesDone: 10 * 1024 * 1024, bytesTotal: 40 * 1024 * 1024, records: 100_000, elapsedMs: 2_000 }, 120);
    expect(line).toBe(`[${'█'.repeat(8)}${'░'.repeat(22)}]   25%  10.0/40.0 MiB  100,000 records  50,000 rec/s  ETA 6s`);
  });

  it('sizes the bar by the terminal width alone, so it does not jump as the numbers grow', () => {
    const early = formatProgress({ bytesDone: 0, bytesTotal: 1000, records: 0, elapsedMs: 10 }, 80);
    const later = formatProgress({ bytesDone: 960, bytesTotal: 1000, records: 1_289_915, elapsedMs: 20_000 }, 80);
    expect(early).toBe(`[${'░'.repeat(16)}]    0%  0/1000 B  0 records`);
    expect(later.indexOf(']')).toBe(early.indexOf(']'));
    expect(later).toBe(`[${'█'.repeat(15)}░]   96%  960/1000 B  1,289,915 records  64,496 rec/s  ETA 1s`);
  });

  it('on a narrow terminal leaves out the bar, then the last parts, never half a part', () => {
    const halfway = { bytesDone: 500, bytesTotal: 1000, records: 5, elapsedMs: 1000 };
    expect(formatProgress(halfway, 60)).toBe(' 50%  500/1000 B  5 records  5 rec/s  ETA 1s');
    expect(formatProgress(halfway, 30)).toBe(' 50%  500/1000 B  5 records');
    expect(formatProgress(halfway, 10)).toBe(' 50%');
    expect(formatProgress({ bytesDone: 2048, bytesTotal: null, records: 3, elapsedMs: 100 }, 80)).toBe('2.0 KiB  3 records');
  });

  it('never prints a line wider than the terminal', () => {
    fc.assert(fc.property(fc.nat(1e12), fc.nat(1e12), fc.nat(1e9), fc.nat(1e8), fc.integer({ min: 10, max: 200 }), (done, total, records, elapsedMs, columns) => {
      expect(formatProgress({ bytesDone: Math.min(done, total), bytesTotal: total, records, elapsedMs }, columns).length).toBeLessThanOrEqual(columns);
    }));
  });

  it('formats bytes, counts and durations for people', () => {
    expect([formatBytes(1023), formatBytes(1024), formatBytes(5.5 * 1024 * 1024), formatBytes(3 * 1024 ** 3)]).toEqual(['1023 B', '1.0 KiB', '5.5 MiB', '3.0 GiB']);
    expect([formatCount(0), formatCount(999), formatCount(1234567)]).toEqual(['0', '999', '1,234,567']);
    expect([formatDuration(0.2), formatDuration(59), formatDuration(125), formatDuration(3725), formatDuration(Number.POSITIVE_INFINITY)]).toEqual(['1s', '59s', '2m05s', '1h02m', '?']);
  });
});

describe('ProgressBar', () => {
  it('redraws the line in place while it runs and erases it on stop()', async () => {
    const writes: string[] = [];
    let records = 0;
    const bar = new ProgressBar((text) => writes.push(text), () => ({ bytesDone: records, bytesTotal: 100, records: records++, elapsedMs: 500 }), () => 80);
    bar.start();
    await new Promise((resolve) => setTimeout(resolve, 350));
    bar.stop();
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes.slice(0, -1).every((text) => text.startsWith('\r\x1b[K[') && text.includes('%'))).toBe(true);
    expect(writes.at(-1)).toBe('\r\x1b[K');
    const count = writes.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(writes.length).toBe(count);
  });
});
