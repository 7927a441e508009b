/**
 * What `pullgate doctor` reports: one finding per thing it checked. `problem` means this node can pull around
 * pullgate (or cannot pull at all) and fails the exit code; `warn` is a risk that depends on things doctor
 * cannot see from files (the exact containerd build, who runs `ctr`); `ok` lists what was confirmed, so the
 * human output shows what was looked at and not only what went wrong.
 */

export type FindingLevel = 'ok' | 'warn' | 'problem';

/** Closed set, stable for `--json` consumers and alert routing. */
export type FindingCode =
  | 'containerd_config'
  | 'containerd_config_missing'
  | 'containerd_config_invalid'
  | 'config_path'
  | 'config_path_unset'
  | 'config_path_misplaced'
  | 'mirrors_with_config_path'
  | 'transfer_path_list'
  | 'ctr_transfer_hosts'
  | 'hosts_ok'
  | 'hosts_missing'
  | 'hosts_invalid'
  | 'hosts_no_host_table'
  | 'hosts_server_missing'
  | 'hosts_server_not_mirror'
  | 'hosts_other_host'
  | 'hosts_no_resolve'
  | 'hosts_via_default'
  | 'hosts_unreadable'
  | 'hosts_not_directory'
  | 'default_ok'
  | 'default_missing'
  | 'default_not_gate'
  | 'alias_not_gate'
  | 'policy_scopes'
  | 'policy_scope_never_matches'
  | 'policy_unreadable'
  | 'mirror_live'
  | 'mirror_down'
  | 'audit_socket_ok'
  | 'audit_socket_missing'
  | 'audit_socket_denied'
  | 'audit_socket_unreachable';

export interface Finding {
  readonly level: FindingLevel;
  readonly code: FindingCode;
  readonly message: string;
  /** The registry (as in image references) the finding is about, when it is about one. */
  readonly registry?: string;
  /** The file the finding is about (containerd config or hosts.toml), as doctor read it. */
  readonly file?: string;
}

export const ok = (code: FindingCode, message: string, extra: Partial<Finding> = {}): Finding => ({ level: 'ok', code, message, ...extra });
export const warn = (code: FindingCode, message: string, extra: Partial<Finding> = {}): Finding => ({ level: 'warn', code, message, ...extra });
export const problem = (code: FindingCode, message: string, extra: Partial<Finding> = {}): Finding => ({ level: 'problem', code, message, ...extra });
