// Every image-policy example in README.md (each YAML block marked with a `<!-- policy-example -->` line) is parsed
// by the real parser, so the documentation cannot drift from what `pullgate serve` accepts. Key files an example
// names are served from an in-memory table (helpers.ts); an example that does not parse, a key file it names that
// the table lacks, or a README with fewer marked examples than it had when this test was written, fails.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../../config/fields.ts';
import { ecKeyPem, parse } from './helpers.ts';

const README = join(import.meta.dirname, '../../../README.md');
const MARK = '<!-- policy-example -->';
/** The marked examples at the time of writing; deleting or unmarking one must be deliberate. */
const MIN_EXAMPLES = 4;

interface Example { readonly line: number; readonly yaml: string }

/** The ```yaml block right after each marker line, with the line it starts on. */
export function markedExamples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const out: Example[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== MARK) return;
    if (lines[i + 1]?.trim() !== '```yaml') throw new Error(`README.md:${i + 1}: ${MARK} is not followed by a \`\`\`yaml block`);
    const end = lines.findIndex((x, j) => j > i + 1 && x.trim() === '```');
    if (end < 0) throw new Error(`README.md:${i + 2}: unterminated yaml block`);
    out.push({ line: i + 3, yaml: lines.slice(i + 2, end).join('\n') });
  });
  return out;
}

// The files the examples name (relative to the config at /etc/pullgate/config.yaml), each a real public key.
const pub = () => ecKeyPem().publicPem;
const FILES: Record<string, string> = {
  '/etc/pullgate/partner-root.pub': pub(),
  '/etc/pullgate/prod-root.pub': pub(),
  '/etc/pullgate/jenkins.pub': pub(),
  '/etc/pullgate/tools-root.pub': pub(),
  '/etc/pullgate/ci.pub': pub(),
};

const examples = markedExamples(readFileSync(README, 'utf8'));

t.test('README.md has its marked image-policy examples', async (t) => {
  t.ok(examples.length >= MIN_EXAMPLES, `${examples.length} examples marked with ${MARK} (at least ${MIN_EXAMPLES})`);
});

for (const ex of examples) {
  t.test(`README.md:${ex.line}: the example parses as a policy section`, async (t) => {
    const doc = parseYaml(ex.yaml) as Record<string, unknown>;
    t.ok(doc !== null && typeof doc === 'object' && 'policy' in doc, 'the block is a config fragment with a policy: key');
    let policy;
    try {
      policy = parse(doc.policy, FILES);
    } catch (err) {
      // Say which example and which key, as pullgate would at start.
      t.fail(err instanceof ConfigError ? err.message : String(err));
      return;
    }
    t.ok(policy !== undefined && policy.rules.length > 0, `${policy?.rules.length ?? 0} rules`);
  });
}

t.test('the extractor finds a broken example (the test can fail)', async (t) => {
  const broken = markedExamples(['text', MARK, '```yaml', 'policy:', '  rules:', '    - scope: "*"', '      delegation: []', '```'].join('\n'));
  t.equal(broken.length, 1);
  t.throws(() => parse((parseYaml(broken[0]!.yaml) as { policy: unknown }).policy), ConfigError, 'an unknown key is refused');
  t.throws(() => markedExamples(`${MARK}\nno block here\n`), /not followed by/);
});
