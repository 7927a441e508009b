/**
 * The Bearer token flow against the real notary-server with token auth on (its `auth: {type: "token"}`, REAL-PEERS
 * § 7): a plain GET is refused with the registry's challenge, the real `notary` client signs through the token flow
 * with Basic credentials, and NotaryServerClient reads anonymously with a pull token for `repository:<GUN>:pull`,
 * enough for the verifier to pass end to end.
 */
import t from 'tap';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotaryServerClient } from '../../../registry/notary-server.ts';
import { prepareNotaryV1Policy, verifyNotaryV1 } from '../../../verifiers/notaryv1/index.ts';
import { makeDelegationKey, startNotary } from '../../harness/notary.ts';
import { startTokenServer } from './token-server.ts';

const GUN = '127.0.0.1:5000/team/locked';
const SERVICE = 'notary-server';
const ISSUER = 'pullgate-test-token-issuer';
const USER = { username: 'signer', password: 'signer-password' };
const digestHex = createHash('sha256').update('manifest locked v1').digest('hex');

const dir = mkdtempSync(join(tmpdir(), 'notary-token-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// A self-signed ECDSA P-256 certificate and key: the token signer notary-server trusts (its rootcertbundle).
const signingKey = await makeDelegationKey(dir, 'token-signer', { form: 'x509' });
const tokens = await startTokenServer({ certFile: signingKey.publicFile, keyFile: signingKey.privateKeyFile, issuer: ISSUER, service: SERVICE, user: USER });
t.teardown(() => tokens.close());
const notary = await startNotary({ serverAuth: { realm: tokens.realm, service: SERVICE, issuer: ISSUER, rootCertBundle: signingKey.publicFile }, clientAuth: USER });
t.teardown(() => notary.stop());
const signer = notary.client(GUN);
await signer.init();
await signer.addHash('v1', 321, digestHex);

t.test('without a token the server answers the Bearer challenge', async (t) => {
  const plain = await notary.trustFile(GUN, 'root');
  t.equal(plain.status, 401);
  const signedWith = tokens.requests.filter((r) => r.scopes.some((s) => s.includes('push')));
  t.ok(signedWith.length > 0 && signedWith.every((r) => r.authorization !== undefined), 'the notary client signed with push tokens, asked for with its credentials');
  t.match(plain.headers['www-authenticate'], new RegExp(`^Bearer realm="${tokens.realm}",service="${SERVICE}",scope="repository:${GUN.replace(/\./g, '\\.')}:pull"`));
});

t.test('the client fetches with a pull token and the verifier passes over it', async (t) => {
  const client = new NotaryServerClient({ url: new URL(notary.url), caFile: notary.caFile });
  t.teardown(() => client.close());
  const asked = tokens.requests.length;
  const root = await client.fetchRole(GUN, 'root');
  t.ok('bytes' in root, 'root served');
  t.same(tokens.requests.slice(asked).map((r) => ({ scopes: r.scopes, service: r.service, authorization: r.authorization })),
    [{ scopes: [`repository:${GUN}:pull`], service: SERVICE, authorization: undefined }], 'one anonymous token fetch for repository:<GUN>:pull');
  const doc = JSON.parse(Buffer.from((root as { bytes: Uint8Array }).bytes).toString()) as { signed: { keys: Record<string, { keyval: { public: string } }>; roles: { root: { keyids: string[] } } } };
  const pinned = new X509Certificate(Buffer.from(doc.signed.keys[doc.signed.roles.root.keyids[0]!]!.keyval.public, 'base64')).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const outcome = await verifyNotaryV1({ gun: GUN, reference: { tag: 'v1' }, policy: prepareNotaryV1Policy({ trust: { publicKeys: [pinned] } }), source: client, now: new Date() });
  t.match(outcome, { ok: true, digest: `sha256:${digestHex}`, length: 321 });
  t.equal(tokens.requests.length - asked, 1, 'the token was reused for every role');
  t.same(await client.fetchRole('127.0.0.1:5000/team/nothing', 'root'), { notFound: true }, 'an unsigned GUN is still a 404 behind auth');
});
