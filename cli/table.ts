/**
 * The tables the CLI prints for people, in the shape Kafka's tools print them: a header row of
 * upper-case names, then one row per item, each column as wide as its widest cell, columns two
 * spaces apart, no trailing spaces. An absent value (null) is shown as `-`, as
 * `kafka-consumer-groups --describe` shows a partition without a commit.
 *
 *   GROUP    TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG
 *   billing  orders  0          2               2               0
 *
 * Cells are printed as they are: callers pass one-line text (a newline in a cell would break the
 * row, so it is shown as `\n`).
 */

export type Cell = string | number | boolean | null | undefined;

const COLUMN_GAP = '  ';

export function formatTable(columns: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string {
  const cells = rows.map((row) => columns.map((_, index) => showCell(row[index])));
  const widths = columns.map((name, index) => Math.max(displayWidth(name), ...cells.map((row) => displayWidth(row[index]))));
  const lines = [columns, ...cells].map((row) => row.map((text, index) => (index === row.length - 1 ? text : text + ' '.repeat(widths[index] - displayWidth(text)))).join(COLUMN_GAP).trimEnd());
  return lines.join('\n') + '\n';
}

export function showCell(cell: Cell): string {
  if (cell === null || cell === undefined) return '-';
  return String(cell).replace(/\r?\n/g, '\\n');
}

/** Characters, not UTF-16 units, so a name with an emoji or an accent keeps its column straight enough. */
function displayWidth(text: string): number {
  let width = 0;
  for (const _ of text) width++;
  return width;
}
