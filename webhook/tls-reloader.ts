/**
 * Serving certificate rotation without a restart: the certificate and key files are polled (stat: mtime, size,
 * inode) and, when they change, re-read and handed to `tls.Server.setSecureContext`, so the next TLS handshake
 * presents the new certificate while established connections finish on the old one.
 *
 * Polling rather than fs.watch: Kubernetes updates Secret volumes by swapping a `..data` symlink (AtomicWriter),
 * which replaces the watched inode — a watch on the file path goes silent after the first rotation, while a
 * stat through the symlink sees every new target. cert-manager rewrites both files, not always at the same
 * instant: a certificate that does not match its key is not installed; the old pair keeps serving and the
 * check runs again on the next tick until the pair is consistent.
 */
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../telemetry/logger.ts';
import { TlsFilesError } from './tls-files-error.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /**
   * CA bundle that client certificates must chain to (`webhook.clientCaFile`): with it, only a client that
   * presents such a certificate completes the handshake — the API server, configured with a client
   * certificate for this webhook (AdmissionConfiguration `kubeConfigFile`). Reloaded like the pair.
   */
  readonly clientCaFile?: string;
}

export interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

/** Options every secure context gets (initial and reloaded alike). */
export const TLS_OPTIONS = { minVersion: 'TLSv1.2' } as const;

/** Reads and checks a pair (the key must match the certificate); throws TlsFilesError naming the files. */
export async function readKeyPair(files: TlsFiles): Promise<KeyPair> {
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  } catch (err) {
    throw new TlsFilesError(`cannot read the webhook TLS files: ${(err as Error).message}`);
  }
  try {
    createSecureContext({ ...TLS_OPTIONS, cert, key });
  } catch (err) {
    throw new TlsFilesError(`${files.certFile} + ${files.keyFile}: not a usable certificate and key (${(err as Error).message})`);
  }
  if (files.clientCaFile === undefined) return { cert, key };
  let ca: Buffer;
  try {
    ca = await readFile(files.clientCaFile);
  } catch (err) {
    throw new TlsFilesError(`cannot read webhook.clientCaFile: ${(err as Error).message}`);
  }
  // An empty or garbled bundle would make every handshake fail (or, worse, be silently empty): refuse it.
  if (!/-----BEGIN CERTIFICATE-----/.test(ca.toString('latin1'))) throw new TlsFilesError(`${files.clientCaFile}: no PEM certificate in webhook.clientCaFile`);
  try {
    createSecureContext({ ...TLS_OPTIONS, cert, key, ca });
  } catch (err) {
    throw new TlsFilesError(`${files.clientCaFile}: not a usable CA bundle (${(err as Error).message})`);
  }
  return { cert, key, ca };
}

/** The secure context for a pair (and the client CA, when one is configured). */
export function contextOptions(pair: KeyPair): { minVersion: 'TLSv1.2'; cert: Buffer; key: Buffer; ca?: Buffer } {
  return pair.ca === undefined ? { ...TLS_OPTIONS, cert: pair.cert, key: pair.key } : { ...TLS_OPTIONS, cert: pair.cert, key: pair.key, ca: pair.ca };
}

export type ReloadResult = 'unchanged' | 'reloaded' | 'failed';

export class CertificateReloader {
  readonly #server: TlsServer;
  readonly #files: TlsFiles;
  readonly #logger: Logger;
  readonly #onResult: (r: ReloadResult) => void;
  readonly #readPair: (files: TlsFiles) => Promise<KeyPair>;
  #stamp = '';
  #failedStamp = '';
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  /** `readPair` is readKeyPair; a test passes one that rewrites a file mid-read. */
  constructor(
    server: TlsServer,
    files: TlsFiles,
    logger: Logger,
    onResult: (r: ReloadResult) => void = () => {},
    readPair: (files: TlsFiles) => Promise<KeyPair> = readKeyPair,
  ) {
    this.#server = server;
    this.#readPair = readPair;
    this.#files = files;
    this.#logger = logger;
    this.#onResult = onResult;
  }

  /**
   * Polls every `intervalMs`. `stamp` is `fileStamp()` taken before the pair the server started with was read,
   * so a rotation that lands in between is still picked up.
   */
  start(intervalMs: number, stamp: string): void {
    this.#stamp = stamp;
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One poll; exported for tests and for a reload on demand (SIGHUP). */
  async check(): Promise<ReloadResult> {
    if (this.#checking) return 'unchanged';
    this.#checking = true;
    try {
      const stamp = await fileStamp(this.#files).catch(() => 'unreadable');
      if (stamp === this.#stamp) return 'unchanged';
      let pair: KeyPair | Error;
      try {
        pair = await this.#readPair(this.#files);
      } catch (err) {
        pair = err instanceof Error ? err : new Error(String(err));
      }
      // A writer still at work (writeFileSync truncates, then writes) changes the stamp under the read: the
      // bytes read may be half a file, or whole but newer than the stamp. Decide nothing about them; the next
      // tick reads the files once they hold still, so one rotation is one reload (or one failure), not two.
      const after = await fileStamp(this.#files).catch(() => 'unreadable');
      if (after !== stamp) return 'unchanged';
      if (pair instanceof Error) {
        // Mid-rotation (new cert, old key) or a broken file: keep serving the old pair, say so once per state.
        if (stamp !== this.#failedStamp) {
          this.#failedStamp = stamp;
          this.#logger.warn({ err: pair.message }, 'webhook TLS files changed but cannot be used yet; still serving the previous certificate');
          this.#onResult('failed');
        }
        return 'failed';
      }
      this.#server.setSecureContext(contextOptions(pair));
      this.#stamp = stamp;
      this.#failedStamp = '';
      this.#logger.info({ cert: this.#files.certFile }, 'webhook TLS certificate reloaded');
      this.#onResult('reloaded');
      return 'reloaded';
    } finally {
      this.#checking = false;
    }
  }
}

/** What changes when either file is rewritten or its symlink retargeted. */
export async function fileStamp(files: TlsFiles): Promise<string> {
  const [c, k, a] = await Promise.all([stat(files.certFile), stat(files.keyFile), files.clientCaFile === undefined ? undefined : stat(files.clientCaFile)]);
  const ca = a === undefined ? '' : `|${a.ino}:${a.size}:${a.mtimeMs}`;
  return `${c.ino}:${c.size}:${c.mtimeMs}|${k.ino}:${k.size}:${k.mtimeMs}${ca}`;
}
