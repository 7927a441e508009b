/**
 * notary's canonical JSON (docker/go canonical/json MarshalCanonical) and the strict decoder in front of it.
 */
import t from 'tap';
import { canonicalJson, parseJson } from '../../../verifiers/notaryv1/canonical-json.ts';

const canon = (text: string) => canonicalJson(parseJson(Buffer.from(text), 't')).toString('utf8');

t.test('canonical form', async (t) => {
  t.equal(canon('{ "b": 1, "a": [true, false, null], "A": "x" }'), '{"A":"x","a":[true,false,null],"b":1}', 'keys by byte order, no whitespace');
  t.equal(canon('{"s":"\\u003c\\u003e\\u0026 \\"q\\" \\\\ \\/"}'), '{"s":"<>& \\"q\\" \\\\ /"}', 'only " and \\ escaped');
  t.equal(canon('{"s":"a\\nb\\t\\u0001"}'), '{"s":"a\nb\t\u0001"}', 'control characters written raw');
  t.equal(canon('{"s":"\\u00e9\\ud83d\\ude00"}'), '{"s":"é😀"}', 'non-ASCII as raw UTF-8');
  // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts after U+1F600 in UTF-16 but before it in UTF-8 (F0 …)
  t.equal(canon('{"\\ud83d\\ude00":1,"\\uff5e":2}'), '{"～":2,"😀":1}', 'byte order, not UTF-16 order');
  t.equal(canon('[-5, 0, 9007199254740991]'), '[-5,0,9007199254740991]');
});

t.test('strict decoding rejects what could mean two things', async (t) => {
  for (const [text, why] of [
    ['{"a":1.5}', /only integers/], ['{"a":1e3}', /only integers/], ['{"a":1.0}', /only integers/],
    ['{"a":9007199254740993}', /out of range/], ['{"a":-0}', /out of range/],
    ['{"a":1,"a":2}', /duplicate key/], ['{"s":"\\ud800"}', /lone surrogate/], ['{"s":"\\udc00x"}', /lone surrogate/],
    ['{"s":"a\nb"}', /control character/], ['{"a":1} x', /trailing data/], ['{"a":01}', /trailing|expected/],
    ['[' .repeat(40) + ']'.repeat(40), /nested too deeply/], ['{"a":tru}', /unexpected/],
  ] as const) {
    t.throws(() => parseJson(Buffer.from(text), 't'), { code: 'metadata_invalid', message: why }, text.slice(0, 30));
  }
  t.throws(() => parseJson(Buffer.from([0x22, 0xff, 0x22]), 't'), { code: 'metadata_invalid', message: /UTF-8/ });
  const obj = parseJson(Buffer.from('{"constructor":1,"__proto__":2}'), 't');
  t.ok(obj instanceof Map && obj.get('constructor') === 1 && obj.get('__proto__') === 2, 'own keys only');
});
