/**
 * Where a command's output goes, and the exit codes every command shares.
 *
 * Commands never touch process.stdout or process.exit: they write through a `CliIo`, so tests run
 * the whole program in-process and read what it printed, and `main()` alone decides the exit code.
 *
 * Exit codes shared by every command (docs/cli.md):
 *
 * | code | meaning                                                               |
 * |-----:|-----------------------------------------------------------------------|
 * |    0 | the command did what was asked                                        |
 * |    1 | it could not: a missing or unreadable file, a MiniKafkaError, a bug    |
 * |    2 | the command line itself is wrong: unknown option or command, bad value |
 */

import { once } from 'node:events';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  /** Returns a promise when the reader is slower than the writer: wait for it before writing more. */
  writeOut(text: string): void | Promise<void>;
  writeErr(text: string): void;
}

/** What a command's action receives besides its arguments. */
export interface CliContext {
  readonly io: CliIo;
  /** A command that reports some failures but goes on (one file of several missing) sets this. */
  exitCode: number;
}

/**
 * A write to a pipe that is full is queued in memory; `dump-log --records` on a 1 GiB segment piped
 * into a slow `less` would queue gigabytes. So writeOut hands back the wait for 'drain' whenever
 * stdout says its buffer is full, and commands wait for it before reading more.
 */
export const processIo: CliIo = {
  writeOut: (text) => (process.stdout.write(text) ? undefined : once(process.stdout, 'drain').then(() => undefined)),
  writeErr: (text) => void process.stderr.write(text),
};

/**
 * Collects output into chunks of about 64 KiB, so a command printing one line per batch makes one
 * write per chunk rather than one per line, and passes on the reader's backpressure.
 */
export class BufferedWriter {
  readonly #io: CliIo;
  #parts: string[] = [];
  #pendingChars = 0;
  #readerWait: Promise<void> | null = null;

  constructor(io: CliIo) {
    this.#io = io;
  }

  write(text: string): void {
    this.#parts.push(text);
    this.#pendingChars += text.length;
    if (this.#pendingChars >= 64 * 1024) this.flush();
  }

  /** Writes out what is buffered; call before writing to stderr and before the command returns. */
  flush(): void {
    if (this.#parts.length === 0) return;
    const text = this.#parts.join('');
    this.#parts = [];
    this.#pendingChars = 0;
    const wait = this.#io.writeOut(text);
    if (wait !== undefined) this.#readerWait = wait;
  }

  /** The wait for a reader that fell behind, once; null when there is nothing to wait for. */
  takeReaderWait(): Promise<void> | null {
    const wait = this.#readerWait;
    this.#readerWait = null;
    return wait;
  }
}
