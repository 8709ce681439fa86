/**
 * How the CLI shows a record's key, value or header value, which are bytes of any kind.
 *
 * - null (length −1 on the wire) stays null;
 * - bytes that are valid UTF-8 with no control characters are shown as that text;
 * - anything else is shown as `0x` followed by lowercase hex.
 *
 * The rule is unambiguous: text that itself begins with `0x` is shown as hex, so a shown value
 * starting with `0x` is always hex. Control characters (newline and tab included) count as
 * binary so that a value can never break the one-line-per-record text output.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CONTROL_CHARACTER = /\p{Cc}/u;

export function displayBytes(bytes: Uint8Array | null): string | null {
  if (bytes === null) return null;
  const text = printableText(bytes);
  return text ?? `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

function printableText(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return null;
  }
  if (CONTROL_CHARACTER.test(text) || text.startsWith('0x')) return null;
  return text;
}

/**
 * A displayed value inside a text line: text in JSON quotes (so spaces and quotes stay readable),
 * hex and null bare.
 */
export function quoteDisplayed(shown: string | null): string {
  if (shown === null) return 'null';
  if (shown.startsWith('0x')) return shown;
  return JSON.stringify(shown);
}
