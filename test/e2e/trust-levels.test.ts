/**
 * Issue 11 item 3, end to end: the trust-policy levels other than `strict` (permissive, audit, `override`, skip)
 * and the timestamped notation layouts, with the real registry, the real `pullgate serve` and real containerd
 * (ctr, and the CRI PullImage call). One trust policy gives every repository its own statement, so one gate
 * runs every level; a second gate in `mode: audit` serves what the first denies and counts it as would_deny.
 *
 * The gate runs with the real clock, so each case uses a layout whose verdict cannot change before 2122: the
 * e2e signatures and certificates that expire did so in 2023 and 2025 (test/vectors/README.md §0), and the
 * timestamped layouts fail their timestamp for reasons no clock repairs (a token that does not parse; a TSA whose
 * root is not in these vectors). Verdicts follow notation's level table (trust-store-trust-policy.md § "Signature
 * Verification details"; vectors README §2.1): integrity is always enforced, permissive logs expiry,
 * authenticTimestamp and revocation, audit also logs authenticity, skip runs nothing.
 *
 * Allowed layouts are Notation test artifacts containerd can fetch but not unpack, so "pulled" is
 * `ctr content fetch` succeeding (CRI fails only at unpacking, never at the gate), as in enforce.test.ts.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { pushOciLayout } from '../harness/images.ts';
import { startPullgate, VECTORS, type PullgateProcess } from './pullgate-process.ts';

const LAYOUTS = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout');
const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const TSA_ROOTS = join(VECTORS, 'notation/test/e2e/testdata/config/timestamp');

/** The signing certificate (x5c[0]) of a layout's only JWS envelope, as PEM: the vectors do not ship it as a file. */
function signerOfLayout(layoutDir: string): string {
  const blobs = join(layoutDir, 'blobs/sha256');
  for (const name of readdirSync(blobs)) {
    let doc: { header?: { x5c?: string[] } };
    try {
      doc = JSON.parse(readFileSync(join(blobs, name), 'utf8')) as typeof doc;
    } catch {
      continue; // layers and other non-JSON blobs
    }
    const leaf = doc.header?.x5c?.[0];
    if (leaf !== undefined) return `-----BEGIN CERTIFICATE-----\n${leaf.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  }
  throw new Error(`no JWS envelope in ${layoutDir}`);
}

interface Statement {
  readonly level: 'strict' | 'permissive' | 'audit' | 'skip';
  readonly layout: string;
  readonly store?: string;
  readonly override?: Record<string, string>;
  readonly verifyTimestamp?: 'always' | 'afterCertExpiry';
}

/** Repository (under the registry) → its layout and the statement that governs it. */
const REPOS: Record<string, Statement> = {
  'permissive/expired-sig': { level: 'permissive', layout: 'e2e-expired-signature', store: 'ca:e2e' },
  'permissive/expired-cert': { level: 'permissive', layout: 'e2e-with-expired-cert', store: 'ca:expired' },
  'permissive/invalid': { level: 'permissive', layout: 'e2e-invalid-signature', store: 'ca:e2e' },
  'permissive/untrusted': { level: 'permissive', layout: 'e2e-valid-signature', store: 'ca:other' },
  'audit/untrusted': { level: 'audit', layout: 'e2e-valid-signature', store: 'ca:other' },
  'audit/invalid': { level: 'audit', layout: 'e2e-invalid-signature', store: 'ca:e2e' },
  'strict/expired-sig': { level: 'strict', layout: 'e2e-expired-signature', store: 'ca:e2e' },
  'override/expiry-log': { level: 'strict', layout: 'e2e-expired-signature', store: 'ca:e2e', override: { expiry: 'log' } },
  'override/authenticity-enforce': { level: 'audit', layout: 'e2e-valid-signature', store: 'ca:other', override: { authenticity: 'enforce' } },
  'skip/invalid': { level: 'skip', layout: 'e2e-invalid-signature' },
  'skip/unsigned': { level: 'skip', layout: 'e2e' },
  'timestamped/strict': { level: 'strict', layout: 'e2e-with-timestamped-signature', store: 'ca:testcert7' },
  'timestamped/tsa': { level: 'strict', layout: 'e2e-with-timestamped-signature', store: 'ca:testcert7', verifyTimestamp: 'always', override: { expiry: 'log' } },
  'timestamped-invalid/tsa': { level: 'strict', layout: 'e2e-with-invalid-timestamped-signature', store: 'ca:testcert7', verifyTimestamp: 'afterCertExpiry' },
  'timestamped-invalid/permissive': { level: 'permissive', layout: 'e2e-with-invalid-timestamped-signature', store: 'ca:testcert7', verifyTimestamp: 'always' },
};

function trustPolicy(registryHost: string): unknown {
  return {
    version: '1.0',
    trustPolicies: Object.entries(REPOS).map(([repo, s]) => ({
      name: repo.replace('/', '-'),
      registryScopes: [`${registryHost}/${repo}`],
      signatureVerification: { level: s.level, ...(s.override ? { override: s.override } : {}), ...(s.verifyTimestamp ? { verifyTimestamp: s.verifyTimestamp } : {}) },
      ...(s.level === 'skip' ? {} : { trustStores: s.verifyTimestamp ? [s.store!, 'tsa:e2e'] : [s.store!], trustedIdentities: ['*'] }),
    })),
  };
}

t.test('permissive, audit, override, skip and timestamped layouts through the gate and containerd', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'pullgate-trust-levels-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const testcert7 = join(scratch, 'testcert7.pem');
  writeFileSync(testcert7, signerOfLayout(join(LAYOUTS, 'e2e-with-timestamped-signature')));

  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  for (const [repo, s] of Object.entries(REPOS)) await pushOciLayout(registry.url, repo, join(LAYOUTS, s.layout), { rebuildReferrersTags: true });

  const setup = {
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: trustPolicy(registry.host),
    trustStores: {
      'ca/e2e': [join(KEYS, 'e2e.crt')],
      'ca/expired': [join(KEYS, 'expired_e2e.crt')],
      'ca/other': [join(KEYS, 'new_e2e.crt')],
      'ca/testcert7': [testcert7],
      // notation's TimestampOptions(): the GlobalSign and DigiCert TSA roots (vectors README §2).
      'tsa/e2e': [join(TSA_ROOTS, 'globalsignTSARoot.cer'), join(TSA_ROOTS, 'DigiCertTSARootSHA384.cer')],
    },
  };
  const gate = await startPullgate(setup);
  t.teardown(() => gate.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const routeTo = async (g: PullgateProcess): Promise<void> => {
    const hosts = await g.cli(['hosts', '--dir', containerd.certsDir]);
    if (hosts.code !== 0) throw new Error(`pullgate hosts: ${hosts.stderr}`);
  };
  await routeTo(gate);

  const refOf = (repo: string): string => `${registry.host}/${repo}:v1`;
  const counted = (g: PullgateProcess, decision: string, reason: string) => g.metric('pullgate_pull_decisions_total', { registry: registry.host, decision, reason });
  const decisionLog = (g: PullgateProcess, repo: string) => g.logLines().filter((l) => l['ref'] === refOf(repo) && typeof l['decision'] === 'string').at(-1);

  /** Pulled: ctr fetches every byte through the gate; the decision is counted under `reason` and logged. */
  const expectPulled = async (t: Test, g: PullgateProcess, repo: string, decision: 'allow' | 'would_deny', reason: string): Promise<Record<string, unknown> | undefined> => {
    const before = await counted(g, decision, reason);
    const ctr = await containerd.ctr(['content', 'fetch', '--hosts-dir', containerd.certsDir, refOf(repo)]);
    t.equal(ctr.code, 0, `${repo}: ctr content fetch succeeds${ctr.code === 0 ? '' : `: ${ctr.stderr}`}`);
    t.ok((await counted(g, decision, reason)) > before, `${repo}: counted as decision="${decision}" reason="${reason}"`);
    const line = decisionLog(g, repo);
    t.equal(line?.['decision'], decision, `${repo}: logged as ${decision}`);
    return line;
  };

  /** Denied: ctr pull fails with the gate's message and the reason in words; counted under `reason`. */
  const expectDenied = async (t: Test, repo: string, reason: string, words: RegExp): Promise<void> => {
    const before = await counted(gate, 'deny', reason);
    const ctr = await containerd.ctrPull(refOf(repo));
    t.not(ctr.code, 0, `${repo}: ctr pull fails`);
    t.match(ctr.stderr, new RegExp(`denied: pullgate: ${refOf(repo).replace(/[.]/g, '\\.')}: `), `${repo}: the gate's message reaches ctr`);
    t.match(ctr.stderr, words, `${repo}: with the reason in words`);
    t.ok((await counted(gate, 'deny', reason)) > before, `${repo}: counted under reason="${reason}"`);
  };

  /** The checks of a logged decision that the level only logged: `check` failed with action log. */
  const loggedFailure = (line: Record<string, unknown> | undefined, check: string): boolean =>
    Array.isArray(line?.['checks']) && (line['checks'] as { check: string; action: string; result: string }[]).some((c) => c.check === check && c.action === 'log' && c.result !== 'passed');

  await t.test('permissive: expiry and authenticTimestamp failures are logged and the image pulls; integrity and authenticity still deny', async (t) => {
    const expired = await expectPulled(t, gate, 'permissive/expired-sig', 'allow', 'verified');
    t.ok(loggedFailure(expired, 'expiry'), 'the expired signature is logged as an expiry failure');
    t.match(String(expired?.['msg']), /logged failure/, 'and the log line says a failure was only logged');
    const expiredCert = await expectPulled(t, gate, 'permissive/expired-cert', 'allow', 'verified');
    t.ok(loggedFailure(expiredCert, 'authenticTimestamp'), 'the expired signing certificate is logged as an authenticTimestamp failure');

    const cri = await containerd.criPull(refOf('permissive/expired-sig'));
    t.notOk(cri.ok, 'CRI: the Notation test artifact cannot be unpacked...');
    if (!cri.ok) {
      t.match(cri.message, /mismatched image rootfs/, '...but only unpacking failed');
      t.notMatch(cri.message, /pullgate|403/, 'the gate let it through');
    }

    await expectDenied(t, 'permissive/invalid', 'signature_invalid', /signature verification failed: .*not a signature envelope/);
    const criDenied = await containerd.criPull(refOf('permissive/invalid'));
    t.notOk(criDenied.ok, 'CRI PullImage of the invalid signature fails');
    if (!criDenied.ok) t.match(criDenied.message, /pullgate: .*not a signature envelope/, 'with the gate\'s reason');
    await expectDenied(t, 'permissive/untrusted', 'untrusted', /not trusted by store ca:other/);
  });

  await t.test('audit level: an untrusted signature is logged and pulls; an invalid one is still denied', async (t) => {
    const line = await expectPulled(t, gate, 'audit/untrusted', 'allow', 'verified');
    t.ok(loggedFailure(line, 'authenticity'), 'the untrusted chain is logged as an authenticity failure');
    await expectDenied(t, 'audit/invalid', 'signature_invalid', /signature verification failed: .*not a signature envelope/);
  });

  await t.test('override changes the outcome the level alone would give', async (t) => {
    await expectDenied(t, 'strict/expired-sig', 'expired', /signature expired at 2023-06-27T05:21:21Z/);
    const line = await expectPulled(t, gate, 'override/expiry-log', 'allow', 'verified');
    t.ok(loggedFailure(line, 'expiry'), 'strict with override {expiry: log}: the same signature pulls, the expiry failure logged');
    await expectDenied(t, 'override/authenticity-enforce', 'untrusted', /not trusted by store ca:other/);
  });

  await t.test('skip: neither an invalid signature nor none at all is looked at', async (t) => {
    for (const repo of ['skip/invalid', 'skip/unsigned']) {
      const line = await expectPulled(t, gate, repo, 'allow', 'skip');
      t.equal(line?.['reason'], 'skip', `${repo}: logged with reason skip`);
    }
  });

  await t.test('timestamped layouts: expiry without a timestamp check, the TSA chain and a corrupt token', async (t) => {
    await expectDenied(t, 'timestamped/strict', 'expired', /signature expired at 2025-01-21T12:39:46Z/);
    // verifyTimestamp: the countersignature is from Microsoft's TSA, whose root is not in tsa:e2e.
    await expectDenied(t, 'timestamped/tsa', 'timestamp_invalid', /timestamp verification failed: .*certificate signed by unknown authority/);
    t.match(JSON.stringify(decisionLog(gate, 'timestamped/tsa')?.['checks']), /authenticTimestamp.*unknown authority/, 'the TSA chain is what failed');
    await expectDenied(t, 'timestamped-invalid/tsa', 'timestamp_invalid', /timestamp verification failed: failed to parse timestamp countersignature/);
    t.match(JSON.stringify(decisionLog(gate, 'timestamped-invalid/tsa')?.['checks']), /failed to parse timestamp countersignature/, 'the corrupt token is what failed');
    const line = await expectPulled(t, gate, 'timestamped-invalid/permissive', 'allow', 'verified');
    t.ok(loggedFailure(line, 'authenticTimestamp'), 'permissive: the corrupt token is only logged');
  });

  await t.test('no request from containerd went around the gate', async (t) => {
    const direct = (await registry.accessLog()).filter((e) => e.userAgent.startsWith('containerd/'));
    t.same(direct.map((e) => `${e.method} ${e.path}`), [], 'containerd never reached the registry directly');
  });

  await t.test('mode: audit serves what the policy denies and counts it as would_deny', async (t) => {
    const audit = await startPullgate({ ...setup, extra: { mode: 'audit' } });
    t.teardown(async () => {
      await routeTo(gate);
      await audit.stop();
    });
    await routeTo(audit);
    for (const [repo, reason] of [['permissive/invalid', 'signature_invalid'], ['permissive/untrusted', 'untrusted']] as const) {
      const line = await expectPulled(t, audit, repo, 'would_deny', reason);
      t.equal(line?.['reason'], reason, `${repo}: logged as would_deny with reason ${reason}`);
    }
    t.equal(await counted(audit, 'deny', 'signature_invalid'), 0, 'nothing denied in audit mode');
  });
});
