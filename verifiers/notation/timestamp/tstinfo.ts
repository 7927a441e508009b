/**
 * RFC 3161 § 2.4.2 TSTInfo: the TSA's statement "this hash existed at genTime ± accuracy". Decoded with
 * @peculiar/asn1-tsp; validated as tspclient-go `TSTInfo.Validate` does (version 1, SHA-256/384/512 imprint equal
 * to the hash of the timestamped message). For Notary Project signatures the message is the raw signature bytes
 * of the envelope (signature-specification.md § "Unsigned Attributes": the countersignature is over the signature).
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo } from '@peculiar/asn1-tsp';
import { integerValue } from '../../../pki/certificate.ts';
import { toArrayBuffer } from '../../../pki/der.ts';
import { bytesEqual } from '../../../pki/format.ts';
import { HASHES, OIDS, TimestampParseError, tsFail } from './errors.ts';
import type { TimestampFailure } from './errors.ts';

export interface TstInfo {
  readonly version: number;
  readonly policy: string;
  readonly hashAlgorithm: string;
  readonly hashedMessage: Uint8Array;
  readonly serialNumber: bigint;
  readonly genTime: Date;
  /** Accuracy in milliseconds (micros rounded up), with tspclient-go's 1 s default for the baseline policy. */
  readonly accuracyMs: number;
  readonly ordering: boolean;
  readonly nonce: bigint | null;
}

/** Decodes a DER TSTInfo. Throws `TimestampParseError('malformed-tstinfo')`. */
export function parseTstInfo(der: Uint8Array): TstInfo {
  let tst: TSTInfo;
  try {
    tst = AsnConvert.parse(toArrayBuffer(der), TSTInfo);
  } catch (err) {
    throw new TimestampParseError('malformed-tstinfo', `cannot unmarshal TSTInfo from timestamp token: ${err instanceof Error ? err.message : String(err)}`);
  }
  const genTime = tst.genTime;
  if (!(genTime instanceof Date) || Number.isNaN(genTime.getTime())) {
    throw new TimestampParseError('malformed-tstinfo', 'cannot unmarshal TSTInfo from timestamp token: bad genTime');
  }
  const seconds = tst.accuracy?.seconds ?? 0;
  const millis = tst.accuracy?.millis ?? 0;
  const micros = tst.accuracy?.micros ?? 0;
  for (const [v, max] of [[seconds, 1e6], [millis, 999], [micros, 999]] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new TimestampParseError('malformed-tstinfo', 'cannot unmarshal TSTInfo from timestamp token: bad accuracy');
  }
  const zero = seconds === 0 && millis === 0 && micros === 0;
  const accuracyMs = zero && tst.policy === OIDS.baselineTimestampPolicy ? 1000 : seconds * 1000 + millis + Math.ceil(micros / 1000);
  return {
    version: tst.version,
    policy: tst.policy,
    hashAlgorithm: tst.messageImprint.hashAlgorithm.algorithm,
    hashedMessage: new Uint8Array(tst.messageImprint.hashedMessage.buffer),
    serialNumber: integerValue(new Uint8Array(tst.serialNumber)),
    genTime,
    accuracyMs,
    ordering: tst.ordering === true,
    nonce: tst.nonce ? integerValue(new Uint8Array(tst.nonce)) : null,
  };
}

/** tspclient-go `TSTInfo.Validate(message)`: version, hash algorithm, imprint. */
export function checkImprint(tst: TstInfo, message: Uint8Array): TimestampFailure | null {
  if (tst.version !== 1) return tsFail('tstinfo-version', `invalid TSTInfo: timestamp token info version must be 1, but got ${tst.version}`);
  const hash = HASHES[tst.hashAlgorithm];
  if (!hash) return tsFail('unsupported-hash', `invalid TSTInfo: unrecognized hash algorithm: ${tst.hashAlgorithm}`);
  const digest = createHash(hash).update(message).digest();
  if (!bytesEqual(tst.hashedMessage, digest)) return tsFail('imprint-mismatch', 'invalid TSTInfo: mismatched message');
  return null;
}
