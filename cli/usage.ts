/**
 * The command line's usage texts, its version and its usage error (exit 2), apart from the commands themselves:
 * cli/main.ts imports a command's module only when that command runs, so `pullgate hosts` in the DaemonSet's init
 * container loads the config loader and the hosts writer, not the proxy, the verifier and the webhook (~80 MB
 * RSS and 0.3 s instead of ~120 MB and 0.8 s, against the init container's 128 Mi limit). For the same reason
 * each command's `--help` text lives here: answering it must not load the command.
 */
import { readFileSync } from 'node:fs';

export const DOCTOR_USAGE = `  doctor  [--config FILE] [--containerd-config PATH] [--certs-dir DIR] [--host-root DIR] [--timeout SECONDS] [--json]
                                           check this node's containerd wiring (exit 0 ok, 1 problems, 2 usage)`;

const CONFIG_OPTION = `  --config FILE   YAML or JSON config file; without it the built-in defaults (listen 127.0.0.1:5050,
                  docker.io, the notation config in $XDG_CONFIG_HOME/notation)`;

export const USAGE = `usage: pullgate <command> [options]

commands:
  serve   [--config FILE]                  run the registry mirror (+ admin listener with /metrics /healthz /readyz)
  hosts   [--config FILE] --dir DIR [--default]
                                           write fail-closed containerd hosts.toml files for every configured registry
  hosts   --dir DIR --restore              uninstall: put back the hosts.toml files pullgate replaced, remove its own
${DOCTOR_USAGE}
  verify  [--config FILE] [--json] REF     resolve and verify one image as the mirror would
  audit   [--config FILE] [--containerd-socket PATH] [--json] [--remove]
                                           decide every image containerd already holds against today's policy
  webhook [--config FILE]                  run the admission webhook
  help    [COMMAND]                        this overview, or COMMAND's own usage (same as pullgate COMMAND --help)

Every command answers --help (or -h) with its own usage. pullgate --version (or -v) prints the version.
Without --config, built-in defaults are used (listen 127.0.0.1:5050, docker.io, notation config in
$XDG_CONFIG_HOME/notation).`;

/** Each command's own usage, printed by `pullgate COMMAND --help` and `pullgate help COMMAND`. */
export const COMMAND_USAGE = {
  serve: `usage: pullgate serve [--config FILE]

Run the registry mirror containerd pulls through (listen), and the admin listener (admin: /metrics, /healthz,
/readyz). Config, credentials, trust policy and trust stores reload when they change. On SIGTERM it stops
accepting, lets in-flight pulls finish for up to shutdownGraceMs, then exits 0.

${CONFIG_OPTION}

exit: runs until SIGTERM (then 0); 2 on a usage or config error`,

  hosts: `usage: pullgate hosts [--config FILE] --dir DIR [--default]
       pullgate hosts --dir DIR --restore

Write the fail-closed DIR/<registry>/hosts.toml for every configured registry, so containerd pulls them only
through pullgate. The file it replaces is kept once as hosts.toml.pullgate-backup.

${CONFIG_OPTION}
  --dir DIR       containerd's config_path, e.g. /etc/containerd/certs.d (required)
  --default       also write DIR/_default: registries pullgate does not know are denied, not pulled direct
  --restore       uninstall: put back every hosts.toml pullgate replaced, delete the ones it added, keep
                  files edited since

exit: 0 ok; 2 on a usage or config error`,

  doctor: `usage: pullgate doctor [--config FILE] [--containerd-config PATH] [--certs-dir DIR] [--host-root DIR]
                       [--timeout SECONDS] [--json]

Check this node's containerd wiring: the config's shape and config_path, every registry's hosts.toml, and
the live mirror.

${CONFIG_OPTION}
  --containerd-config PATH  containerd's config, as a host path (default /etc/containerd/config.toml)
  --certs-dir DIR           read hosts.toml files here instead of under containerd's config_path
  --host-root DIR           where the host's filesystem is mounted (default /; /host in the DaemonSet pod)
  --timeout SECONDS         how long to wait for the live mirror (default 3)
  --json                    print the report as JSON

exit: 0 ok (warnings allowed); 1 problems found; 2 on a usage or config error`,

  verify: `usage: pullgate verify [--config FILE] [--json] REF

Resolve and verify one image reference exactly as the mirror would. Prints the pinned reference
(registry/repo@sha256:...) when allowed, or the reasons per signature and per check when denied.

${CONFIG_OPTION}
  --json          print the whole decision as JSON

exit: 0 allowed; 1 denied; 2 on a usage or config error`,

  audit: `usage: pullgate audit [--config FILE] [--containerd-socket PATH] [--json] [--remove]

Decide every image in containerd's store (all namespaces, kubelet's k8s.io included) against the current
policy: manifest bytes from containerd's content store (checked against their digest), signatures from the
registry. Images whose registry is not configured, or whose content is missing, are denied.

${CONFIG_OPTION}
  --containerd-socket PATH   containerd's socket (default: audit.containerdSocket, /run/containerd/containerd.sock)
  --json          one JSON object per image (references, digest, verdict, reason, message, namespaces, containers)
  --remove        remove denied images from containerd's store, except those a running container uses (in_use)

exit: 0 every image allowed; 1 one or more denied; 2 on a usage or config error, or containerd unreachable`,

  webhook: `usage: pullgate webhook [--config FILE]

Run the admission webhook on webhook.listen: POST /validate, POST /mutate (tag pinning), /healthz, /readyz,
/metrics. Its TLS certificate is re-read when it changes.

${CONFIG_OPTION}

exit: runs until SIGTERM; 2 on a usage or config error`,

  help: `usage: pullgate help [COMMAND]
       pullgate COMMAND --help | -h
       pullgate --help | -h
       pullgate --version | -v

Print the overview of all commands, or COMMAND's own usage; or pullgate's version.

exit: 0; 2 for an unknown COMMAND`,
} as const;

export type CommandName = keyof typeof COMMAND_USAGE;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_USAGE, name);
}

/** The version in package.json, read when asked for: every run but --version does without it. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
  return pkg.version;
}

/** The caller got the command line wrong: the message is printed and the exit code is 2. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}
