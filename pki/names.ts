/**
 * Distinguished names (RFC 5280 § 4.1.2.4): the RDNSequence decoded in certificate order, plus the string form
 * notation matches trusted identities against. notation-go takes `cert.Subject.String()` from Go's
 * `crypto/x509/pkix`, which is *not* a plain RFC 4514 rendering: the well-known attributes are regrouped in a fixed
 * order (SERIALNUMBER, CN, OU, O, POSTALCODE, STREET, L, ST, C) and every other attribute is appended after them as
 * `oid=#<hex of its DER re-encoding>`. `nameString` reproduces that so `x509.subject:` identities behave as upstream.
 */
import { childrenOf, contentBytes, decodeOid, DerError, encodeHeader, readWhole, TAG } from './der.ts';
import { hex } from './format.ts';

export interface NameAttribute {
  /** Dotted OID of the attribute type. */
  readonly oid: string;
  /** RFC 4514 short name when the type is one Go names (CN, O, …), otherwise undefined. */
  readonly type: string | undefined;
  readonly value: string;
}

export interface DistinguishedName {
  /** Exact DER of the Name, for issuer/subject byte comparison (Go `RawIssuer` / `RawSubject`). */
  readonly der: Uint8Array;
  /** RDNs in encoded order; each RDN is a SET of one or more attributes. */
  readonly rdns: readonly (readonly NameAttribute[])[];
  /** Go `pkix.Name.String()` rendering, e.g. `CN=e2e,O=Notary,L=Seattle,ST=WA,C=US`. */
  readonly string: string;
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
};

/** Order in which Go's `Name.ToRDNSequence` emits the parsed fields (rendered in reverse by `String`). */
const FIELD_ORDER = ['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.9', '2.5.4.17', '2.5.4.10', '2.5.4.11', '2.5.4.3', '2.5.4.5'];
const SINGLE_VALUED = new Set(['2.5.4.3', '2.5.4.5']); // CommonName / SerialNumber keep only the last value

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Go x509 isPrintable: PrintableString plus `*` and `&`, which real certificates contain. */
function isGoPrintable(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || (b >= 0x27 && b <= 0x29) ||
    (b >= 0x2b && b <= 0x2f) || b === 0x20 || b === 0x3a || b === 0x3d || b === 0x3f || b === 0x2a || b === 0x26;
}

/** UCS-2 BMPString: a trailing NUL pair is stripped; surrogates and permanent noncharacters are refused. */
function bmpString(bytes: Uint8Array): string {
  if (bytes.length % 2 !== 0) throw new DerError('invalid BMPString');
  const end = bytes.length >= 2 && bytes[bytes.length - 1] === 0 && bytes[bytes.length - 2] === 0 ? bytes.length - 2 : bytes.length;
  let s = '';
  for (let i = 0; i < end; i += 2) {
    const point = (bytes[i]! << 8) | bytes[i + 1]!;
    if (point === 0xfffe || point === 0xffff || (point >= 0xfdd0 && point <= 0xfdef) || (point >= 0xd800 && point <= 0xdfff)) {
      throw new DerError('invalid BMPString');
    }
    s += String.fromCharCode(point);
  }
  return s;
}

/** Go crypto/x509 `parseASN1String`: the string types and checks Go accepts; any other type is malformed there. */
function decodeDirectoryString(tag: number, bytes: Uint8Array): string {
  const ascii = (valid: (b: number) => boolean, what: string): string => {
    if (!bytes.every(valid)) throw new DerError(`invalid ${what}`);
    return Buffer.from(bytes).toString('latin1');
  };
  switch (tag) {
    case 0x0c: // UTF8String
      try {
        return UTF8.decode(bytes);
      } catch {
        throw new DerError('invalid UTF-8 string');
      }
    case 0x13: // PrintableString
      return ascii(isGoPrintable, 'PrintableString');
    case 0x16: // IA5String
      return ascii((b) => b < 0x80, 'IA5String');
    case 0x12: // NumericString
      return ascii((b) => (b >= 0x30 && b <= 0x39) || b === 0x20, 'NumericString');
    case 0x14: // T61String, read as Latin-1 like Go and BoringSSL
      return Buffer.from(bytes).toString('latin1');
    case 0x1e: // BMPString
      return bmpString(bytes);
    default:
      throw new DerError(`unsupported string type ${tag} in distinguished name`);
  }
}

/** Parses the DER of a Name. Throws `DerError` on anything Go's parser would refuse. */
export function parseName(der: Uint8Array): DistinguishedName {
  const seq = readWhole(der, TAG.SEQUENCE);
  const rdns: NameAttribute[][] = [];
  for (const set of childrenOf(der, seq, 1000)) {
    if (set.id !== TAG.SET) throw new DerError('RDN is not a SET');
    const rdn: NameAttribute[] = [];
    for (const atv of childrenOf(der, set, 100)) {
      if (atv.id !== TAG.SEQUENCE) throw new DerError('attribute is not a SEQUENCE');
      const parts = childrenOf(der, atv, 3);
      if (parts.length !== 2 || parts[0]!.id !== TAG.OID) throw new DerError('malformed AttributeTypeAndValue');
      const oid = decodeOid(contentBytes(der, parts[0]!));
      const value = decodeDirectoryString(parts[1]!.id, contentBytes(der, parts[1]!));
      rdn.push({ oid, type: SHORT_NAMES[oid], value });
    }
    rdns.push(rdn);
  }
  return { der, rdns, string: nameString(rdns.flat()) };
}

/** Go `asn1.Marshal(string)`: PrintableString when every character allows it, otherwise UTF8String. */
function marshalGoString(value: string): Uint8Array {
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
  const body = Buffer.from(value, printable ? 'latin1' : 'utf8');
  return Buffer.concat([encodeHeader(printable ? 0x13 : 0x0c, body.length), body]);
}

/** RFC 4514-style escaping exactly as Go's `RDNSequence.String` does it. */
function escapeValue(value: string): string {
  const chars = [...value];
  return chars
    .map((c, k) => {
      const escape =
        ',+"\\<>;'.includes(c) || (c === ' ' && (k === 0 || k === chars.length - 1)) || (c === '#' && k === 0);
      return escape ? `\\${c}` : c;
    })
    .join('');
}

/**
 * Go `pkix.Name.String()` over a name's attributes in encoded order (Go's `Name.Names`; see the file comment).
 * CN and SERIALNUMBER keep their last value and are left out when it is empty, as in Go.
 */
export function nameString(attributes: readonly { readonly oid: string; readonly value: string }[]): string {
  const extra: NameAttribute[][] = [];
  const fields = new Map<string, string[]>();
  for (const { oid, value } of attributes) {
    if (!FIELD_ORDER.includes(oid)) extra.push([{ oid, type: SHORT_NAMES[oid], value }]);
    else if (SINGLE_VALUED.has(oid)) fields.set(oid, value === '' ? [] : [value]);
    else fields.set(oid, [...(fields.get(oid) ?? []), value]);
  }
  const sequence: NameAttribute[][] = [...extra];
  for (const oid of FIELD_ORDER) {
    const values = fields.get(oid);
    if (values && values.length > 0) sequence.push(values.map((value) => ({ oid, type: SHORT_NAMES[oid], value })));
  }
  return sequence
    .reverse()
    .map((rdn) =>
      rdn
        .map((atv) =>
          atv.type === undefined
            ? `${atv.oid}=#${hex(marshalGoString(atv.value))}`
            : `${atv.type}=${escapeValue(atv.value)}`,
        )
        .join('+'),
    )
    .join(',');
}
