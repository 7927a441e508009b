/**
 * `cache.maxBytes` bounds all caches of registry bytes together (issue 12.5): the verified store's allowed,
 * stale and denied manifests and the CRL/OCSP answers share one CacheBudget (registry/cache-budget.ts). Before,
 * each cache had maxBytes of its own, so a node could hold several times the configured number.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { Decision } from '../../policy/decision.ts';
import { digestOf } from '../../oci/digest.ts';
import { VerifiedStore } from '../../proxy/verified-store.ts';
import { BudgetedCache, CacheBudget } from '../../registry/cache-budget.ts';
import { DEFAULT_CRL_OPTIONS, HttpCrlSource } from '../../registry/crl-source.ts';

const MiB = 1024 * 1024;
const ALLOW: Decision = { allow: true, reason: 'verified', message: 'ok', statement: 's', checks: [] };
const cacheConfig = (maxBytes: number) => ({ maxBytes, allowTtlMs: 600_000, denyTtlMs: 60_000, staleIfErrorMs: 600_000, tagTtlMs: 0 });
const manifest = (n: number, fill: string) => {
  const bytes = Buffer.alloc(n, fill);
  return { digest: digestOf(bytes, 'sha256'), mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes };
};

t.test('members share one total; the largest gives up its least recently used entries', async (t) => {
  const budget = new CacheBudget(1000);
  const size = { maxSize: 10_000, sizeCalculation: (v: Buffer) => v.length };
  const a = new BudgetedCache<string, Buffer>(budget, size);
  const b = new BudgetedCache<string, Buffer>(budget, size);
  a.set('a1', Buffer.alloc(300)).set('a2', Buffer.alloc(300));
  b.set('b1', Buffer.alloc(300));
  t.equal(budget.usedBytes, 900);
  b.set('b2', Buffer.alloc(300));
  t.ok(budget.usedBytes <= 1000, `total ${budget.usedBytes} within 1000`);
  t.same([a.has('a1'), a.has('a2'), b.has('b1'), b.has('b2')], [false, true, true, true], 'a (the largest) lost its oldest');
  budget.maxBytes = 400;
  t.ok(budget.usedBytes <= 400, 'a lower budget (reload) evicts at once');
  b.detach();
  t.equal(budget.usedBytes, a.calculatedSize, 'a detached member no longer counts');
});

t.test('verified manifests and CRLs together stay within cache.maxBytes', async (t) => {
  const crl = Buffer.alloc(700 * 1024, 7);
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': crl.length }).end(crl));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ca.crl`;

  const budget = new CacheBudget(MiB);
  const crls = new HttpCrlSource({ ...DEFAULT_CRL_OPTIONS, budget });
  t.teardown(() => crls.close());
  const store = new VerifiedStore(cacheConfig(MiB), budget);
  t.match(await crls.fetchCrl(url), { ok: true });
  t.ok(budget.usedBytes > 700 * 1024, 'the CRL counts against the budget');
  const m1 = manifest(200 * 1024, 'a');
  const m2 = manifest(200 * 1024, 'b');
  store.remember(`r/app@${m1.digest.text}`, m1, ALLOW, 'r/app');
  store.remember(`r/app@${m2.digest.text}`, m2, ALLOW, 'r/app');
  // Allowed + stale copies of two 200 KiB manifests (800 KiB) and a 700 KiB CRL: 1.5 MiB asked for, 1 MiB allowed.
  t.ok(budget.usedBytes <= MiB, `all caches together hold ${budget.usedBytes} bytes, at most cache.maxBytes (${MiB})`);
  t.ok(store.allowed(`r/app@${m2.digest.text}`), 'the newest verified manifest is kept');

  const next = new VerifiedStore(cacheConfig(MiB), budget);
  store.retire();
  t.ok(budget.usedBytes <= 800 * 1024, 'a retired generation stops counting');
  next.remember(`r/app@${m1.digest.text}`, m1, ALLOW, 'r/app');
  t.ok(next.allowed(`r/app@${m1.digest.text}`), 'the next generation caches within the same budget');
});
