/**
 * The one error type of the Notary v1 trust-server client (notary-server.ts). A closed code union, so the engine can
 * map each to a reason without reading messages; every code fails the decision closed (the verifier rejects on any
 * failure but a 404).
 */

import { CodedError } from '../errors/coded-error.ts';

export type NotaryServerErrorCode =
  /** the client's own options are unusable (URL, CA file, limits); thrown by the constructor */
  | 'invalid_config'
  /** the GUN or role name is not one a trust server serves; nothing was sent */
  | 'invalid_request'
  /** the server, or its token realm, could not be reached or spoke no HTTP we accept (TLS, reset, token failure) */
  | 'unavailable'
  /** 401/403 after the challenge was answered, or a challenge pullgate must not answer */
  | 'denied'
  /** the metadata file is larger than `maxRoleBytes` */
  | 'too_large'
  /** the whole request (token, headers, body) did not finish within `timeoutMs` */
  | 'timeout'
  /** the caller's signal aborted the request, or the client was closed */
  | 'aborted'
  /** any answer but 200 and 404 (redirects included: a trust server has no reason to send one) */
  | 'bad_status';

export class NotaryServerError extends CodedError<NotaryServerErrorCode> {
  override readonly name = 'NotaryServerError';
  /** The HTTP status, for `bad_status` and `denied`. */
  readonly status: number | undefined;
  constructor(code: NotaryServerErrorCode, message: string, status?: number) {
    super(code, message);
    this.status = status;
  }
}
