/**
 * Signed time attributes (signing time, authentic signing time, expiry).
 *
 * - JWS: RFC 3339 `date-time` strings (signature-envelope-jws.md § "Protected
 *   Headers"; RFC 3339 § 5.6). Upper-case 'T'/'Z' as Go's time.RFC3339 parser
 *   (notation-core-go) requires; fractional seconds allowed (SHOULD NOT be used);
 *   leap second 60 rejected as in Go.
 * - COSE: "Epoch-Based Date/Time", CBOR tag 1 (signature-envelope-cose.md
 *   § "Protected Header"; RFC 8949 § 3.4.2). notation-core-go requires the tag.
 *
 * Accepted range is 0001-01-01T00:00:00Z … 9999-12-31T23:59:59Z.
 */
import { malformed } from './errors.ts';

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const MIN_EPOCH_SECONDS = -62135596800; // 0001-01-01T00:00:00Z
const MAX_EPOCH_SECONDS = 253402300799; // 9999-12-31T23:59:59Z

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

export function parseRfc3339(text: string, what: string): Date {
  const m = RFC3339_RE.exec(text);
  if (m === null) return malformed(`${what} is not an RFC 3339 date-time`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const offsetSign = m[8] === '-' ? -1 : 1;
  const offsetHours = m[9] === undefined ? 0 : Number(m[9]);
  const offsetMinutes = m[10] === undefined ? 0 : Number(m[10]);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    return malformed(`${what} is out of range: ${JSON.stringify(text)}`);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const ms = date.getTime() - offsetSign * (offsetHours * 60 + offsetMinutes) * 60_000;
  if (ms < MIN_EPOCH_SECONDS * 1000 || ms > MAX_EPOCH_SECONDS * 1000 + 999) {
    return malformed(`${what} is out of range: ${JSON.stringify(text)}`);
  }
  return new Date(ms);
}

/** CBOR tag 1 content (integer or float seconds since the epoch) → Date. */
export function fromEpochSeconds(value: unknown, what: string): Date {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return malformed(`${what} must be a numeric epoch time`);
  }
  if (value < MIN_EPOCH_SECONDS || value > MAX_EPOCH_SECONDS) {
    return malformed(`${what} is out of range: ${value}`);
  }
  return new Date(Math.trunc(value * 1000));
}
