/**
 * The comparison as a picture: an SVG (it shows in a browser and inline on a repository page)
 * drawn from a results JSON that has `rows` (compare.ts).
 *
 *   node --import tsx bench/chart.ts bench/results/compare-2026-11-24.json   writes …/compare-2026-11-24.svg
 *
 * run.ts calls writeComparisonChart() itself when it saves results that have rows.
 *
 * Four panels, one per workload: produce, produce-fsync and consume as records/s on one shared
 * logarithmic scale (so a bar in one panel can be read against a bar in another, and a Redis row
 * stays visible beside the raw disk's tens of millions), e2e-latency as p50, p99 and p99.9 on a
 * logarithmic ms scale. Under every bar, what an acknowledgement meant there; the limits (raw
 * disk, loopback) are grey. The dashed lines are minikafka's targets (100-byte records). Every
 * other setting is in the JSON the chart names.
 */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComparisonRow } from './compare.ts';
import { formatNumber } from './report.ts';
import type { SystemName, WorkloadName } from './peers/workload.ts';

/** What the chart reads from a results file. */
export interface ComparisonReport {
  readonly command: string;
  readonly startedAt: string;
  readonly mode: string;
  readonly machine: Readonly<Record<string, string | number | null>>;
  readonly rows: readonly ComparisonRow[];
}

const COLORS: Readonly<Record<SystemName, string>> = {
  minikafka: '#2563eb',
  'redis-streams': '#dc2626',
  'nats-jetstream': '#16a34a',
  'raw-disk': '#6b7280',
  loopback: '#a3a3a3',
};

const PANELS: ReadonlyArray<{ readonly workload: WorkloadName; readonly title: string; readonly targetPerSec?: number }> = [
  { workload: 'produce', title: 'produce: records/s, acknowledged without waiting for an fsync', targetPerSec: 1_000_000 },
  { workload: 'produce-fsync', title: 'produce-fsync: records/s, acknowledged after an fsync', targetPerSec: 500_000 },
  { workload: 'consume', title: 'consume: records/s over the fetch time (group join apart)', targetPerSec: 2_000_000 },
];
const LATENCY_TARGETS_MS = [
  { label: 'target p50 0.5 ms', valueMs: 0.5 },
  { label: 'target p99 2 ms', valueMs: 2 },
];
const PERCENTILES = [
  { key: 'p50Ms', label: 'p50', opacity: 1 },
  { key: 'p99Ms', label: 'p99', opacity: 0.6 },
  { key: 'p999Ms', label: 'p99.9', opacity: 0.3 },
] as const;

const WIDTH = 1280;
const LABEL_WIDTH = 470;
const PLOT_LEFT = LABEL_WIDTH + 20;
const PLOT_WIDTH = 470;
const MARGIN = 20;
const ROW_HEIGHT = 38;
const LATENCY_ROW_HEIGHT = 46;
/** Room above a panel's rows for a target's label. */
const TARGET_BAND = 13;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** A log10 scale over whole decades covering `values`. */
function logScale(values: readonly number[], fallbackLow: number, fallbackHigh: number): { low: number; high: number; x(value: number): number; ticks: number[] } {
  const positive = values.filter((v) => v > 0);
  // 0.99: a value on a decade (0.1 ms) gets the decade below, so its bar is not zero wide.
  const low = 10 ** Math.floor(Math.log10(Math.min(0.99 * Math.min(...positive, Infinity), fallbackLow)));
  const high = 10 ** Math.ceil(Math.log10(positive.length === 0 ? fallbackHigh : Math.max(...positive, fallbackHigh)));
  const span = Math.log10(high) - Math.log10(low);
  const ticks: number[] = [];
  for (let tick = low; tick <= high * 1.0001; tick = Number((tick * 10).toPrecision(1))) ticks.push(tick);
  return { low, high, ticks, x: (value) => PLOT_LEFT + (PLOT_WIDTH * (Math.log10(Math.max(value, low)) - Math.log10(low))) / span };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`;
}

/** `1.2M`, `152k`, `980`: records/s as a person reads them on a bar. */
function formatRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toFixed(0);
}

/** A decade as an axis prints it: `10k`, `1M`, `1G`. */
function formatDecade(value: number): string {
  if (value >= 1e9) return `${value / 1e9}G`;
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(value);
}

/** The case, and under it what matters most to read the bar: why it did not run, how it read, or what its acknowledgement meant. */
function rowLabel(row: ComparisonRow): { title: string; detail: string } {
  const notRun = row.settings['not run'];
  if (notRun !== undefined) return { title: row.case, detail: `not run: ${notRun}` };
  if (row.workload === 'consume') return { title: row.case, detail: `fetch: ${row.settings.fetch ?? '-'}` };
  return { title: row.case, detail: `ack: ${row.settings['ack means'] ?? '-'}` };
}

function gridLines(scale: ReturnType<typeof logScale>, top: number, bottom: number, format: (tick: number) => string): string[] {
  return scale.ticks.flatMap((tick) => [
    `<line x1="${scale.x(tick).toFixed(1)}" y1="${top}" x2="${scale.x(tick).toFixed(1)}" y2="${bottom}" stroke="#e5e7eb"/>`,
    text(scale.x(tick), bottom + 14, format(tick), `${FONT} font-size="11" fill="#6b7280" text-anchor="middle"`),
  ]);
}

/** A dashed target line from its label (in the band above the rows, clear of the bars) down to `bottom`. */
function targetLine(x: number, labelY: number, bottom: number, label: string): string[] {
  return [
    `<line x1="${x.toFixed(1)}" y1="${labelY - 9}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#2563eb" stroke-dasharray="4 3"/>`,
    text(x + 3, labelY, label, `${FONT} font-size="10" fill="#2563eb"`),
  ];
}

function labelCell(row: ComparisonRow, y: number): string[] {
  const { title, detail } = rowLabel(row);
  return [
    `<rect x="${MARGIN}" y="${y + 4}" width="10" height="10" fill="${COLORS[row.system]}"/>`,
    text(MARGIN + 16, y + 13, clip(title, 68), `${FONT} font-size="12.5" fill="#111827"`),
    text(MARGIN + 16, y + 28, clip(detail, 88), `${FONT} font-size="10.5" fill="#6b7280"`),
  ];
}

/** Renders the whole chart. */
export function renderComparisonSvg(report: ComparisonReport): string {
  const parts: string[] = [];
  let y = MARGIN;
  const machine = report.machine;
  parts.push(text(MARGIN, y + 18, 'minikafka bench: the same workloads on each system, one machine, one run', `${FONT} font-size="19" font-weight="600" fill="#111827"`));
  y += 28;
  const subtitle = `${report.mode} run ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC · ${machine.cpu ?? '?'} ×${machine.cpus ?? '?'} · ${machine.memoryGiB ?? '?'} GiB · ${machine.filesystem ?? '?'} · Node ${machine.node ?? '?'}`;
  parts.push(text(MARGIN, y + 14, subtitle, `${FONT} font-size="12" fill="#374151"`));
  y += 18;
  parts.push(text(MARGIN, y + 14, `command: ${report.command} · records of 100-byte values · log scales · grey: limits of this machine, not brokers`, `${FONT} font-size="12" fill="#374151"`));
  y += 30;

  const throughputRows = report.rows.filter((row) => row.workload !== 'e2e-latency');
  const rateScale = logScale(
    [...throughputRows.map((row) => row.recordsPerSec ?? 0), ...PANELS.map((panel) => panel.targetPerSec ?? 0)],
    10_000,
    1_000_000,
  );
  for (const panel of PANELS) {
    const rows = report.rows.filter((row) => row.workload === panel.workload);
    if (rows.length === 0) continue;
    parts.push(text(MARGIN, y + 14, panel.title, `${FONT} font-size="14" font-weight="600" fill="#111827"`));
    y += 24;
    const labelY = y + 8;
    y += TARGET_BAND;
    const top = y;
    const bottom = y + rows.length * ROW_HEIGHT;
    parts.push(...gridLines(rateScale, top, bottom, formatDecade));
    if (panel.targetPerSec !== undefined) parts.push(...targetLine(rateScale.x(panel.targetPerSec), labelY, bottom, `minikafka target ≥${formatDecade(panel.targetPerSec)}`));
    for (const row of rows) {
      parts.push(...labelCell(row, y));
      if (row.recordsPerSec !== null) {
        const barEnd = rateScale.x(row.recordsPerSec);
        parts.push(`<rect x="${PLOT_LEFT}" y="${y + 6}" width="${Math.max(1, barEnd - PLOT_LEFT).toFixed(1)}" height="18" fill="${COLORS[row.system]}" rx="2"/>`);
        const latency = row.p99Ms === null ? '' : ` · p99 ${formatNumber(row.p99Ms)} ms`;
        parts.push(text(PLOT_LEFT + PLOT_WIDTH + 8, y + 19, `${formatRate(row.recordsPerSec)} rec/s · ${formatNumber(row.mbPerSec ?? 0)} MB/s${latency}`, `${FONT} font-size="12" fill="#111827"`));
      }
      y += ROW_HEIGHT;
    }
    y += 26;
  }

  const latencyRows = report.rows.filter((row) => row.workload === 'e2e-latency');
  if (latencyRows.length > 0) {
    const rate = latencyRows.find((row) => row.settings.records !== undefined)?.settings.records ?? '';
    parts.push(text(MARGIN, y + 14, `e2e-latency: ms from send to arrival at the consumer (p50, p99, p99.9), ${rate}`, `${FONT} font-size="14" font-weight="600" fill="#111827"`));
    y += 24;
    const latencyScale = logScale(latencyRows.flatMap((row) => [row.p50Ms ?? 0, row.p99Ms ?? 0, row.p999Ms ?? 0]), 0.01, 10);
    const labelY = y + 8;
    y += TARGET_BAND * LATENCY_TARGETS_MS.length;
    const top = y;
    const bottom = y + latencyRows.length * LATENCY_ROW_HEIGHT;
    parts.push(...gridLines(latencyScale, top, bottom, (tick) => `${tick} ms`));
    // Staggered: the two targets are close on the scale and their labels would overlap.
    LATENCY_TARGETS_MS.forEach((target, index) => parts.push(...targetLine(latencyScale.x(target.valueMs), labelY + index * TARGET_BAND, bottom, target.label)));
    for (const row of latencyRows) {
      parts.push(...labelCell(row, y));
      PERCENTILES.forEach((percentile, index) => {
        const valueMs = row[percentile.key];
        if (valueMs === null) return;
        const barY = y + 4 + index * 12;
        parts.push(`<rect x="${PLOT_LEFT}" y="${barY}" width="${Math.max(1, latencyScale.x(valueMs) - PLOT_LEFT).toFixed(1)}" height="10" fill="${COLORS[row.system]}" fill-opacity="${percentile.opacity}" rx="1.5"/>`);
        parts.push(text(PLOT_LEFT + PLOT_WIDTH + 8, barY + 9, `${percentile.label} ${formatNumber(valueMs)} ms`, `${FONT} font-size="11" fill="#111827"`));
      });
      y += LATENCY_ROW_HEIGHT;
    }
    y += 26;
  }

  parts.push(text(MARGIN, y + 8, 'Every setting of every row (batch, in flight, acks, flush policy, server and client versions, rounds) is in the results JSON beside this file.', `${FONT} font-size="11" fill="#6b7280"`));
  y += 20;
  const height = y + MARGIN;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Writes `<results file without .json>.svg` beside the results file; returns its path. */
export function writeComparisonChart(resultsFile: string): string {
  const report = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as ComparisonReport;
  if (!Array.isArray(report.rows) || report.rows.length === 0) throw new Error(`${resultsFile} has no comparison rows: run the compare benchmark with --save`);
  const svgFile = path.join(path.dirname(resultsFile), `${path.basename(resultsFile, '.json')}.svg`);
  fs.writeFileSync(svgFile, renderComparisonSvg(report));
  return svgFile;
}

function isEntryPoint(): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
}

if (isEntryPoint()) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node --import tsx bench/chart.ts bench/results/<results>.json…');
    process.exit(2);
  }
  for (const file of files) console.log(writeComparisonChart(file));
}
