/**
 * The wiring between the image policy's `trustServers` (names, URLs, CA files, credential entry names) and the
 * Notary v1 requirement verifier: one trust-server client (registry/notary-server.ts: token flow, CA, bounded
 * reads, max-age cache) per server definition, and the process's one Notary v1 version state, which must
 * outlive config reloads (rollback and freeze are detected against the versions seen before the reload).
 *
 * A client is keyed by everything that defines it, including the credential it sends, so a reload that changes
 * a URL, a CA file or a password gets a new client, never a cached answer from the old server.
 */
import { createHash } from 'node:crypto';
import type { TrustServer } from '../policy/image-policy/types.ts';
import type { NotaryV1Deps, SignalledMetadataSource } from '../policy/requirements/notaryv1.ts';
import type { CredentialStore } from '../registry/credentials.ts';
// The client module loads node:tls (for its CA bundle): imported only when a policy names a trust server.
import type { NotaryServerClient } from '../registry/notary-server.ts';
// The version state alone (no TUF client): the client is loaded with the Notary v1 adapter, when a rule needs it.
import { NotaryV1VersionState } from '../verifiers/notaryv1/version-state.ts';

/** Old definitions are dropped past this many clients (they are rebuilt on use): a reload loop cannot grow it. */
const MAX_CLIENTS = 128;

export class TrustServerClients {
  readonly #credentials: () => CredentialStore;
  readonly #clients = new Map<string, Promise<NotaryServerClient>>();
  readonly state = new NotaryV1VersionState();

  constructor(credentials: () => CredentialStore) {
    this.#credentials = credentials;
  }

  sourceFor(server: TrustServer): SignalledMetadataSource {
    const credential = server.credentials === undefined ? undefined : this.#credentials().get(server.credentials);
    if (server.credentials !== undefined && credential === undefined) {
      // Fail closed and say why: the policy names a credential entry the credentials file does not have.
      const message = `trust server "${server.name}": no entry "${server.credentials}" in the credentials file`;
      return { fetchRole: () => Promise.reject(new Error(message)) };
    }
    const secret = credential === undefined ? '' : createHash('sha256').update(`${credential.username}\0${credential.password}`).digest('hex');
    const key = JSON.stringify([server.name, server.url.href, server.caFile ?? '', secret]);
    let client = this.#clients.get(key);
    if (client === undefined) {
      if (this.#clients.size >= MAX_CLIENTS) void this.closeAll();
      const options = { url: server.url, ...(server.caFile ? { caFile: server.caFile } : {}), ...(credential ? { credential } : {}) };
      const created = import('../registry/notary-server.ts').then((m) => new m.NotaryServerClient(options));
      // A client that cannot be built (an unreadable CA file) fails this lookup and is rebuilt on the next one.
      created.catch(() => {
        if (this.#clients.get(key) === created) this.#clients.delete(key);
      });
      this.#clients.set(key, created);
      client = created;
    }
    const c = client;
    return { fetchRole: async (gun, name, signal) => (await c).fetchRole(gun, name, signal) };
  }

  deps(clock?: () => Date): NotaryV1Deps {
    return { sourceFor: (server) => this.sourceFor(server), state: this.state, ...(clock ? { clock } : {}) };
  }

  async closeAll(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.allSettled(clients.map(async (c) => (await c).close()));
  }
}
