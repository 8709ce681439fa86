/**
 * The progress line `minikafka produce --file` draws on a terminal while it sends:
 *
 *   [██████░░░░░░░░░░]   42%  12.3/29.0 MiB  105,234 records  81,002 rec/s  ETA 3s
 *
 * How far along is measured in bytes of the input file read, the only total known in advance;
 * records and records/s count what the broker acknowledged. The ETA is the bytes left at the
 * byte rate so far, shown once a quarter of a second has passed (before that a rate means little).
 *
 * Drawn only when stderr is a terminal: the line is rewritten in place with `\r` and cleared at
 * the end, which in a pipe or a log file would leave a mess. It is redrawn at most every 100 ms,
 * from a timer, so a fast producer does not spend its time on the terminal.
 *
 * `formatProgress()` is a pure function of the counters, tested on its own.
 */

export interface ProgressState {
  readonly bytesDone: number;
  /** The input's size; null when unknown (then no bar, no percentage, no ETA). */
  readonly bytesTotal: number | null;
  readonly records: number;
  readonly elapsedMs: number;
}

const MIN_BAR_CHARS = 8;
const MAX_BAR_CHARS = 30;
/** Room left beside the bar for the text, which is at most about 60 characters. */
const TEXT_ROOM_CHARS = 64;
const MIN_ELAPSED_FOR_RATE_MS = 250;
const REDRAW_INTERVAL_MS = 100;
/** Carriage return, then erase to the end of the line (ANSI EL). */
const REWRITE_LINE = '\r\x1b[K';

/** One progress line, at most `columns` characters wide. */
export function formatProgress(state: ProgressState, columns = 80): string {
  const total = state.bytesTotal !== null && state.bytesTotal > 0 ? state.bytesTotal : null;
  const fraction = total === null ? null : Math.min(1, state.bytesDone / total);
  const parts: string[] = [];
  if (fraction !== null) parts.push(`${Math.floor(fraction * 100)}%`.padStart(4));
  parts.push(total === null ? formatBytes(state.bytesDone) : formatBytesOf(state.bytesDone, total));
  parts.push(`${formatCount(state.records)} records`);
  const seconds = state.elapsedMs / 1000;
  if (state.elapsedMs >= MIN_ELAPSED_FOR_RATE_MS) {
    parts.push(`${formatCount(Math.round(state.records / seconds))} rec/s`);
    if (total !== null && state.bytesDone > 0) parts.push(`ETA ${formatDuration((total - state.bytesDone) / (state.bytesDone / seconds))}`);
  }
  // The bar's width depends on the terminal only, so it does not jump as the numbers grow.
  const barChars = fraction === null ? 0 : Math.min(MAX_BAR_CHARS, columns - TEXT_ROOM_CHARS);
  let bar = barChars >= MIN_BAR_CHARS && fraction !== null ? `[${'█'.repeat(Math.round(fraction * barChars))}${'░'.repeat(barChars - Math.round(fraction * barChars))}]` : null;
  const line = (): string => (bar === null ? parts : [bar, ...parts]).join('  ');
  // On a narrow terminal the last parts go first (ETA, rate, …), then the bar: never half a part.
  while (line().length > columns && parts.length > 1) parts.pop();
  if (line().length > columns) bar = null;
  const text = line();
  return text.length > columns ? text.slice(0, columns) : text;
}

/** `6.3/15.6 MiB`: both in the unit of the total. */
function formatBytesOf(bytes: number, totalBytes: number): string {
  const shownTotal = formatBytes(totalBytes);
  const unit = shownTotal.slice(shownTotal.indexOf(' ') + 1);
  if (unit === 'B') return `${bytes}/${totalBytes} B`;
  const divisor = 1024 ** (['KiB', 'MiB', 'GiB', 'TiB'].indexOf(unit) + 1);
  return `${(bytes / divisor).toFixed(1)}/${shownTotal}`;
}

/** 1023 B, 12.3 KiB, 4.0 MiB, 1.2 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 1,234,567 */
export function formatCount(count: number): string {
  return Math.round(count).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 3s, 2m05s, 1h02m */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** Redraws the progress line on a terminal every 100 ms until stop(). */
export class ProgressBar {
  readonly #write: (text: string) => void;
  readonly #read: () => ProgressState;
  readonly #columns: () => number;
  #timer: NodeJS.Timeout | null = null;

  /**
   * @param write where the line goes (stderr, a terminal)
   * @param read the counters now
   * @param columns the terminal's width now (it may be resized while the bar runs)
   */
  constructor(write: (text: string) => void, read: () => ProgressState, columns: () => number) {
    this.#write = write;
    this.#read = read;
    this.#columns = columns;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.draw(), REDRAW_INTERVAL_MS);
    // The bar never keeps the process alive by itself.
    this.#timer.unref();
  }

  draw(): void {
    this.#write(REWRITE_LINE + formatProgress(this.#read(), this.#columns()));
  }

  /** Stops redrawing and erases the line, so what is printed next starts on a clean line. */
  stop(): void {
    if (this.#timer === null) return;
    clearInterval(this.#timer);
    this.#timer = null;
    this.#write(REWRITE_LINE);
  }
}
