// `verifier: cosign` requirements (policy/image-policy/parse-cosign.ts): what is accepted, with its defaults, and
// every rejection with its exact message (file, key path, problem, fix).
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../config/fields.ts';
import type { CosignRequirement } from '../../../policy/image-policy/types.ts';
import { CONFIG, ecKeyPem, parse, rsaKeyPem } from './helpers.ts';

const A = ecKeyPem();
const B = ecKeyPem();
const ED = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
const ROOT_FILE = readFileSync(join(import.meta.dirname, '../../vectors/sigstore/sigstore-conformance/test/assets/bundle-verify/rekor2-happy-path/trusted_root.json'), 'utf8');
const FILES = { '/etc/pullgate/keys/release.pub': B.publicPem, '/etc/pullgate/staging.json': ROOT_FILE };
const GH = 'https://token.actions.githubusercontent.com';

function cosign(req: Record<string, unknown>): CosignRequirement {
  const p = parse({ rules: [{ scope: 'ghcr.io/acme/*', require: [{ verifier: 'cosign', ...req }] }] }, FILES)!;
  const a = p.rules[0]!.action;
  if (a.kind !== 'verify' || a.requirements[0]?.verifier !== 'cosign') throw new Error('cosign requirement expected');
  t.ok(p.verifiers.has('cosign'), 'the policy lists cosign among the verifiers to start');
  return a.requirements[0];
}

t.test('keys: inline and files, threshold, required, defaults', async (t) => {
  const r = cosign({ publicKeys: [A.publicPem, ED], publicKeyFiles: ['keys/release.pub'], threshold: 2, required: ['release'] });
  t.match(r, { name: 'cosign', key: 'policy.rules[0].require[0]', rekor: 'optional', layouts: ['tag', 'referrer'], dockerReference: 'ignore', annotations: {} });
  t.match(r.trustedRoot, { source: /public-good/ }, 'the shipped public-good root by default');
  if (r.mode.kind !== 'keys') return t.fail('keys expected');
  t.same(r.mode.keys.map((k) => k.name), ['publicKeys[0]', 'publicKeys[1]', 'release'], 'inline keys by position, files by name');
  t.equal(r.mode.keys[2]!.source, '/etc/pullgate/keys/release.pub');
  t.same([r.mode.threshold, r.mode.required], [2, ['release']]);
  const k = cosign({ publicKeys: [A.publicPem] });
  t.same(k.mode.kind === 'keys' && k.mode.threshold, 1, 'threshold 1 by default');
  const all = cosign({ publicKeys: [A.publicPem], rekor: 'required', layouts: ['referrer'], dockerReference: 'repository', annotations: { env: 'prod' }, trustedRoot: 'staging.json' });
  t.match(all, { rekor: 'required', layouts: ['referrer'], dockerReference: 'repository', annotations: { env: 'prod' }, trustedRoot: { source: '/etc/pullgate/staging.json' } });
});

t.test('keyless: identities exact or anchored regexp, GitHub workflow claims, Rekor always required', async (t) => {
  const r = cosign({
    identities: [
      { name: 'release', issuer: GH, subjectRegExp: '^https://github\\.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.+$', githubWorkflowRepository: 'acme/app', githubWorkflowTrigger: 'push' },
      { issuerRegExp: 'https://accounts\\.google\\.com', subject: 'ops@acme.example' },
    ],
  });
  t.equal(r.rekor, 'required');
  if (r.mode.kind !== 'keyless') return t.fail('keyless expected');
  const [a, b] = r.mode.identities;
  t.match(a, { name: 'release', issuer: GH, subject: RegExp, github: { githubWorkflowRepository: 'acme/app', githubWorkflowTrigger: 'push' } });
  t.match(b, { name: undefined, issuer: RegExp, subject: 'ops@acme.example', github: {} });
  t.equal(cosign({ identities: [{ issuer: GH, subject: 'x' }], rekor: 'required' }).rekor, 'required');
  t.same(a!.claims, { githubWorkflowRepository: 'acme/app', githubWorkflowTrigger: 'push' }, 'the exact GitHub claims are among the claims checked');
});

t.test('keyless: Fulcio claims, provider-generic and GitHub, each exact or anchored regexp', async (t) => {
  const r = cosign({
    identities: [{
      issuer: GH, subject: 'x', sourceRepositoryURI: 'https://github.com/acme/app', sourceRepositoryRefRegExp: 'refs/tags/v.+', runnerEnvironment: 'github-hosted',
      buildSignerURIRegExp: 'https://github\\.com/acme/.+', sourceRepositoryVisibilityAtSigning: 'public', deploymentEnvironment: 'production', githubWorkflowShaRegExp: '[0-9a-f]{40}',
    }],
  });
  if (r.mode.kind !== 'keyless') return t.fail('keyless expected');
  const c = r.mode.identities[0]!.claims!;
  t.same(Object.keys(c).sort(), ['buildSignerURI', 'deploymentEnvironment', 'githubWorkflowSha', 'runnerEnvironment', 'sourceRepositoryRef', 'sourceRepositoryURI', 'sourceRepositoryVisibilityAtSigning']);
  t.equal(c.sourceRepositoryURI, 'https://github.com/acme/app');
  t.type(c.sourceRepositoryRef, RegExp, 'a RegExp form');
  t.same(r.mode.identities[0]!.github, {}, 'a GitHub claim given as a regexp is not an exact GitHub claim');
});

const IDENTITY_KEYS = ['name', 'issuer', 'issuerRegExp', 'subject', 'subjectRegExp', 'githubWorkflowTrigger', 'githubWorkflowTriggerRegExp', 'githubWorkflowSha', 'githubWorkflowShaRegExp',
  'githubWorkflowName', 'githubWorkflowNameRegExp', 'githubWorkflowRepository', 'githubWorkflowRepositoryRegExp', 'githubWorkflowRef', 'githubWorkflowRefRegExp',
  ...['buildSignerURI', 'buildSignerDigest', 'runnerEnvironment', 'sourceRepositoryURI', 'sourceRepositoryDigest', 'sourceRepositoryRef', 'sourceRepositoryIdentifier',
    'sourceRepositoryOwnerURI', 'sourceRepositoryOwnerIdentifier', 'buildConfigURI', 'buildConfigDigest', 'buildTrigger', 'runInvocationURI',
    'sourceRepositoryVisibilityAtSigning', 'deploymentEnvironment'].flatMap((c) => [c, `${c}RegExp`])].join(', ');
const req = (extra: Record<string, unknown>) => ({ rules: [{ scope: '*', require: [{ verifier: 'cosign', ...extra }] }] });
const R = 'policy.rules[0].require[0]';
const rejections: [string, unknown, string][] = [
  ['keys and identities', req({ publicKeys: [A.publicPem], identities: [{ issuer: GH, subject: 'x' }] }),
    `${R}.identities: a cosign requirement verifies by keys or by keyless identities, not both (fix: set publicKeys: [<PEM>] / publicKeyFiles: [./cosign.pub], or identities: [{issuer: …, subject: …}]; for either, write two requirements under anyOf)`],
  ['unknown key', req({ publicKeys: [A.publicPem], treshold: 2 }),
    `${R}.treshold: unknown key "treshold" (fix: did you mean threshold? (known keys here: verifier, name, publicKeys, publicKeyFiles, threshold, required, identities, trustedRoot, rekor, layouts, dockerReference, annotations))`],
  ['a private key', req({ publicKeys: [A.privatePem] }),
    `${R}.publicKeys[0]: publicKeys[0]: not a PEM public key (-----BEGIN PUBLIC KEY-----) (fix: give a PEM public key (-----BEGIN PUBLIC KEY-----: ECDSA P-256/384/521, RSA ≥ 2048 bits or Ed25519), e.g. cosign.pub)`],
  ['a small RSA key', req({ publicKeys: [rsaKeyPem(1024)] }),
    `${R}.publicKeys[0]: publicKeys[0]: RSA key of 1024 bits (minimum 2048) (fix: give a PEM public key (-----BEGIN PUBLIC KEY-----: ECDSA P-256/384/521, RSA ≥ 2048 bits or Ed25519), e.g. cosign.pub)`],
  ['the same key twice', req({ publicKeys: [A.publicPem, A.publicPem] }),
    `${R}.publicKeys[1]: lists the same key twice (fix: remove the duplicate (a threshold counts distinct keys))`],
  ['a missing key file', req({ publicKeyFiles: ['nope.pub'] }),
    `${R}.publicKeyFiles[0]: cannot read /etc/pullgate/nope.pub: ENOENT: no such file or directory, open '/etc/pullgate/nope.pub' (fix: give an existing, readable file (relative paths resolve against the config file's folder))`],
  ['threshold above the keys', req({ publicKeys: [A.publicPem], threshold: 2 }),
    `${R}.threshold: threshold 2 is more than the 1 key(s) listed (fix: set threshold between 1 and 1, or list more keys)`],
  ['required names no key', req({ publicKeys: [A.publicPem], required: ['bob'] }),
    `${R}.required[0]: "bob" is not one of this requirement's keys (fix: name one of: publicKeys[0])`],
  ['threshold on keyless', req({ identities: [{ issuer: GH, subject: 'x' }], threshold: 1 }),
    `${R}.threshold: threshold applies to key-based cosign requirements (fix: remove it (any one of the identities suffices; require several keyless requirements under require: for more))`],
  ['keyless without Rekor', req({ identities: [{ issuer: GH, subject: 'x' }], rekor: 'optional' }),
    `${R}.rekor: a keyless signature needs its Rekor entry (the certificate is valid only at the time the log recorded) (fix: remove rekor (keyless always requires it) or verify by key)`],
  ['identity without issuer', req({ identities: [{ subject: 'x' }] }),
    `${R}.identities[0].issuer: give exactly one of issuer and issuerRegExp (fix: e.g. issuer: https://token.actions.githubusercontent.com)`],
  ['identity with subject and subjectRegExp', req({ identities: [{ issuer: GH, subject: 'x', subjectRegExp: 'x' }] }),
    `${R}.identities[0].subject: give exactly one of subject and subjectRegExp (fix: e.g. subjectRegExp: https://github.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.+)`],
  ['a broken regexp', req({ identities: [{ issuer: GH, subjectRegExp: '(' }] }),
    `${R}.identities[0].subjectRegExp: not a regular expression: Invalid regular expression: /(/u: Unterminated group (fix: fix the expression (it is matched against the whole value, as Kyverno and policy-controller do))`],
  ['an unknown identity key', req({ identities: [{ issuer: GH, subject: 'x', githubWorkflowRepo: 'acme/app' }] }),
    `${R}.identities[0].githubWorkflowRepo: unknown key "githubWorkflowRepo" (fix: did you mean githubWorkflowRef? (known keys here: ${IDENTITY_KEYS}))`],
  ['a claim with both forms', req({ identities: [{ issuer: GH, subject: 'x', sourceRepositoryURI: 'https://github.com/acme/app', sourceRepositoryURIRegExp: 'https://github.com/acme/.+' }] }),
    `${R}.identities[0].sourceRepositoryURI: give exactly one of sourceRepositoryURI and sourceRepositoryURIRegExp (fix: e.g. sourceRepositoryURI: https://github.com/acme/app)`],
  ['a claim regexp that does not compile', req({ identities: [{ issuer: GH, subject: 'x', sourceRepositoryRefRegExp: 'refs/(tags' }] }),
    `${R}.identities[0].sourceRepositoryRefRegExp: not a regular expression: Invalid regular expression: /refs/(tags/u: Unterminated group (fix: fix the expression (it is matched against the whole value, as Kyverno and policy-controller do))`],
  ['a claim that is not a string', req({ identities: [{ issuer: GH, subject: 'x', runnerEnvironment: 1 }] }),
    `${R}.identities[0].runnerEnvironment: must be a non-empty string (fix: set runnerEnvironment: <text>)`],
  ['a misspelt claim', req({ identities: [{ issuer: GH, subject: 'x', sourceRepositoryUri: 'https://github.com/acme/app' }] }),
    `${R}.identities[0].sourceRepositoryUri: unknown key "sourceRepositoryUri" (fix: did you mean sourceRepositoryURI? (known keys here: ${IDENTITY_KEYS}))`],
  ['a layout', req({ publicKeys: [A.publicPem], layouts: ['attestation'] }),
    `${R}.layouts[0]: "attestation" is not a cosign layout (fix: write tag (sha256-<hex>.sig) or referrer (Sigstore bundle referrer))`],
  ['rekor value', req({ publicKeys: [A.publicPem], rekor: true }),
    `${R}.rekor: must be one of required | optional (fix: set rekor: required)`],
  ['an annotation that is not a string', req({ publicKeys: [A.publicPem], annotations: { env: 1 } }),
    `${R}.annotations.env: must be a non-empty string (fix: set env: <text>)`],
  ['a trusted root that is not JSON', { rules: [{ scope: '*', require: [{ verifier: 'cosign', publicKeys: [A.publicPem], trustedRoot: 'keys/release.pub' }] }] },
    `${R}.trustedRoot: /etc/pullgate/keys/release.pub is not JSON: No number after minus sign in JSON at position 1 (line 1 column 2) (fix: give a Sigstore trusted_root.json (protobuf-specs TrustedRoot, JSON form))`],
];

t.test('rejections, each with the file, the key path and the fix', async (t) => {
  for (const [what, raw, expected] of rejections) {
    let thrown: unknown;
    try {
      parse(raw, FILES);
    } catch (err) {
      thrown = err;
    }
    t.ok(thrown instanceof ConfigError, `${what}: a ConfigError`);
    t.equal((thrown as Error | undefined)?.message, `${CONFIG}: ${expected}`, what);
  }
});

t.test('a trusted root the verifier would read too generously is refused at load', async (t) => {
  const bad = readFileSync(join(import.meta.dirname, '../../vectors/sigstore/sigstore-conformance/test/assets/bundle-verify/trust-root-tlog-missing-validity-start_fail/trusted_root.json'), 'utf8');
  t.throws(() => parse(req({ identities: [{ issuer: GH, subject: 'x' }], trustedRoot: 'bad.json' }), { '/etc/pullgate/bad.json': bad }), {
    message: `${CONFIG}: ${R}.trustedRoot: /etc/pullgate/bad.json: cosign: trusted root tlogs entry has no publicKey.validFor.start (fix: give a Sigstore trusted_root.json (protobuf-specs TrustedRoot, JSON form) whose log keys all have validFor.start)`,
  });
  t.throws(() => parse(req({ publicKeys: [A.publicPem], rekor: 'required', trustedRoot: 'empty.json' }), { '/etc/pullgate/empty.json': '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"ctlogs":[]}' }), {
    message: `${CONFIG}: ${R}.rekor: rekor: required, but the trusted root has no Rekor log key (fix: name a trustedRoot with tlogs, or set rekor: optional)`,
  });
});
