/**
 * How `minikafka produce` turns lines of input into records: one parser per `--format`.
 *
 * | format | one record is                          | key                                   | value                      |
 * |--------|----------------------------------------|---------------------------------------|----------------------------|
 * | line   | each line, blank lines included        | before `--key-separator`, if given    | the line (after the key)   |
 * | json   | each line holding a JSON document      | `--key-field` of the object, or before `--key-separator` | the document's text, checked |
 * | csv    | each row after the header row          | the `--key-column` field, if given    | the row as a JSON object: `{"column": "text", …}` |
 *
 * As in Kafka's console producer, a line is what comes between line breaks (`\n` or `\r\n`); a
 * `line` record is the text as it is, so an empty line is a record with an empty value. In json,
 * blank lines are skipped, and the value keeps the document's own text (trimmed), so numbers too
 * large for JavaScript pass through unchanged. A key is text: a JSON string key is its contents,
 * any other JSON value its JSON text.
 *
 * A line that cannot become a record throws InputLineError with its line number, and the command
 * stops there (records before it have been sent, as with Kafka's tool).
 */

import type { CsvRow } from './csv-row-reader.ts';
import { CsvRowReader, CsvSyntaxError } from './csv-row-reader.ts';

export const INPUT_FORMATS = ['line', 'json', 'csv'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface InputOptions {
  readonly format: InputFormat;
  /** Split each line at the first occurrence: key before, value after (line and json formats). */
  readonly keySeparator?: string;
  /** csv: the column whose field is the key. */
  readonly keyColumn?: string;
  /** json: the top-level field of each object whose value is the key. */
  readonly keyField?: string;
}

export interface InputRecord {
  readonly key: string | null;
  readonly value: string;
  /** The 1-based line the record came from (its first line, for a CSV row spanning several). */
  readonly lineNumber: number;
}

export class InputLineError extends Error {
  readonly lineNumber: number;

  constructor(lineNumber: number, message: string) {
    super(`line ${lineNumber}: ${message}`);
    this.name = 'InputLineError';
    this.lineNumber = lineNumber;
  }
}

export interface InputParser {
  /** The record a line makes, or null when the line makes none (a header row, a blank json line, part of a CSV row). */
  push(line: string, lineNumber: number): InputRecord | null;
  /** At the end of the input. */
  end(): void;
}

/** Throws a plain Error naming the options that do not go together; the command shows it as a usage error. */
export function createInputParser(options: InputOptions): InputParser {
  if (options.keySeparator === '') throw new Error('--key-separator must not be empty');
  if (options.keyColumn !== undefined && options.format !== 'csv') throw new Error('--key-column goes with --format csv');
  if (options.keyField !== undefined && options.format !== 'json') throw new Error('--key-field goes with --format json');
  if (options.keySeparator !== undefined && options.format === 'csv') throw new Error('--key-separator goes with --format line or json; with csv, name the key with --key-column');
  if (options.keySeparator !== undefined && options.keyField !== undefined) throw new Error('give the key with --key-separator or with --key-field, not both');
  switch (options.format) {
    case 'line':
      return { push: (line, lineNumber) => splitKey(line, lineNumber, options.keySeparator), end: () => {} };
    case 'json':
      return { push: (line, lineNumber) => parseJsonLine(line, lineNumber, options), end: () => {} };
    case 'csv':
      return new CsvInputParser(options.keyColumn);
  }
}

function splitKey(line: string, lineNumber: number, separator: string | undefined): InputRecord {
  if (separator === undefined) return { key: null, value: line, lineNumber };
  const at = line.indexOf(separator);
  if (at < 0) throw new InputLineError(lineNumber, `no key separator ${JSON.stringify(separator)} in ${preview(line)} (--key-separator: every line is key${separator}value)`);
  return { key: line.slice(0, at), value: line.slice(at + separator.length), lineNumber };
}

function parseJsonLine(line: string, lineNumber: number, options: InputOptions): InputRecord | null {
  if (line.trim() === '') return null;
  const { key, value } = splitKey(line, lineNumber, options.keySeparator);
  const text = value.trim();
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InputLineError(lineNumber, `not valid JSON (${(error as Error).message})`);
  }
  if (options.keyField === undefined) return { key, value: text, lineNumber };
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new InputLineError(lineNumber, `--key-field ${options.keyField} needs a JSON object on each line, this line holds ${Array.isArray(document) ? 'an array' : document === null ? 'null' : `a ${typeof document}`}`);
  }
  if (!Object.hasOwn(document, options.keyField)) throw new InputLineError(lineNumber, `the object has no field ${JSON.stringify(options.keyField)} (--key-field): ${preview(text)}`);
  return { key: keyText((document as Record<string, unknown>)[options.keyField]), value: text, lineNumber };
}

function keyText(field: unknown): string | null {
  if (field === null) return null;
  return typeof field === 'string' ? field : JSON.stringify(field);
}

class CsvInputParser implements InputParser {
  readonly #rows = new CsvRowReader();
  readonly #keyColumn: string | undefined;
  #columns: string[] | null = null;
  #keyIndex = -1;

  constructor(keyColumn: string | undefined) {
    this.#keyColumn = keyColumn;
  }

  push(line: string, lineNumber: number): InputRecord | null {
    let row: CsvRow | null;
    try {
      row = this.#rows.push(line, lineNumber);
    } catch (error) {
      if (error instanceof CsvSyntaxError) throw new InputLineError(error.lineNumber, `not valid CSV: ${error.message}`);
      throw error;
    }
    if (row === null) return null;
    if (this.#columns === null) {
      this.#columns = this.#readHeader(row);
      return null;
    }
    // A blank line between rows (or at the end of a file) is not a row of empty fields.
    if (row.fields.length === 1 && row.fields[0] === '' && this.#columns.length > 1) return null;
    if (row.fields.length !== this.#columns.length) {
      throw new InputLineError(row.lineNumber, `the row has ${row.fields.length} fields, the header row has ${this.#columns.length} (${this.#columns.join(',')})`);
    }
    const object: Record<string, string> = {};
    for (let i = 0; i < this.#columns.length; i++) object[this.#columns[i]] = row.fields[i];
    return { key: this.#keyIndex >= 0 ? row.fields[this.#keyIndex] : null, value: JSON.stringify(object), lineNumber: row.lineNumber };
  }

  end(): void {
    try {
      this.#rows.end();
    } catch (error) {
      if (error instanceof CsvSyntaxError) throw new InputLineError(error.lineNumber, `not valid CSV: ${error.message}`);
      throw error;
    }
  }

  #readHeader(row: CsvRow): string[] {
    // A UTF-8 byte order mark, as spreadsheet programs write, is not part of the first column's name.
    const columns = row.fields.map((name, index) => (index === 0 ? name.replace(/^\uFEFF/, '') : name));
    const seen = new Set<string>();
    for (const name of columns) {
      if (seen.has(name)) throw new InputLineError(row.lineNumber, `the header row names column ${JSON.stringify(name)} twice; each column needs its own name (the first row is the header)`);
      seen.add(name);
    }
    if (this.#keyColumn !== undefined) {
      this.#keyIndex = columns.indexOf(this.#keyColumn);
      if (this.#keyIndex < 0) throw new InputLineError(row.lineNumber, `--key-column ${JSON.stringify(this.#keyColumn)} is not in the header row (${columns.join(',')})`);
    }
    return columns;
  }
}

/** A line as it appears in an error: quoted, and cut after 60 characters. */
function preview(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
