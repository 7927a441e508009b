/**
 * The webhook's certificate or key files cannot be used (unreadable, not PEM, or a key that does not match the
 * certificate). A file of its own so the CLI can tell this configuration error (exit 2) from a crash without
 * loading node:tls for every command.
 */
export class TlsFilesError extends Error {
  readonly code = 'TLS_FILES_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'TlsFilesError';
  }
}
