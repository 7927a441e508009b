/**
 * Registry scopes: trust-store-trust-policy.md § "Registry Scopes Constraints" — a fully qualified repository
 * `host[:port]/repository` or the global scope `*`. The format check is notation-go's validateRegistryScopeFormat
 * (oci.go), whose regular expressions are adapted from distribution's reference grammar. They are matched by
 * hand here: notation's repository pattern allows an empty separator (`[-]*`), which is ambiguous and makes a
 * backtracking engine (V8's, unlike Go's RE2) take exponential time on inputs like `aaaa…a!`. The language
 * accepted is the same.
 */

export const GLOBAL_SCOPE = '*';

const ENSURE = 'make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout';

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
const isLowerAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]` */
function isDomainLabel(label: string): boolean {
  if (label.length === 0) return false;
  if (!isAlnum(label.charCodeAt(0)) || !isAlnum(label.charCodeAt(label.length - 1))) return false;
  for (let i = 1; i < label.length - 1; i++) {
    const c = label.charCodeAt(i);
    if (!isAlnum(c) && c !== 0x2d) return false;
  }
  return true;
}

/** notation's domainRegexp: dot-separated labels, then an optional `:digits`. */
export function isValidScopeDomain(domain: string): boolean {
  const colon = domain.indexOf(':');
  const host = colon < 0 ? domain : domain.slice(0, colon);
  if (colon >= 0) {
    const port = domain.slice(colon + 1);
    if (port.length === 0) return false;
    for (let i = 0; i < port.length; i++) if (!isDigit(port.charCodeAt(i))) return false;
  }
  return host.split('.').every(isDomainLabel);
}

/**
 * One path component: `[a-z0-9]+` runs joined by a separator that is `.`, `_`, `__` or dashes. (notation's
 * `(?:[._]|__|[-]*)` also allows the empty separator, which only merges two runs into one.)
 */
function isPathComponent(component: string): boolean {
  const n = component.length;
  if (n === 0 || !isLowerAlnum(component.charCodeAt(0)) || !isLowerAlnum(component.charCodeAt(n - 1))) return false;
  let i = 0;
  while (i < n) {
    if (isLowerAlnum(component.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && !isLowerAlnum(component.charCodeAt(j))) j++;
    const sep = component.slice(i, j);
    if (sep !== '.' && sep !== '_' && sep !== '__' && !/^-+$/.test(sep)) return false;
    i = j;
  }
  return true;
}

/** notation's repositoryRegexp: path components joined by `/`. */
export function isValidScopeRepository(repository: string): boolean {
  return repository.split('/').every(isPathComponent);
}

/**
 * undefined when `scope` is a valid non-global scope, else notation's message. `*` itself is not a repository:
 * callers handle the global scope before asking.
 */
export function registryScopeProblem(scope: string): string | undefined {
  // notation checks for `*` anywhere first (with a wildcard-specific message), then the shape.
  if (scope.length > 1 && scope.includes('*')) return `registry scope ${JSON.stringify(scope)} with wild card(s) is not valid, ${ENSURE}`;
  const slash = scope.indexOf('/');
  if (slash < 0) return `registry scope ${JSON.stringify(scope)} is not valid, ${ENSURE}`;
  const domain = scope.slice(0, slash);
  const repository = scope.slice(slash + 1);
  if (!isValidScopeDomain(domain) || !isValidScopeRepository(repository)) {
    return `registry scope ${JSON.stringify(scope)} is not valid, ${ENSURE}`;
  }
  return undefined;
}

export function isValidRegistryScope(scope: string): boolean {
  return scope !== GLOBAL_SCOPE && registryScopeProblem(scope) === undefined;
}
