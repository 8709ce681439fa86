/**
 * How the CLI turns an error into what the user sees: one `error: …` line on stderr and an exit
 * code, never a stack trace for something the user can fix.
 *
 * Three kinds of failure:
 * - a user's mistake or a disk's refusal: a CliUserError (wrong kind of file, a value out of
 *   range), a Node file error (ENOENT, EACCES, EISDIR…) or a MiniKafkaError from the catalogue;
 * - a command-line mistake caught by commander (unknown option): commander prints its own line;
 * - anything else is a bug in minikafka: the line is followed by the stack, which a bug report needs.
 */

import { isMiniKafkaError } from '../common/errors.ts';
import { EXIT_FAILURE } from './cli-io.ts';

/**
 * Something the user can fix: a file of the wrong kind, a value out of range. Printed as one
 * `error: …` line, never with a stack trace.
 */
export class CliUserError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CliUserError';
    this.exitCode = exitCode;
  }
}

export interface DescribedError {
  /** One line, starting `error: `, ending in a newline. */
  readonly line: string;
  /** The stack, for bugs only; null for anything a user or a disk caused. */
  readonly stack: string | null;
  readonly exitCode: number;
}

/** Node's words for the file errors a user meets, rephrased around the path. */
const fileErrorText: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files',
  EIO: 'input/output error from the disk',
};

export function describeError(error: unknown): DescribedError {
  if (error instanceof CliUserError) return userLine(error.message, error.exitCode);
  if (isMiniKafkaError(error)) return userLine(`${error.message} (${error.code})`, EXIT_FAILURE);
  if (isFileError(error)) {
    const text = fileErrorText[error.code] ?? error.message;
    return userLine(error.path === undefined ? `${text} (${error.code})` : `${error.path}: ${text} (${error.code})`, EXIT_FAILURE);
  }
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error && error.stack !== undefined ? `${error.stack}\n` : null;
  return { line: `error: ${oneLine(message)} (this is a bug in minikafka; please report it with the stack below)\n`, stack, exitCode: EXIT_FAILURE };
}

function userLine(message: string, exitCode: number): DescribedError {
  return { line: `error: ${oneLine(message)}\n`, stack: null, exitCode };
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

function isFileError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
