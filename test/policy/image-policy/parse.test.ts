// The `policy:` section → typed ImagePolicy: what is accepted, and every rejection with its exact message
// (file, key path, problem, fix), as config/fields.ts ConfigError renders it.
import t from 'tap';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../config/fields.ts';
import { CONFIG, ecKeyPem, parse, rsaKeyPem } from './helpers.ts';

const VECTORS = join(import.meta.dirname, '../../vectors');
const ROOT = ecKeyPem();
const SIGNER = ecKeyPem();
const SERVERS = { internal: { url: 'https://notary.internal:4443', caFile: './notary-ca.pem', credentials: 'notary.internal:4443' } };
const notary = (extra: Record<string, unknown> = {}) => ({ verifier: 'notaryv1', trustServer: 'internal', rootKeys: [ROOT.publicPem], ...extra });
const policyWith = (rule: Record<string, unknown>) => ({ trustServers: SERVERS, rules: [rule] });

t.test('no policy section: no image policy (the Notation trust policy alone decides)', async (t) => {
  t.equal(parse(undefined), undefined);
  t.equal(parse(null), undefined);
});

t.test('a gate with Notation for one registry and Notary v1 for another', async (t) => {
  const p = parse({
    trustServers: SERVERS,
    rules: [
      { scope: 'ghcr.io/acme/*', require: [{ verifier: 'notation' }] },
      { scope: 'registry.internal:5000/team/*', require: [notary({ delegations: ['targets/releases', 'targets/ci'] })] },
      { scope: 'registry.internal:5000/legacy/app', anyOf: [notary({ name: 'ops', signers: [{ role: 'targets/ops', publicKey: SIGNER.publicPem }] }), { verifier: 'notation' }], count: 1 },
      { scope: 'registry.k8s.io/pause', allow: true },
      { scope: '*', deny: 'only ghcr.io/acme and registry.internal:5000 images run here' },
    ],
  })!;
  t.equal(p.file, CONFIG);
  t.same([...p.verifiers].sort(), ['notaryv1', 'notation']);
  t.same(p.rules.map((r) => [r.key, r.scope.kind, r.scope.text, r.action.kind]), [
    ['policy.rules[0]', 'prefix', 'ghcr.io/acme/*', 'verify'],
    ['policy.rules[1]', 'prefix', 'registry.internal:5000/team/*', 'verify'],
    ['policy.rules[2]', 'exact', 'registry.internal:5000/legacy/app', 'verify'],
    ['policy.rules[3]', 'exact', 'registry.k8s.io/pause', 'allow'],
    ['policy.rules[4]', 'global', '*', 'deny'],
  ]);
  const team = p.rules[1]!.action;
  t.ok(team.kind === 'verify' && team.mode === 'allOf' && team.count === 1);
  const req = team.kind === 'verify' ? team.requirements[0]! : undefined;
  if (req?.verifier !== 'notaryv1') return t.fail('notaryv1 requirement expected');
  t.equal(req.name, 'notaryv1');
  t.equal(req.key, 'policy.rules[1].require[0]');
  t.equal(req.trustServer.url.origin, 'https://notary.internal:4443');
  t.equal(req.trustServer.caFile, '/etc/pullgate/notary-ca.pem', 'relative to the config file');
  t.equal(req.trustServer.credentials, 'notary.internal:4443');
  t.same(req.roles, { kind: 'delegations', roles: ['targets/releases', 'targets/ci'] });
  t.ok(req.rootKeys[0]!.spki.equals(createPublicKey(ROOT.publicPem).export({ type: 'spki', format: 'der' })));
  t.equal(req.rootKeys[0]!.source, 'policy.rules[1].require[0].rootKeys[0]');
  const legacy = p.rules[2]!.action;
  t.ok(legacy.kind === 'verify' && legacy.mode === 'anyOf' && legacy.count === 1 && legacy.requirements.map((r) => r.name).join() === 'ops,notation');
  const ops = legacy.kind === 'verify' ? legacy.requirements[0] : undefined;
  t.ok(ops?.verifier === 'notaryv1' && ops.roles.kind === 'signers' && ops.roles.signers[0]!.role === 'targets/ops');
  t.same(p.rules[4]!.action, { kind: 'deny', message: 'only ghcr.io/acme and registry.internal:5000 images run here' });
});

t.test('defaults: anyOf count 1, names unique per rule, the default roles, deny without message', async (t) => {
  const p = parse({ trustServers: SERVERS, rules: [{ scope: 'ghcr.io/*', anyOf: [notary(), notary({ rootKeys: [SIGNER.publicPem] })] }, { scope: 'quay.io/*', deny: true }] })!;
  const a = p.rules[0]!.action;
  t.ok(a.kind === 'verify' && a.count === 1);
  t.same(a.kind === 'verify' && a.requirements.map((r) => r.name), ['notaryv1#0', 'notaryv1#1']);
  t.same(a.kind === 'verify' && a.requirements[0]!.verifier === 'notaryv1' && a.requirements[0]!.roles, { kind: 'default' });
  t.same(p.rules[1]!.action, { kind: 'deny', message: undefined });
});

t.test('notaryv1 root trust: certificateRule with or instead of rootKeys; metadataLengths exact by default', async (t) => {
  const p = parse(policyWith({
    scope: 'ghcr.io/*',
    anyOf: [
      notary({ name: 'pinned' }),
      notary({ name: 'both', certificateRule: true, metadataLengths: 'hash-only' }),
      { verifier: 'notaryv1', name: 'cn-only', trustServer: 'internal', certificateRule: true, metadataLengths: 'exact' },
    ],
  }))!;
  const action = p.rules[0]!.action;
  if (action.kind !== 'verify') return t.fail('verify rule expected');
  const [pinned, both, cnOnly] = action.requirements;
  if (pinned?.verifier !== 'notaryv1' || both?.verifier !== 'notaryv1' || cnOnly?.verifier !== 'notaryv1') return t.fail('notaryv1 requirements expected');
  t.same([pinned.certificateRule, pinned.metadataLengths, pinned.rootKeys.length], [false, 'exact', 1], 'defaults: pinned keys only, exact lengths');
  t.same([both.certificateRule, both.metadataLengths, both.rootKeys.length], [true, 'hash-only', 1], 'both anchors, Connaisseur\'s length check');
  t.same([cnOnly.certificateRule, cnOnly.metadataLengths, cnOnly.rootKeys.length], [true, 'exact', 0], 'notary\'s certificate rule alone');
});

t.test('keys: docker\'s root.pub header, certificates, files, RSA PKCS#1', async (t) => {
  const dockerRootPub = ROOT.publicPem.replace('-----\n', '-----\nrole: root\n\n');
  const cert = readFileSync(join(VECTORS, 'notary/fixtures/root-ca.crt'), 'utf8');
  const pkcs1 = createPublicKey(rsaKeyPem(2048)).export({ type: 'pkcs1', format: 'pem' }) as string;
  const p = parse({ trustServers: SERVERS, rules: [{ scope: 'ghcr.io/*', require: [notary({ rootKeys: [dockerRootPub, cert, pkcs1], rootKeyFiles: ['keys/root.pub'] })] }] }, { '/etc/pullgate/keys/root.pub': SIGNER.publicPem })!;
  const a = p.rules[0]!.action;
  const r = a.kind === 'verify' ? a.requirements[0]! : undefined;
  if (r?.verifier !== 'notaryv1') return t.fail('notaryv1 requirement expected');
  t.ok(r.rootKeys[0]!.spki.equals(createPublicKey(ROOT.publicPem).export({ type: 'spki', format: 'der' })), 'the header is dropped, the key kept');
  t.ok(r.rootKeys[1]!.spki.equals(createPublicKey(cert).export({ type: 'spki', format: 'der' })), 'a certificate pins its subject key');
  t.equal(r.rootKeys[2]!.key.asymmetricKeyType, 'rsa');
  t.equal(r.rootKeys[3]!.source, '/etc/pullgate/keys/root.pub');
  t.same(p.sources, ['/etc/pullgate/keys/root.pub'], 'files read are reported for hot reload');
});

t.test('policy: <file> reads the file; its keys and relative paths are its own', async (t) => {
  const files = {
    '/etc/pullgate/policy/image-policy.yaml': `trustServers:\n  internal: {url: "https://notary.internal"}\nrules:\n  - scope: "ghcr.io/*"\n    require: [{verifier: notaryv1, trustServer: internal, rootKeyFiles: [root.pub]}]\n`,
    '/etc/pullgate/policy/root.pub': ROOT.publicPem,
  };
  const p = parse('policy/image-policy.yaml', files)!;
  t.equal(p.file, '/etc/pullgate/policy/image-policy.yaml');
  t.equal(p.rules[0]!.key, 'rules[0]');
  t.same(p.sources, ['/etc/pullgate/policy/image-policy.yaml', '/etc/pullgate/policy/root.pub']);
  const bad = { '/etc/pullgate/policy/image-policy.yaml': 'rules:\n  - scope: "ghcr.io/*"\n    require: []\n' };
  t.throws(() => parse('policy/image-policy.yaml', bad), { message: '/etc/pullgate/policy/image-policy.yaml: rules[0].require: must be a non-empty list (fix: list at least one entry under require)' });
  t.throws(() => parse('policy/missing.yaml'), { message: `${CONFIG}: policy: cannot read /etc/pullgate/policy/missing.yaml: ENOENT: no such file or directory, open '/etc/pullgate/policy/missing.yaml' (fix: give an existing, readable file (relative paths resolve against the config file's folder))` });
  t.throws(() => parse('p.yaml', { '/etc/pullgate/p.yaml': 'rules: [' }), { message: /^\/etc\/pullgate\/p\.yaml: \(file\): not valid YAML\/JSON: / });
});

// Every rejection, with its exact message: [what, the policy section, `key path: problem (fix: …)`].
const pk = ROOT.privatePem;
const rejections: [string, unknown, string][] = [
  ['duplicate scopes', { rules: [{ scope: 'ghcr.io/acme/*', allow: true }, { scope: 'ghcr.io/*', allow: true }, { scope: 'ghcr.io/acme/*', deny: true }] },
    'policy.rules[2].scope: scope "ghcr.io/acme/*" is already the scope of policy.rules[0] (fix: merge the two rules: each scope may appear once, so which rule applies never depends on order)'],
  ['uppercase host', { rules: [{ scope: 'GHCR.io/acme/app', allow: true }] },
    'policy.rules[0].scope: registry host "GHCR.io" has uppercase letters (fix: write it in lowercase, as image references are resolved: ghcr.io)'],
  ['scheme', { rules: [{ scope: 'https://ghcr.io/acme/*', allow: true }] },
    'policy.rules[0].scope: scope "https://ghcr.io/acme/*" has a scheme (fix: write it as in image references, without the scheme: ghcr.io/acme/*)'],
  ['* in the middle', { rules: [{ scope: 'ghcr.io/*/app', allow: true }] },
    'policy.rules[0].scope: scope "ghcr.io/*/app" has "*" inside it (fix: "*" may only be the whole last path segment (registry/team/*), or the whole scope (*))'],
  ['* inside a segment', { rules: [{ scope: 'ghcr.io/acme*', allow: true }] },
    'policy.rules[0].scope: scope "ghcr.io/acme*" has "*" inside it (fix: "*" may only be the whole last path segment (registry/team/*), or the whole scope (*))'],
  ['no registry host', { rules: [{ scope: 'library/nginx', allow: true }] },
    'policy.rules[0].scope: scope "library/nginx" does not start with a registry host (fix: prefix the registry, e.g. docker.io/library/nginx)'],
  ['no repository', { rules: [{ scope: 'ghcr.io', allow: true }] },
    'policy.rules[0].scope: scope "ghcr.io" names no repository (fix: write ghcr.io/* for the whole registry, or registry/repository)'],
  ['a tag', { rules: [{ scope: 'docker.io/acme/app:*', allow: true }] },
    'policy.rules[0].scope: scope "docker.io/acme/app:*" has "*" inside it (fix: "*" may only be the whole last path segment (registry/team/*), or the whole scope (*))'],
  ['a fixed tag', { rules: [{ scope: 'docker.io/acme/app:1.0', allow: true }] },
    'policy.rules[0].scope: scope "docker.io/acme/app:1.0" names a tag (fix: a scope names a repository, every tag included: drop the :tag part)'],
  ['Docker Hub alias', { rules: [{ scope: 'index.docker.io/acme/*', allow: true }] },
    'policy.rules[0].scope: index.docker.io is Docker Hub (fix: write docker.io, as image references name it: docker.io/acme/*)'],
  ['Docker Hub official image without library/', { rules: [{ scope: 'docker.io/nginx', allow: true }] },
    'policy.rules[0].scope: scope "docker.io/nginx" never matches: Docker Hub images with one path component are library/nginx (fix: write docker.io/library/nginx)'],
  ['bad path component', { rules: [{ scope: 'ghcr.io/Acme/app', allow: true }] },
    'policy.rules[0].scope: "Acme" in scope "ghcr.io/Acme/app" is not a repository path component (fix: use lowercase letters, digits and single . _ __ or - separators)'],
  ['empty requirement list', { rules: [{ scope: '*', require: [] }] },
    'policy.rules[0].require: must be a non-empty list (fix: list at least one entry under require)'],
  ['empty anyOf', { rules: [{ scope: '*', anyOf: [] }] },
    'policy.rules[0].anyOf: must be a non-empty list (fix: list at least one entry under anyOf)'],
  ['count above the requirements', { rules: [{ scope: '*', anyOf: [{ verifier: 'notation' }], count: 2 }] },
    'policy.rules[0].count: count 2 is more than the 1 requirement(s) listed under anyOf (fix: set count between 1 and 1)'],
  ['count below 1', { rules: [{ scope: '*', anyOf: [{ verifier: 'notation' }], count: 0 }] },
    'policy.rules[0].count: must be an integer from 1 to 16 (fix: set count within that range)'],
  ['count without anyOf', { rules: [{ scope: '*', require: [{ verifier: 'notation' }], count: 1 }] },
    'policy.rules[0].count: count only applies to anyOf (fix: use anyOf: [...] with count: <n>, or remove count (require: needs all of its requirements))'],
  ['a rule that says nothing', { rules: [{ scope: '*' }] },
    'policy.rules[0].require: the rule says nothing about the images it matches (fix: give exactly one of require: [...], anyOf: [...], allow: true or deny: true|"<message>")'],
  ['require and deny', { rules: [{ scope: '*', require: [{ verifier: 'notation' }], deny: true }] },
    'policy.rules[0].deny: require and deny cannot be combined in one rule (fix: give exactly one of require: [...], anyOf: [...], allow: true or deny: true|"<message>")'],
  ['allow: false', { rules: [{ scope: '*', allow: false }] },
    'policy.rules[0].allow: must be true (fix: write allow: true (to refuse images, write deny: true))'],
  ['deny: 5', { rules: [{ scope: '*', deny: 5 }] },
    'policy.rules[0].deny: must be true or a message of 1 to 512 characters (fix: write deny: true or deny: "<why these images are refused>")'],
  ['unknown policy key', { rule: [] },
    'policy.rule: unknown key "rule" (fix: did you mean rules? (known keys here: trustServers, rules))'],
  ['no rules', { trustServers: SERVERS },
    'policy.rules: is required (fix: list at least one rule, e.g. - scope: "*" with require: [{verifier: notation}])'],
  ['unknown rule key (typo)', { rules: [{ scope: '*', requires: [{ verifier: 'notation' }] }] },
    'policy.rules[0].requires: unknown key "requires" (fix: did you mean require? (known keys here: scope, require, anyOf, count, allow, deny))'],
  ['unknown requirement key (typo)', policyWith({ scope: '*', require: [{ verifier: 'notaryv1', trustServer: 'internal', rootKey: ROOT.publicPem }] }),
    'policy.rules[0].require[0].rootKey: unknown key "rootKey" (fix: did you mean rootKeys? (known keys here: verifier, name, trustServer, rootKeys, rootKeyFiles, certificateRule, delegations, signers, metadataLengths))'],
  ['unknown key far from any', { rules: [{ scope: '*', require: [{ verifier: 'notation', level: 'strict' }] }] },
    'policy.rules[0].require[0].level: unknown key "level" (fix: remove it; known keys here: verifier, name)'],
  ['unknown trust server key', { trustServers: { internal: { url: 'https://n.example', ca: './x' } }, rules: [{ scope: '*', allow: true }] },
    'policy.trustServers.internal.ca: unknown key "ca" (fix: remove it; known keys here: url, caFile, credentials)'],
  ['no verifier', { rules: [{ scope: '*', require: [{ name: 'x' }] }] },
    'policy.rules[0].require[0].verifier: is required (fix: set verifier: notation | notaryv1 | cosign)'],
  ['unknown verifier', { rules: [{ scope: '*', require: [{ verifier: 'notary' }] }] },
    'policy.rules[0].require[0].verifier: must be one of notation | notaryv1 | cosign (fix: set verifier: notation)'],
  ['cosign without keys or identities', { rules: [{ scope: '*', require: [{ verifier: 'cosign' }] }] },
    'policy.rules[0].require[0].publicKeys: a cosign requirement needs the keys or the keyless identities it trusts (fix: set publicKeys: [<PEM>] / publicKeyFiles: [./cosign.pub], or identities: [{issuer: …, subject: …}]; for either, write two requirements under anyOf)'],
  ['a notation requirement naming a statement', { rules: [{ scope: '*', require: [{ verifier: 'notation', trustPolicy: 'prod' }] }] },
    'policy.rules[0].require[0].trustPolicy: a notation requirement does not name a trust policy statement (fix: the Notation trust policy picks the statement by its registryScopes: list this repository there)'],
  ['duplicate requirement names', { rules: [{ scope: '*', anyOf: [{ verifier: 'notation', name: 'a' }, { verifier: 'notation', name: 'a' }] }] },
    'policy.rules[0].anyOf[1].name: requirement name "a" is used twice in this rule (fix: give each requirement of a rule its own name)'],
  ['unknown trust server', policyWith({ scope: '*', require: [notary({ trustServer: 'interal' })] }),
    'policy.rules[0].require[0].trustServer: trust server "interal" is not defined (fix: define it under policy.trustServers or name one of: internal)'],
  ['no trust server', policyWith({ scope: '*', require: [{ verifier: 'notaryv1', rootKeys: [ROOT.publicPem] }] }),
    'policy.rules[0].require[0].trustServer: is required for a notaryv1 requirement (fix: name one of: internal)'],
  ['no root key', policyWith({ scope: '*', require: [{ verifier: 'notaryv1', trustServer: 'internal' }] }),
    'policy.rules[0].require[0].rootKeys: a notaryv1 requirement needs the root public key it trusts (fix: set rootKeys: [<PEM>] or rootKeyFiles: [./root.pub], or certificateRule: true for notary\'s CN = GUN rule (pullgate does not trust on first use))'],
  ['certificateRule: false and no root key', policyWith({ scope: '*', require: [{ verifier: 'notaryv1', trustServer: 'internal', certificateRule: false }] }),
    'policy.rules[0].require[0].rootKeys: a notaryv1 requirement needs the root public key it trusts (fix: set rootKeys: [<PEM>] or rootKeyFiles: [./root.pub], or certificateRule: true for notary\'s CN = GUN rule (pullgate does not trust on first use))'],
  ['certificateRule not a boolean', policyWith({ scope: '*', require: [notary({ certificateRule: 'yes' })] }),
    'policy.rules[0].require[0].certificateRule: must be true or false (fix: set certificateRule: true or certificateRule: false)'],
  ['an unknown metadataLengths', policyWith({ scope: '*', require: [notary({ metadataLengths: 'hash' })] }),
    'policy.rules[0].require[0].metadataLengths: must be one of exact | hash-only (fix: set metadataLengths: exact)'],
  ['metadataLengths on a notation requirement', { rules: [{ scope: '*', require: [{ verifier: 'notation', metadataLengths: 'exact' }] }] },
    'policy.rules[0].require[0].metadataLengths: unknown key "metadataLengths" (fix: remove it; known keys here: verifier, name)'],
  ['a private key', policyWith({ scope: '*', require: [notary({ rootKeys: [ROOT.publicPem, pk] })] }),
    'policy.rules[0].require[0].rootKeys[1]: is a private key (PRIVATE KEY) (fix: pin the public key only (openssl pkey -pubout), and rotate this private key: it has been written into a config file)'],
  ['not PEM at all', policyWith({ scope: '*', require: [notary({ rootKeys: ['MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE'] })] }),
    'policy.rules[0].require[0].rootKeys[0]: is not a PEM block (fix: paste the key with its -----BEGIN PUBLIC KEY----- and -----END PUBLIC KEY----- lines (sighup/Portieris keep it base64-encoded: decode it with base64 -d))'],
  ['two PEM blocks in one entry', policyWith({ scope: '*', require: [notary({ rootKeys: [ROOT.publicPem + SIGNER.publicPem] })] }),
    'policy.rules[0].require[0].rootKeys[0]: holds 2 PEM blocks (fix: give one key per entry (list several keys as several entries))'],
  ['the same root key twice', policyWith({ scope: '*', require: [notary({ rootKeys: [ROOT.publicPem, ROOT.publicPem] })] }),
    'policy.rules[0].require[0].rootKeys[1]: pins the same key twice (fix: remove the duplicate)'],
  ['a root key file that is missing', policyWith({ scope: '*', require: [notary({ rootKeys: undefined, rootKeyFiles: ['root.pub'] })] }),
    "policy.rules[0].require[0].rootKeyFiles[0]: cannot read /etc/pullgate/root.pub: ENOENT: no such file or directory, open '/etc/pullgate/root.pub' (fix: give an existing, readable file (relative paths resolve against the config file's folder))"],
  ['a Connaisseur-style delegation name', policyWith({ scope: '*', require: [notary({ delegations: ['releases'] })] }),
    'policy.rules[0].require[0].delegations[0]: "releases" is not a delegation role (fix: write targets/releases (Connaisseur lists delegations without the targets/ prefix))'],
  ['targets as a delegation', policyWith({ scope: '*', require: [notary({ delegations: ['targets'] })] }),
    'policy.rules[0].require[0].delegations[0]: "targets" is the top-level role, not a delegation (fix: omit delegations to trust targets/releases then targets, or pin its key with signers: [{role: targets, publicKey: …}])'],
  ['a delegation twice', policyWith({ scope: '*', require: [notary({ delegations: ['targets/a', 'targets/a'] })] }),
    'policy.rules[0].require[0].delegations[1]: "targets/a" is listed twice (fix: remove the duplicate)'],
  ['delegations and signers', policyWith({ scope: '*', require: [notary({ delegations: ['targets/a'], signers: [{ role: 'targets/a', publicKey: SIGNER.publicPem }] })] }),
    'policy.rules[0].require[0].signers: delegations and signers cannot both be set (fix: list required roles under delegations, or pin role keys under signers, not both)'],
  ['a signer with two keys', policyWith({ scope: '*', require: [notary({ signers: [{ role: 'targets/a', publicKey: SIGNER.publicPem, publicKeyFile: 'a.pub' }] })] }),
    'policy.rules[0].require[0].signers[0].publicKey: give exactly one of publicKey and publicKeyFile (fix: set publicKey: <PEM> or publicKeyFile: ./signer.pub)'],
  ['a signer role outside targets', policyWith({ scope: '*', require: [notary({ signers: [{ role: 'snapshot', publicKey: SIGNER.publicPem }] })] }),
    'policy.rules[0].require[0].signers[0].role: "snapshot" is not a targets role (fix: write targets/snapshot)'],
  ['a signer key typo', policyWith({ scope: '*', require: [notary({ signers: [{ role: 'targets/a', publickey: SIGNER.publicPem }] })] }),
    'policy.rules[0].require[0].signers[0].publickey: unknown key "publickey" (fix: did you mean publicKey? (known keys here: role, publicKey, publicKeyFile))'],
  ['a trust server URL with a path', { trustServers: { internal: { url: 'https://notary.example/v2/' } }, rules: [{ scope: '*', allow: true }] },
    'policy.trustServers.internal.url: the trust server URL must be an origin only (fix: remove the path, query and any user:password (name a credentials entry instead))'],
  ['a trust server name', { trustServers: { Internal: { url: 'https://notary.example' } }, rules: [{ scope: '*', allow: true }] },
    'policy.trustServers.Internal: "Internal" is not a trust server name (fix: use lowercase letters, digits and -, e.g. notary-internal)'],
  ['a rule that is not a mapping', { rules: ['ghcr.io/*'] },
    'policy.rules[0]: must be a mapping (key: value) (fix: see the config reference in README.md)'],
];

t.test('rejections, each with the file, the key path and the fix', async (t) => {
  for (const [what, raw, expected] of rejections) {
    let thrown: unknown;
    try {
      parse(raw);
    } catch (err) {
      thrown = err;
    }
    t.ok(thrown instanceof ConfigError, `${what}: a ConfigError`);
    t.equal((thrown as Error | undefined)?.message, `${CONFIG}: ${expected}`, what);
  }
});

t.test('PEM keys that do not parse are refused at load, with node:crypto\'s reason', async (t) => {
  const garbage = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
  t.throws(() => parse(policyWith({ scope: '*', require: [notary({ rootKeys: [garbage] })] })), {
    message: /^\/etc\/pullgate\/config\.yaml: policy\.rules\[0\]\.require\[0\]\.rootKeys\[0\]: is not a usable public key \(.+\) \(fix: paste the PEM exactly as exported, e.g\. by openssl pkey -pubout or docker trust key generate\)$/,
  });
  const small = rsaKeyPem(1024);
  t.throws(() => parse(policyWith({ scope: '*', require: [notary({ signers: [{ role: 'targets', publicKey: small }] })] })), {
    message: `${CONFIG}: policy.rules[0].require[0].signers[0].publicKey: is an RSA key of 1024 bits (fix: pin an RSA key of at least 2048 bits, or an ECDSA key)`,
  });
});
