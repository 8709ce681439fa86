/**
 * Prints measurements as a text table: one row per case, its figures first, then every setting
 * that produced them, so no figure is ever read without its record size, batch size, flush
 * policy and meaning of an acknowledgement.
 *
 * A figure measured over several rounds shows its median and, after it, the range in brackets:
 * `812 [744–901]`. Columns a case does not have stay empty.
 */

import type { Figure, Measurement } from './benchmark.ts';

const KiB = 1024;

/**
 * `1 MiB`, `16 KiB`, `1.5 GiB` for sizes that are whole (or half) binary units, exact bytes
 * (`1,141 B`) otherwise: a setting is printed exactly or not at all.
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  while (unit < units.length - 1 && bytes >= KiB ** (unit + 1) && (bytes * 2) % KiB ** (unit + 1) === 0) unit += 1;
  return `${(bytes / KiB ** unit).toLocaleString('en-US')} ${units[unit]}`;
}

/** Three significant digits (`2.89M`, `0.93`), whole numbers with separators from 1,000 to 1M. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  if (value === 0) return '0';
  return value.toPrecision(2);
}

export function formatFigure(figure: Figure): string {
  const median = formatNumber(figure.value);
  if (figure.min === undefined || figure.max === undefined || figure.min === figure.max) return median;
  return `${median} [${formatNumber(figure.min)}–${formatNumber(figure.max)}]`;
}

/** One table for the measurements of one benchmark. */
export function formatTable(title: string, measurements: readonly Measurement[]): string {
  const figureLabels = unionInOrder(measurements.map((m) => m.figures.map((f) => f.label)));
  const settingNames = unionInOrder(measurements.map((m) => Object.keys(m.settings)));
  const header = ['case', ...figureLabels, ...settingNames];
  const rows = measurements.map((m) => [
    m.case,
    ...figureLabels.map((label) => {
      const figure = m.figures.find((f) => f.label === label);
      return figure === undefined ? '' : formatFigure(figure);
    }),
    ...settingNames.map((name) => m.settings[name] ?? ''),
  ]);
  const isNumeric = header.map((_, column) => column >= 1 && column <= figureLabels.length);
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]): string =>
    cells.map((cell, column) => (isNumeric[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [`## ${title}`, '', line(header), rule, ...rows.map(line), ''].join('\n');
}

/** Every name once, in the order of the longest list, then any the longest lacks. */
function unionInOrder(lists: readonly (readonly string[])[]): string[] {
  const seen = new Set<string>();
  const longestFirst = [...lists].sort((a, b) => b.length - a.length);
  for (const list of longestFirst) for (const item of list) seen.add(item);
  return [...seen];
}
