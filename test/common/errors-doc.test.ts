/**
 * docs/errors.md lists the error catalogue as a table; this keeps the two in step, row for row,
 * so a code added to common/errors.ts without its documentation (or the other way round) fails.
 */

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { errorCatalogue } from '../../common/errors.ts';

const docPath = path.join(import.meta.dirname, '..', '..', 'docs', 'errors.md');
const HEADER = '| code | Kafka code | HTTP status | REST error_code | retriable | summary |';

interface DocRow {
  code: string;
  kafkaCode: number | null;
  httpStatus: number;
  restCode: number;
  retriable: boolean;
  summary: string;
}

/** The catalogue table's rows: the lines after its header and separator, up to the first non-table line. */
function readCatalogueTable(markdown: string): DocRow[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(HEADER);
  expect(start, `docs/errors.md has a table headed ${HEADER}`).toBeGreaterThanOrEqual(0);
  const rows: DocRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    // Split on pipes that are not escaped, then unescape.
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim().replaceAll('\\|', '|'));
    expect(cells, line).toHaveLength(6);
    const [code, kafkaCode, httpStatus, restCode, retriable, summary] = cells;
    expect(code, line).toMatch(/^`[A-Z_]+`$/);
    expect(retriable, line).toMatch(/^(yes|no)$/);
    rows.push({
      code: code.slice(1, -1),
      kafkaCode: kafkaCode === '—' ? null : Number(kafkaCode),
      httpStatus: Number(httpStatus),
      restCode: Number(restCode),
      retriable: retriable === 'yes',
      summary,
    });
  }
  return rows;
}

describe('docs/errors.md', () => {
  const rows = readCatalogueTable(fs.readFileSync(docPath, 'utf8'));

  test('lists every catalogue code once, in catalogue order', () => {
    expect(rows.map((row) => row.code)).toEqual(Object.keys(errorCatalogue));
  });

  test('gives each code the Kafka code, HTTP status, REST code, retriable flag and summary of the catalogue', () => {
    for (const row of rows) {
      const spec = errorCatalogue[row.code as keyof typeof errorCatalogue];
      expect({ code: row.code, ...spec }).toEqual(row);
    }
  });

  test('catalogue REST codes are unique and extend their HTTP status', () => {
    const restCodes = Object.values(errorCatalogue).map((spec) => spec.restCode);
    expect(new Set(restCodes).size).toBe(restCodes.length);
    for (const spec of Object.values(errorCatalogue)) expect(Math.floor(spec.restCode / 100)).toBe(spec.httpStatus);
  });
});
