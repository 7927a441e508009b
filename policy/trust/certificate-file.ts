/**
 * Reading a trust store file the way notation-core-go x509.ReadCertificateFile does: if the bytes hold a PEM
 * block, every PEM block must be a certificate (whatever its label — a key in the file is an error, not
 * skipped); otherwise the whole file is one or more concatenated DER certificates. An empty file yields no
 * certificate, which the store rules then reject. Spec: trust-store-trust-policy.md § "Trust Store" (".pem,
 * .crt and .cer … DER or PEM"; notation does not look at the extension, nor does this).
 */
import { X509Certificate } from 'node:crypto';
import { readCertificateFacts } from './certificate-facts.ts';
import type { CertificateFacts } from './certificate-facts.ts';
import { DerError, DerReader, TAG } from './der.ts';

export interface ParsedCertificate {
  readonly certificate: X509Certificate;
  readonly facts: CertificateFacts;
}

export type CertificateFileOutcome =
  | { readonly ok: true; readonly certificates: readonly ParsedCertificate[] }
  | { readonly ok: false; readonly reason: string };

const BEGIN = '-----BEGIN ';
const DASHES = '-----';

/** The line starting at `from`, without its newline and trailing blanks (Go encoding/pem getLine). */
function lineAt(text: string, from: number): { line: string; next: number } {
  const nl = text.indexOf('\n', from);
  const end = nl < 0 ? text.length : nl;
  return { line: text.slice(from, end).replace(/[ \t\r]+$/, ''), next: nl < 0 ? text.length : nl + 1 };
}

/** Go encoding/pem.Decode, applied repeatedly: the DER bytes of each well-formed block, in order. */
function pemBlocks(text: string): Uint8Array[] {
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
    const endMarker = `-----END ${label}-----`;
    const rest = text.slice(typeLine.next);
    const endAt = rest.startsWith('-----END ') ? 0 : rest.indexOf('\n-----END ') + 1;
    if (endAt <= 0 && !rest.startsWith('-----END ')) continue;
    const endLine = lineAt(rest, endAt);
    if (endLine.line !== endMarker) continue;
    const body = rest.slice(0, endAt).replace(/[ \t\r\n]/g, '');
    if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) continue;
    blocks.push(Uint8Array.from(Buffer.from(body, 'base64')));
    search = typeLine.next + endLine.next;
  }
}

function parseOne(der: Uint8Array): ParsedCertificate {
  const facts = readCertificateFacts(der);
  return { certificate: new X509Certificate(der), facts };
}

/** Parses a trust store file's bytes into certificates; any unparseable certificate fails the file. */
export function parseCertificateFile(bytes: Uint8Array): CertificateFileOutcome {
  try {
    const blocks = pemBlocks(Buffer.from(bytes).toString('latin1'));
    if (blocks.length > 0) return { ok: true, certificates: blocks.map(parseOne) };
    // Not PEM: concatenated DER, as Go's x509.ParseCertificates reads it.
    const certificates: ParsedCertificate[] = [];
    const reader = new DerReader(bytes);
    while (!reader.done) certificates.push(parseOne(reader.read(TAG.SEQUENCE).raw));
    return { ok: true, certificates };
  } catch (err) {
    const reason = err instanceof DerError ? `x509: malformed certificate (${err.message})` : `x509: malformed certificate (${(err as Error).message})`;
    return { ok: false, reason };
  }
}
