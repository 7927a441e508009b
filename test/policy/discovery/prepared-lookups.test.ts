// oci/discovery/prepared-lookups.ts (Notation's prepared discoveries and cosign's early lookups): taken once, bounded in
// count and age, and an untaken lookup's budget, when it has one, is ended.
import t from 'tap';
import { PreparedLookups } from '../../../oci/discovery/prepared-lookups.ts';

class Budget {
  ended = 0;
  end(): void {
    this.ended++;
  }
}

t.test('taken once, by its key', async (t) => {
  const s = new PreparedLookups<string, Budget>();
  const b = new Budget();
  s.start('a', () => ({ lookup: Promise.resolve('found'), budget: b }));
  s.start('a', () => t.fail('a pending key is not started twice') as never);
  t.equal(s.claim('b'), undefined, 'another key');
  const got = s.claim('a');
  t.equal(await got?.lookup, 'found');
  t.equal(s.claim('a'), undefined, 'only once');
  t.equal(b.ended, 0, 'the claimer owns the budget now');
});

t.test('bounded: a full store starts nothing; an expired entry is dropped and its budget ended', async (t) => {
  let now = 1000;
  const s = new PreparedLookups<string, Budget>({ maxEntries: 2, ttlMs: 100, now: () => now });
  const budgets = [new Budget(), new Budget()];
  s.start('a', () => ({ lookup: Promise.resolve('a'), budget: budgets[0]! }));
  s.start('b', () => ({ lookup: Promise.resolve('b'), budget: budgets[1]! }));
  let called = false;
  s.start('c', () => {
    called = true;
    return { lookup: Promise.resolve('c'), budget: new Budget() };
  });
  t.notOk(called, 'past maxEntries nothing is started');
  t.equal(s.size, 2);
  now += 100;
  t.equal(s.claim('a'), undefined, 'expired: not handed out');
  t.same(budgets.map((b) => b.ended), [1, 1], 'every expired entry has its budget ended');
  t.equal(s.size, 0);
});

t.test('a rejected lookup nobody takes is not an unhandled rejection; the taker still sees it', async (t) => {
  const s = new PreparedLookups<string, Budget>();
  s.start('x', () => ({ lookup: Promise.reject(new Error('registry down')), budget: new Budget() }));
  await new Promise((r) => setImmediate(r));
  await t.rejects(s.claim('x')!.lookup, /registry down/);
});

t.test('a lookup without a budget of its own expires like the others', async (t) => {
  let now = 0;
  const s = new PreparedLookups<string, Budget | undefined>({ ttlMs: 10, now: () => now });
  s.start('plain', () => ({ lookup: Promise.resolve('p'), budget: undefined }));
  t.equal(await s.claim('plain')?.lookup, 'p', 'claimed while fresh');
  s.start('plain', () => ({ lookup: Promise.resolve('q'), budget: undefined }));
  now = 10;
  t.equal(s.claim('plain'), undefined, 'expired: dropped, with no budget to end');
  t.equal(s.size, 0);
});
