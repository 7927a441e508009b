// The issue 12.5 bounds under `upstream:` (README § Security-relevant limits): their defaults, and mistakes
// reported with the file, the key and the fix like every other key.
import t from 'tap';
import { buildConfig } from '../../config/load.ts';
import { ConfigError } from '../../config/fields.ts';

const FILE = '/etc/pullgate/config.yaml';
const MiB = 1024 * 1024;

t.test('defaults', async (t) => {
  const c = buildConfig({}, FILE);
  t.match(c.upstream, {
    manifestTimeoutMs: 30_000,
    decisionMaxRequests: 128,
    decisionMaxBytes: 64 * MiB,
    coldDecisions: 16,
    coldDecisionQueue: 256,
    coldDecisionWaitMs: 10_000,
    coldDecisionMaxBytes: 128 * MiB,
  });
});

t.test('set', async (t) => {
  const upstream = { manifestTimeoutMs: 500, decisionMaxRequests: 8, decisionMaxBytes: 2 * MiB, coldDecisions: 2, coldDecisionQueue: 0, coldDecisionWaitMs: 0, coldDecisionMaxBytes: 4 * MiB };
  t.match(buildConfig({ upstream }, FILE).upstream, upstream);
});

t.test('mistakes name the file, the key and the fix', async (t) => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ decisionMaxRequests: 3 }, 'upstream.decisionMaxRequests', /must be an integer from 4 to 10000/],
    [{ decisionMaxBytes: 1024 }, 'upstream.decisionMaxBytes', /must be an integer from 65536/],
    [{ coldDecisions: 0 }, 'upstream.coldDecisions', /must be an integer from 1 to 1024/],
    [{ coldDecisionWaitMs: 'soon' }, 'upstream.coldDecisionWaitMs', /must be an integer/],
    [{ manifestTimeoutMs: 10 }, 'upstream.manifestTimeoutMs', /must be an integer from 100/],
    [{ decisionMaxBytes: 8 * MiB, coldDecisionMaxBytes: 4 * MiB }, 'upstream.coldDecisionMaxBytes', /4194304 is less than upstream\.decisionMaxBytes \(8388608\)/],
  ];
  for (const [upstream, key, problem] of cases) {
    const err = t.throws(() => buildConfig({ upstream }, FILE)) as unknown;
    t.ok(err instanceof ConfigError, key);
    if (err instanceof ConfigError) {
      t.equal(err.file, FILE);
      t.equal(err.key, key);
      t.match(err.message, problem);
      t.ok(err.fix.length > 0, 'with a fix');
    }
  }
  const small = t.throws(() => buildConfig({ upstream: { coldDecisionMaxBytes: MiB } }, FILE), 'the pool must also hold the default budget of one decision') as unknown;
  t.match(small, { key: 'upstream.coldDecisionMaxBytes' });
});
