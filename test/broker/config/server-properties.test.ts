import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PROPERTIES_FILE_BYTES, parseProperties, readPropertiesFile } from '../../../broker/config/server-properties.ts';
import { isMiniKafkaError } from '../../../common/errors.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

/** Last value wins, as when the entries are applied. */
function asMap(text: string): Record<string, string> {
  return Object.fromEntries(parseProperties(text).map((entry) => [entry.key, entry.value]));
}

/** Writes a key and value so that parseProperties reads them back unchanged (the inverse of its escapes). */
function escapeProperty(text: string, isKey: boolean): string {
  let out = '';
  for (const [index, c] of [...text].entries()) {
    if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\f') out += '\\f';
    else if (c === ' ' && (isKey || index === 0)) out += '\\ ';
    else if ((isKey || index === 0) && (c === '=' || c === ':')) out += `\\${c}`;
    else if (index === 0 && (c === '#' || c === '!')) out += `\\${c}`;
    else out += c;
  }
  return out;
}

describe('parseProperties', () => {
  // Every expected map below is what JDK 17's Properties.load(Reader) produced for the same text.
  const javaVerified: Array<[string, Record<string, string> | 'malformed']> = [
    ['a=b', { a: 'b' }],
    ['a = b ', { a: 'b ' }],
    ['a:b', { a: 'b' }],
    ['a b', { a: 'b' }],
    ['a\tb', { a: 'b' }],
    ['a\fb', { a: 'b' }],
    ['a', { a: '' }],
    ['a=', { a: '' }],
    ['=b', { '': 'b' }],
    ['a==b', { a: '=b' }],
    ['a=:b', { a: ':b' }],
    ['a :=b', { a: '=b' }],
    ['a = = b', { a: '= b' }],
    ['a\\=b=c', { 'a=b': 'c' }],
    ['a\\:b:c', { 'a:b': 'c' }],
    ['a\\ b c', { 'a b': 'c' }],
    ['k=\\u0041\\u00e9\\t.', { k: 'Aé\t.' }],
    ['k=\\q\\\\\\#', { k: 'q\\#' }],
    ['k=\\u00', 'malformed'],
    ['k=\\uZZZZ', 'malformed'],
    ['  # comment\n\t! comment\n\n   \nk=v', { k: 'v' }],
    ['k=v # not a comment', { k: 'v # not a comment' }],
    ['# a comment \\\nk=v', { k: 'v' }],
    ['k=one\\\n    two', { k: 'onetwo' }],
    ['k=one\\\n\n two=2', { k: 'one', two: '2' }],
    ['k=v\\\\\nz=1', { k: 'v\\', z: '1' }],
    ['k=\\\\\\\nx', { k: '\\x' }],
    ['k=v\\', { k: 'v' }],
    ['\\\n#c\nq=1', { q: '1' }],
    ['a=1\r\nb=2\rc=3\n', { a: '1', b: '2', c: '3' }],
    ['k=one\\\r\n   two', { k: 'onetwo' }],
    ['k=v\\\n  # still value', { k: 'v# still value' }],
    ['x.y.z=/var/lib/kafka logs ', { 'x.y.z': '/var/lib/kafka logs ' }],
  ];

  it.each(javaVerified)('parseProperties(%j) reads what java.util.Properties reads', (text, expected) => {
    if (expected === 'malformed') expect(() => parseProperties(text)).toThrow(/malformed \\uXXXX escape/);
    else expect(asMap(text)).toEqual(expected);
  });

  it('parseProperties() numbers each entry by the line it starts on, counting \\r\\n, \\r and \\n once each', () => {
    const text = '# header\r\n\r\nnum.partitions=3\rlog.dirs=/a\\\n   /b\n\n  message.max.bytes = 5\n';
    expect(parseProperties(text)).toEqual([
      { key: 'num.partitions', value: '3', line: 3 },
      { key: 'log.dirs', value: '/a/b', line: 4 },
      { key: 'message.max.bytes', value: '5', line: 7 },
    ]);
  });

  it('parseProperties() keeps duplicate keys in file order so the last can win', () => {
    expect(parseProperties('a=1\nb=2\na=3').map((entry) => `${entry.key}=${entry.value}@${entry.line}`)).toEqual(['a=1@1', 'b=2@2', 'a=3@3']);
  });

  it('parseProperties() reports a malformed \\u escape with the file and line', () => {
    try {
      parseProperties('a=1\n\n# x\nb=\\u12x4\n', 'conf/server.properties');
      expect.unreachable();
    } catch (error) {
      expect(isMiniKafkaError(error, 'INVALID_CONFIG')).toBe(true);
      expect((error as Error).message).toMatch(/^conf\/server\.properties:4: malformed \\uXXXX escape "\\u12x4"/);
    }
  });

  it('parseProperties() drops a UTF-8 byte order mark instead of prefixing the first key with it', () => {
    expect(asMap('\ufeffnum.partitions=2')).toEqual({ 'num.partitions': '2' });
  });

  it('parseProperties() returns nothing for empty, blank and comment-only text', () => {
    for (const text of ['', '\n\n', '   \t\f\r\n', '# a\n! b\n   # c \\\n']) expect(parseProperties(text)).toEqual([]);
  });

  it('parseProperties() reads back any key and value written with escapes, one entry per line', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '.', ' ', '=', ':', '#', '!', '\\', '\t', '\n', '\r', '\f', 'é', '😀', 'u'), maxLength: 12 });
    fc.assert(fc.property(fc.array(fc.tuple(text.filter((key) => key.length > 0), text), { maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r'), fc.constantFrom('=', ': ', ' '), (pairs, lineEnd, separator) => {
      const file = pairs.map(([key, value]) => `${escapeProperty(key, true)}${separator}${escapeProperty(value, false)}`).join(lineEnd);
      const entries = parseProperties(file);
      expect(entries.map((entry) => [entry.key, entry.value])).toEqual(pairs);
      expect(entries.map((entry) => entry.line)).toEqual(pairs.map((_, index) => index + 1));
    }), { numRuns: 500 });
  });

  it('parseProperties() never throws anything but INVALID_CONFIG on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '=', ':', ' ', '\\', 'u', '0', 'F', '\n', '\r', '#'), maxLength: 40 }), (text) => {
      try {
        for (const entry of parseProperties(text)) expect(entry.line).toBeGreaterThanOrEqual(1);
      } catch (error) {
        expect(isMiniKafkaError(error, 'INVALID_CONFIG')).toBe(true);
      }
    }), { numRuns: 1000 });
  });
});

describe('readPropertiesFile', () => {
  it('readPropertiesFile() reads a UTF-8 file from disk and names it as the source', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'server.properties');
    fs.writeFileSync(file, '# minikafka\nlog.dirs=/srv/données\nnum.partitions = 4\n');
    const parsed = await readPropertiesFile(file);
    expect(parsed.source).toBe(file);
    expect(parsed.entries).toEqual([
      { key: 'log.dirs', value: '/srv/données', line: 2 },
      { key: 'num.partitions', value: '4', line: 3 },
    ]);
  });

  it('readPropertiesFile() rejects a missing file with INVALID_CONFIG naming the path', async () => {
    const missing = path.join(makeTempDir(), 'nope.properties');
    await expect(readPropertiesFile(missing)).rejects.toThrow(new RegExp(`Cannot read config file ${missing.replaceAll('/', '\\/')} \\(ENOENT\\)`));
  });

  it('readPropertiesFile() rejects a directory and a file over the size limit', async () => {
    const dir = makeTempDir();
    await expect(readPropertiesFile(dir)).rejects.toThrow(/is not a regular file/);
    const big = path.join(dir, 'big.properties');
    fs.writeFileSync(big, Buffer.alloc(MAX_PROPERTIES_FILE_BYTES + 1, 0x23));
    await expect(readPropertiesFile(big)).rejects.toThrow(/may be at most 1048576 bytes/);
  });
});
