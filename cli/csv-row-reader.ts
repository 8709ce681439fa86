/**
 * CSV rows from lines of text (RFC 4180), for `minikafka produce --format csv`.
 *
 * It is fed one line at a time, as `produce` reads its input, and keeps what it needs between
 * lines: a quoted field may hold line breaks, so a row can span several lines, and the row is
 * reported with the number of the line it started on.
 *
 * The grammar, with `,` as the delimiter:
 *
 *   row    = field *(',' field)
 *   field  = quoted / bare
 *   quoted = '"' *(any character but '"', or '""' for one '"', or a line break) '"'
 *   bare   = *(any character but ',' and the line break)
 *
 * A `"` inside a bare field is kept as it is (files written by hand do that). After a quoted
 * field's closing quote only the delimiter or the end of the line may follow; anything else is an
 * error, since the row's fields could no longer be told apart. A quoted field still open at the
 * end of the input is an error too. Line breaks inside a quoted field come out as `\n`.
 */

export interface CsvRow {
  readonly fields: string[];
  /** The 1-based line on which the row started. */
  readonly lineNumber: number;
}

export class CsvSyntaxError extends Error {
  readonly lineNumber: number;

  constructor(message: string, lineNumber: number) {
    super(message);
    this.name = 'CsvSyntaxError';
    this.lineNumber = lineNumber;
  }
}

export class CsvRowReader {
  readonly #delimiter: string;
  #fields: string[] = [];
  #field = '';
  /** Inside a quoted field that goes on past the end of the last line. */
  #isInQuotes = false;
  #rowLineNumber = 0;

  constructor(delimiter = ',') {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw new Error(`a CSV delimiter is one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
    this.#delimiter = delimiter;
  }

  /** Reads one line (without its line break): the row it completes, or null while a quoted field goes on. */
  push(line: string, lineNumber: number): CsvRow | null {
    if (this.#isInQuotes) this.#field += '\n';
    else this.#rowLineNumber = lineNumber;
    let isAfterClosingQuote = false;
    for (let i = 0; i < line.length; i++) {
      const char = line[i];
      if (this.#isInQuotes) {
        if (char !== '"') this.#field += char;
        else if (line[i + 1] === '"') {
          this.#field += '"';
          i++;
        } else {
          this.#isInQuotes = false;
          isAfterClosingQuote = true;
        }
      } else if (char === this.#delimiter) {
        this.#fields.push(this.#field);
        this.#field = '';
        isAfterClosingQuote = false;
      } else if (isAfterClosingQuote) {
        throw new CsvSyntaxError(`${JSON.stringify(char)} follows a closing quote at column ${i + 1}; after a quoted field comes the delimiter ${JSON.stringify(this.#delimiter)} or the end of the line (write a quote inside a quoted field as "")`, lineNumber);
      } else if (char === '"' && this.#field === '') {
        this.#isInQuotes = true;
      } else {
        this.#field += char;
      }
    }
    if (this.#isInQuotes) return null;
    const fields = [...this.#fields, this.#field];
    this.#fields = [];
    this.#field = '';
    return { fields, lineNumber: this.#rowLineNumber };
  }

  /** At the end of the input: a quoted field must not still be open. */
  end(): void {
    if (this.#isInQuotes) throw new CsvSyntaxError('a quoted field that starts on this line is never closed: the input ended inside it', this.#rowLineNumber);
  }
}

/** One row as CSV text, quoting only what needs it: the inverse of CsvRowReader, for tests and docs. */
export function formatCsvRow(fields: ReadonlyArray<string>, delimiter = ','): string {
  return fields.map((field) => (field.includes(delimiter) || field.includes('"') || field.includes('\n') || field.includes('\r') || (field === '' && fields.length === 1)
    ? `"${field.replaceAll('"', '""')}"`
    : field)).join(delimiter);
}
