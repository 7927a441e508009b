/**
 * The bytes Connaisseur's mock notary serves for a saved file (connaisseur `test/testhelper/mock_server.go`): the file
 * is decoded into notary's `data.Signed` and re-encoded with Go's `json.Marshal` — `{"signed":<raw, compacted, key
 * order kept, HTML-escaped>,"signatures":[{"keyid","method"(lower case),"sig"(base64 re-encoded)}]}`. Snapshot and
 * timestamp hashes in those vectors are over this form (vectors README § 7.2), so the test source replays it.
 * A file that does not decode (err-image/invalid.json) is served raw, as the mock does.
 */

/** Go `json.Compact` with HTML escaping (encoding/json `compact(dst, src, escape=true)`), on the raw text. */
function goCompact(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === '\\') { out += c + (text[i + 1] ?? ''); i++; continue; }
      if (c === '"') inString = false;
      if (c === '<') out += '\\u003c';
      else if (c === '>') out += '\\u003e';
      else if (c === '&') out += '\\u0026';
      else if (c === '\u2028') out += '\\u2028';
      else if (c === '\u2029') out += '\\u2029';
      else out += c;
      continue;
    }
    if (c === '"') inString = true;
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
    out += c;
  }
  return out;
}

/** The raw text of member `key` of the top-level object in compact JSON `text` (depth-tracking scan). */
function memberText(text: string, key: string): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      if (depth === 1 && text.startsWith(`"${key}":`, i)) {
        const start = i + key.length + 3;
        let d = 0;
        let s = false;
        for (let j = start; j < text.length; j++) {
          const e = text[j];
          if (s) { if (e === '\\') j++; else if (e === '"') s = false; continue; }
          if (e === '"') s = true;
          else if (e === '{' || e === '[') d++;
          else if (e === '}' || e === ']') d--;
          if (d === 0 && (e === '}' || e === ']' || e === ',' || (j > start && text[j + 1] === ',' && d === 0 && e !== '{'))) {
            return text.slice(start, e === ',' ? j : j + 1);
          }
        }
        return undefined;
      }
      inString = true;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return undefined;
}

export function goServedBytes(file: Uint8Array): Uint8Array {
  const text = Buffer.from(file).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return file;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return file;
  const compact = goCompact(text);
  const signed = memberText(compact, 'signed') ?? 'null';
  const sigs = (parsed as { signatures?: unknown }).signatures;
  const sigList = Array.isArray(sigs) ? sigs : [];
  const sigText = sigList.map((s: { keyid?: string; method?: string; sig?: string }) =>
    `{"keyid":${JSON.stringify(s.keyid ?? '')},"method":${JSON.stringify((s.method ?? '').toLowerCase())},"sig":${JSON.stringify(Buffer.from(s.sig ?? '', 'base64').toString('base64'))}}`);
  const signatures = Array.isArray(sigs) ? `[${sigText.join(',')}]` : 'null';
  return Buffer.from(`{"signed":${signed},"signatures":${signatures}}`);
}
