/**
 * A certificate subject as notation compares it with `x509.subject:` identities. notation-go does not read the
 * certificate's RDNs directly: it prints Go's pkix.Name (`cert.Subject.String()`) and parses that text back
 * with the same DN parser as the policy (verifier.go verifyX509TrustedIdentities). Rebuilding that text here
 * keeps the same outcomes, including the ones that surprise: attribute types outside Go's nine named ones
 * (emailAddress, UID, SN…) print as `OID=#hex` and are refused ("=#"); two values of one type (two OUs) print
 * as a multi-valued RDN and are refused; the subject must itself hold C, ST and O.
 */
import type { SubjectAttribute } from './certificate-facts.ts';
import { parseDistinguishedName } from './distinguished-name.ts';
import type { DistinguishedNameOutcome } from './distinguished-name.ts';

/** Go crypto/x509/pkix attributeTypeNames. */
const TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.6', 'C'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'SERIALNUMBER'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.17', 'POSTALCODE'],
]);

/** pkix.Name.ToRDNSequence order (printed reversed). */
const SEQUENCE_ORDER = ['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.9', '2.5.4.17', '2.5.4.10', '2.5.4.11'];
const OID_CN = '2.5.4.3';
const OID_SERIAL = '2.5.4.5';

type Rdn = ReadonlyArray<{ readonly oid: string; readonly value: string }>;

/** encoding/asn1 Marshal of a Go string: PrintableString when it can be, else UTF8String. Only shown in text. */
function marshalStringHex(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
  const len = bytes.length < 0x80 ? Buffer.from([bytes.length]) : lengthOctets(bytes.length);
  return Buffer.concat([Buffer.from([printable ? 0x13 : 0x0c]), len, bytes]).toString('hex');
}

function lengthOctets(n: number): Buffer {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return Buffer.from([0x80 | out.length, ...out]);
}

/** pkix.RDNSequence.String escaping. */
function escapeValue(value: string): string {
  const byteLength = Buffer.byteLength(value, 'utf8');
  let out = '';
  let k = 0;
  for (const c of value) {
    let escape = false;
    if (c === ',' || c === '+' || c === '"' || c === '\\' || c === '<' || c === '>' || c === ';') escape = true;
    else if (c === ' ') escape = k === 0 || k === byteLength - 1;
    else if (c === '#') escape = k === 0;
    out += escape ? `\\${c}` : c;
    k += Buffer.byteLength(c, 'utf8');
  }
  return out;
}

/** Go's `pkix.Name.String()` for a certificate subject parsed from `attributes`. */
export function goSubjectString(attributes: readonly SubjectAttribute[]): string {
  const byOid = new Map<string, string[]>();
  let commonName = '';
  let serialNumber = '';
  const rdns: Rdn[] = [];
  for (const atv of attributes) {
    if (atv.oid === OID_CN) commonName = atv.value;
    else if (atv.oid === OID_SERIAL) serialNumber = atv.value;
    else if (TYPE_NAMES.has(atv.oid)) byOid.set(atv.oid, [...(byOid.get(atv.oid) ?? []), atv.value]);
    else rdns.push([atv]); // non-standard types go first, so they print last
  }
  for (const oid of SEQUENCE_ORDER) {
    const values = byOid.get(oid);
    if (values !== undefined) rdns.push(values.map((value) => ({ oid, value })));
  }
  if (commonName.length > 0) rdns.push([{ oid: OID_CN, value: commonName }]);
  if (serialNumber.length > 0) rdns.push([{ oid: OID_SERIAL, value: serialNumber }]);
  return rdns
    .slice()
    .reverse()
    .map((rdn) =>
      rdn
        .map(({ oid, value }) => {
          const name = TYPE_NAMES.get(oid);
          return name === undefined ? `${oid}=#${marshalStringHex(value)}` : `${name}=${escapeValue(value)}`;
        })
        .join('+'),
    )
    .join(',');
}

/** The certificate subject as a DN map, or why notation could not read it (then no x509 identity can match). */
export function certificateSubjectDN(attributes: readonly SubjectAttribute[]): DistinguishedNameOutcome {
  const parsed = parseDistinguishedName(goSubjectString(attributes));
  if (parsed.ok) return parsed;
  return { ok: false, reason: `error while parsing the certificate subject from the digital signature. error : ${JSON.stringify(parsed.reason)}` };
}
