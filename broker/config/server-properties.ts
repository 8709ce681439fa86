/**
 * A reader for Java `.properties` files, the format of Kafka's `server.properties`, so a Kafka
 * user's existing file (or a slice of it) can be passed to `--config-file`.
 *
 * The rules are those of `java.util.Properties.load`, read from its documentation and checked
 * against JDK 17 (the test cases were run through `Properties.load(Reader)`):
 *
 * - A natural line ends at `\n`, `\r` or `\r\n`. Leading spaces, tabs and form feeds are skipped;
 *   blank lines are skipped.
 * - A line whose first non-blank character is `#` or `!` is a comment. A comment never continues
 *   onto the next line, even when it ends with a backslash.
 * - A line ending in an odd number of backslashes continues on the next line; the backslash goes,
 *   and so does the next line's leading whitespace. An empty next line ends the entry.
 * - The key runs to the first unescaped `=`, `:`, space, tab or form feed. Then blanks, at most one
 *   `=` or `:`, and more blanks are skipped; the rest of the line is the value, trailing
 *   whitespace included (the config catalogue trims values, as Kafka does). `key` alone means the
 *   value "".
 * - In keys and values, `\t` `\n` `\r` `\f` are the control characters, `\uXXXX` is that UTF-16
 *   code unit (exactly four hex digits, otherwise the file is malformed), and a backslash before
 *   any other character stands for that character (`\=`, `\:`, `\ `, `\\`, `\#`).
 *
 * Two deliberate differences from Java: the file is read as UTF-8 (Java's `load(InputStream)`
 * reads ISO-8859-1, which garbles non-ASCII paths written by any modern editor), and a UTF-8 byte
 * order mark at the very start is dropped rather than becoming part of the first key.
 *
 * Every entry keeps the line it started on, so errors can point at `server.properties:12`.
 * Duplicate keys are all returned in order; the last one wins when they are applied.
 */

import fs from 'node:fs/promises';
import { MiniKafkaError } from '../../common/errors.ts';

export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based number of the natural line the entry starts on. */
  readonly line: number;
}

export interface PropertiesFile {
  /** Where the entries came from, for error messages (a path, or a label such as `server.properties`). */
  readonly source: string;
  readonly entries: readonly PropertyEntry[];
}

/** A server.properties is a few kilobytes; anything past this is not a config file. */
export const MAX_PROPERTIES_FILE_BYTES = 1_048_576;

/** Reads and parses a properties file; INVALID_CONFIG if it is missing, unreadable, too large or malformed. */
export async function readPropertiesFile(filePath: string): Promise<PropertiesFile> {
  let bytes: Buffer;
  try {
    const stat = await fs.stat(filePath);
    if (!stat.isFile()) throw new MiniKafkaError('INVALID_CONFIG', `Config file ${filePath} is not a regular file.`, { file: filePath });
    if (stat.size > MAX_PROPERTIES_FILE_BYTES) {
      throw new MiniKafkaError('INVALID_CONFIG', `Config file ${filePath} is ${stat.size} bytes; a properties file may be at most ${MAX_PROPERTIES_FILE_BYTES} bytes.`, { file: filePath, sizeBytes: stat.size });
    }
    bytes = await fs.readFile(filePath);
  } catch (error) {
    if (error instanceof MiniKafkaError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new MiniKafkaError('INVALID_CONFIG', `Cannot read config file ${filePath} (${reason}): check the --config-file path.`, { file: filePath, reason }, { cause: error });
  }
  return { source: filePath, entries: parseProperties(bytes.toString('utf8'), filePath) };
}

/** Parses the text of a properties file into its entries, in file order. */
export function parseProperties(text: string, source = 'server.properties'): PropertyEntry[] {
  const entries: PropertyEntry[] = [];
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  for (const logical of readLogicalLines(body)) {
    const { keyEnd, valueStart } = splitKeyValue(logical.text);
    entries.push({
      key: unescape(logical.text.slice(0, keyEnd), source, logical.line),
      value: unescape(logical.text.slice(valueStart), source, logical.line),
      line: logical.line,
    });
  }
  return entries;
}

interface LogicalLine {
  /** The line's characters with continuations joined, escapes not yet decoded. */
  readonly text: string;
  readonly line: number;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f';
const isLineEnd = (c: string): boolean => c === '\n' || c === '\r';

/**
 * Splits the text into logical lines: comments and blank lines dropped, continuations joined.
 * A character-at-a-time state machine, because continuation, comment and blank-skipping rules
 * interact (a line holding only `\` continues into a line that may then be a comment).
 */
function* readLogicalLines(text: string): Generator<LogicalLine> {
  let chars: string[] = [];
  let line = 1;
  let startLine = 1;
  let isSkippingBlanks = true;
  /** After a continuation, line ends are content (they end the entry), not blank lines to skip. */
  let isContinuation = false;
  let hasPrecedingBackslash = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i++];
    if (isSkippingBlanks) {
      if (isBlank(c)) continue;
      if (!isContinuation && isLineEnd(c)) {
        i = afterLineEnd(text, i - 1);
        line++;
        continue;
      }
      isSkippingBlanks = false;
      isContinuation = false;
    }
    if (chars.length === 0 && (c === '#' || c === '!')) {
      while (i < text.length && !isLineEnd(text[i])) i++;
      isSkippingBlanks = true;
      continue;
    }
    if (!isLineEnd(c)) {
      if (chars.length === 0) startLine = line;
      chars.push(c);
      hasPrecedingBackslash = c === '\\' ? !hasPrecedingBackslash : false;
      continue;
    }
    const isLastOfText = i === text.length;
    i = afterLineEnd(text, i - 1);
    line++;
    if (hasPrecedingBackslash && isLastOfText) {
      // Nothing follows to continue onto: Java drops the backslash and reports the line, even empty.
      chars.pop();
      yield { text: chars.join(''), line: startLine };
      return;
    }
    if (chars.length === 0) {
      isSkippingBlanks = true;
      continue;
    }
    if (hasPrecedingBackslash) {
      chars.pop();
      isSkippingBlanks = true;
      isContinuation = true;
      hasPrecedingBackslash = false;
      continue;
    }
    yield { text: chars.join(''), line: startLine };
    chars = [];
    isSkippingBlanks = true;
  }
  // At the end of the text a trailing backslash has nothing to continue onto and is dropped. Java
  // still reports the line, so a last line holding only `\` is an entry with an empty key.
  if (chars.length > 0) {
    if (hasPrecedingBackslash) chars.pop();
    yield { text: chars.join(''), line: startLine };
  }
}

/** The index just past the line end at `index`, treating `\r\n` as one line end. */
function afterLineEnd(text: string, index: number): number {
  return text[index] === '\r' && text[index + 1] === '\n' ? index + 2 : index + 1;
}

/** Where the raw key ends and the raw value starts, per the separator rules in the header. */
function splitKeyValue(raw: string): { keyEnd: number; valueStart: number } {
  let keyEnd = 0;
  let valueStart = raw.length;
  let hasSeparator = false;
  let hasPrecedingBackslash = false;
  while (keyEnd < raw.length) {
    const c = raw[keyEnd];
    if (!hasPrecedingBackslash && (c === '=' || c === ':')) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (!hasPrecedingBackslash && isBlank(c)) {
      valueStart = keyEnd + 1;
      break;
    }
    hasPrecedingBackslash = c === '\\' ? !hasPrecedingBackslash : false;
    keyEnd++;
  }
  while (valueStart < raw.length) {
    const c = raw[valueStart];
    if (!isBlank(c)) {
      if (hasSeparator || (c !== '=' && c !== ':')) break;
      hasSeparator = true;
    }
    valueStart++;
  }
  return { keyEnd, valueStart };
}

const simpleEscapes: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(raw: string, source: string, line: number): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i++];
    if (c !== '\\' || i >= raw.length) {
      out += c;
      continue;
    }
    const escaped = raw[i++];
    if (escaped === 'u') {
      const hex = raw.slice(i, i + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw new MiniKafkaError('INVALID_CONFIG', `${source}:${line}: malformed \\uXXXX escape "\\u${hex}"; a \\u escape needs exactly four hex digits.`, { file: source, line });
      }
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
      continue;
    }
    out += simpleEscapes[escaped] ?? escaped;
  }
  return out;
}
