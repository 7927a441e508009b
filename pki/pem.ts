/**
 * PEM blocks (RFC 7468) found the way Go's encoding/pem.Decode finds them, applied repeatedly as
 * notation-core-go `ReadCertificateFile` does: a block starts with `-----BEGIN <label>-----` at the start of a
 * line and ends with the matching `-----END <label>-----` line; a candidate whose body is not valid base64 is
 * skipped, not fatal. The label is not judged: notation parses every block as a certificate, whatever its label,
 * so a key in a certificate file is an error, not skipped.
 */

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/** The line starting at `from`, without its newline and trailing blanks (Go encoding/pem getLine). */
function lineAt(text: string, from: number): { line: string; next: number } {
  const nl = text.indexOf('\n', from);
  const end = nl < 0 ? text.length : nl;
  return { line: text.slice(from, end).replace(/[ \t\r]+$/, ''), next: nl < 0 ? text.length : nl + 1 };
}

/** The decoded bytes of every well-formed PEM block of `text` (read as Latin-1), in order. */
export function pemBlocks(text: string): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  let search = 0;
  for (;;) {
    let begin = text.indexOf(BEGIN, search);
    while (begin > 0 && text[begin - 1] !== '\n') begin = text.indexOf(BEGIN, begin + 1);
    if (begin < 0) return blocks;
    search = begin + 1;
    const typeLine = lineAt(text, begin);
    if (!typeLine.line.endsWith(DASHES) || typeLine.line.length < BEGIN.length + DASHES.length) continue;
    const label = typeLine.line.slice(BEGIN.length, -DASHES.length);
    const rest = text.slice(typeLine.next);
    const endAt = rest.startsWith(END) ? 0 : rest.indexOf(`\n${END}`) + 1;
    if (endAt <= 0 && !rest.startsWith(END)) continue;
    const endLine = lineAt(rest, endAt);
    if (endLine.line !== `${END}${label}${DASHES}`) continue;
    const body = rest.slice(0, endAt).replace(/[ \t\r\n]/g, '');
    if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) continue;
    blocks.push(Uint8Array.from(Buffer.from(body, 'base64')));
    search = typeLine.next + endLine.next;
  }
}
