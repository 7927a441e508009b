/**
 * Upstream credentials from a docker `config.json` (the `auths` map written by `docker login`, `oras login`,
 * `notation login`, and mounted by Kubernetes as a `dockerconfigjson` Secret). Converted once into a typed
 * map keyed by registry host, so a credential is only ever looked up for the host it was written for.
 */
import { readFile } from 'node:fs/promises';
import { canonicalRegistryHost } from '../oci/names.ts';

export interface BasicCredential {
  readonly username: string;
  readonly password: string;
}

export class CredentialsError extends Error {
  readonly code = 'CREDENTIALS_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

const MAX_FILE_BYTES = 1024 * 1024;

export type CredentialStore = ReadonlyMap<string, BasicCredential>;

export async function loadCredentials(file: string | undefined): Promise<CredentialStore> {
  if (file === undefined) return new Map();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CredentialsError(`${file}: cannot read credentials: ${(err as Error).message}`);
  }
  if (text.length > MAX_FILE_BYTES) throw new CredentialsError(`${file}: credentials file larger than 1 MiB`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CredentialsError(`${file}: not JSON: ${(err as Error).message}`);
  }
  return parseDockerConfig(doc, file);
}

export function parseDockerConfig(doc: unknown, file: string): CredentialStore {
  const auths = (doc as { auths?: unknown } | null)?.auths;
  const store = new Map<string, BasicCredential>();
  if (auths === undefined) return store;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw new CredentialsError(`${file}: "auths" must be an object keyed by registry`);
  }
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    const credential = parseEntry(entry, `${file}: auths["${key}"]`);
    if (credential) store.set(registryKey(key), credential);
  }
  return store;
}

/** `https://index.docker.io/v1/` (what `docker login` writes for Hub) and `host:port` both name a host. */
function registryKey(key: string): string {
  const withoutScheme = key.replace(/^https?:\/\//, '');
  const host = withoutScheme.split('/')[0] ?? withoutScheme;
  return canonicalRegistryHost(host);
}

function parseEntry(entry: unknown, where: string): BasicCredential | undefined {
  if (typeof entry !== 'object' || entry === null) throw new CredentialsError(`${where} must be an object`);
  const e = entry as Record<string, unknown>;
  if (typeof e.auth === 'string' && e.auth.length > 0) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new CredentialsError(`${where}.auth is not base64("user:password")`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof e.username === 'string' && typeof e.password === 'string') {
    return { username: e.username, password: e.password };
  }
  if (typeof e.identitytoken === 'string') {
    // OAuth2 refresh tokens need the registry's token endpoint in POST form; not supported yet, and
    // silently pulling anonymously instead would hide the problem.
    throw new CredentialsError(`${where}: identitytoken credentials are not supported; use username/password or auth`);
  }
  return undefined;
}
