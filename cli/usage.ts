/**
 * The command line's usage text and its usage error (exit 2), apart from the commands themselves: cli/main.ts
 * imports a command's module only when that command runs, so `pullgate hosts` in the DaemonSet's init container
 * loads the config loader and the hosts writer, not the proxy, the verifier and the webhook (~80 MB RSS and
 * 0.3 s instead of ~120 MB and 0.8 s, against the init container's 128 Mi limit).
 */

export const DOCTOR_USAGE = `  doctor  [--config FILE] [--containerd-config PATH] [--certs-dir DIR] [--host-root DIR] [--json]
                                           check this node's containerd wiring (exit 0 ok, 1 problems, 2 usage)`;

export const USAGE = `usage: pullgate <command> [options]

commands:
  serve   [--config FILE]                  run the registry mirror (+ admin listener with /metrics /healthz /readyz)
  hosts   [--config FILE] --dir DIR [--default]
                                           write fail-closed containerd hosts.toml files for every configured registry
  hosts   --dir DIR --restore              uninstall: put back the hosts.toml files pullgate replaced, remove its own
${DOCTOR_USAGE}
  verify  [--config FILE] [--json] REF     resolve and verify one image as the mirror would
  webhook [--config FILE]                  run the admission webhook

Without --config, built-in defaults are used (listen 127.0.0.1:5050, docker.io, notation config in
$XDG_CONFIG_HOME/notation).`;

/** The caller got the command line wrong: the message is printed and the exit code is 2. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}
