/**
 * A trust policy's reference to a named trust store, `<type>:<name>` (trust-store-trust-policy.md § "Trust
 * Policy Properties", `trustStores`). Types are notation-go truststore.Types; the name charset is notation-go
 * file.IsValidFileName, since the name is a directory name. Whether the store exists is not the policy's
 * business: notation finds that out when it loads the store for verification (see trust-store.ts).
 */

export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';
export const TRUST_STORE_TYPES: readonly TrustStoreType[] = Object.freeze(['ca', 'signingAuthority', 'tsa']);

export interface TrustStoreRef {
  readonly type: TrustStoreType;
  readonly name: string;
  /** `type:name` as written. */
  readonly text: string;
}

const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

export function isTrustStoreType(value: string): value is TrustStoreType {
  return (TRUST_STORE_TYPES as readonly string[]).includes(value);
}

export function isValidTrustStoreName(name: string): boolean {
  return STORE_NAME.test(name);
}

export type TrustStoreRefOutcome =
  | { readonly ok: true; readonly ref: TrustStoreRef }
  | { readonly ok: false; readonly code: 'TRUST_STORE_MALFORMED' | 'TRUST_STORE_TYPE' | 'TRUST_STORE_NAME'; readonly reason: string };

/** notation-go validateTrustStore for one value of statement `statement`. */
export function parseTrustStoreRef(statement: string, text: string): TrustStoreRefOutcome {
  const where = `trust policy statement ${JSON.stringify(statement)}`;
  const colon = text.indexOf(':');
  if (colon < 0) {
    return { ok: false, code: 'TRUST_STORE_MALFORMED', reason: `${where} has malformed trust store value ${JSON.stringify(text)}. The required format is <TrustStoreType>:<TrustStoreName>` };
  }
  const type = text.slice(0, colon);
  const name = text.slice(colon + 1);
  if (!isTrustStoreType(type)) {
    return { ok: false, code: 'TRUST_STORE_TYPE', reason: `${where} uses an unsupported trust store type ${JSON.stringify(type)} in trust store value ${JSON.stringify(text)}` };
  }
  if (!isValidTrustStoreName(name)) {
    return { ok: false, code: 'TRUST_STORE_NAME', reason: `${where} uses an unsupported trust store name ${JSON.stringify(name)} in trust store value ${JSON.stringify(text)}. Named store name needs to follow [a-zA-Z0-9_.-]+ format` };
  }
  return { ok: true, ref: Object.freeze({ type, name, text }) };
}
