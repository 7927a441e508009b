/**
 * The `pullgate` command line (contract in DESIGN.md). Exit codes: 0 ok, 1 denied/failed, 2 usage or config
 * error — so scripts and readiness probes can tell "your image was refused" from "you called me wrong".
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { PullgateConfig } from '../config/types.ts';
import { COMMAND_USAGE, USAGE, UsageError, isCommand, packageVersion } from './usage.ts';

// The config loader (YAML, the image-policy parser) and the error classes are imported when a command needs
// them, not at start: `--help`, `--version` and usage errors then load main and usage only, and in the
// bundle (scripts/build.ts) each command's chunk carries what it uses (issue 16: start-up and footprint).
async function loadConfig(file: string | undefined): Promise<PullgateConfig> {
  return (await import('../config/load.ts')).loadConfig(file);
}

/** Errors that mean "you called me wrong" or "your config is wrong": exit 2 with the message. */
async function isUsageLike(err: unknown): Promise<boolean> {
  if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return true;
  const [{ ConfigError }, { TrustPolicyError, TrustStoreError }, { CredentialsError }, { TlsFilesError }] = await Promise.all([
    import('../config/fields.ts'),
    import('../verifiers/notation/trust/errors.ts'),
    import('../registry/credentials.ts'),
    import('../webhook/tls-files-error.ts'),
  ]);
  return err instanceof ConfigError || err instanceof TrustPolicyError || err instanceof TrustStoreError || err instanceof CredentialsError || err instanceof TlsFilesError;
}

const HELP = new Set(['--help', '-h']);
// -v too, as node and npm do: pullgate has no verbose flag to confuse it with (verbosity is logLevel).
const VERSION = new Set(['--version', '-v']);

// Each command's module is imported when that command runs (see cli/usage.ts for why).
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || HELP.has(command)) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (VERSION.has(command)) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  // `COMMAND --help` anywhere before a `--` answers with the command's own usage and does nothing else: no
  // config is loaded, nothing starts, and the command's module is not imported.
  const options = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (isCommand(command) && options.some((a) => HELP.has(a))) {
    process.stdout.write(`${COMMAND_USAGE[command]}\n`);
    return 0;
  }
  if (command === 'help') {
    if (rest.length === 0) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const topic = rest[0]!;
    if (rest.length > 1 || !isCommand(topic)) {
      process.stderr.write(`pullgate: help: ${rest.length > 1 ? 'one command at most' : `unknown command "${topic}"`}\n\n${COMMAND_USAGE.help}\n`);
      return 2;
    }
    process.stdout.write(`${COMMAND_USAGE[topic]}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'serve': {
        const { values } = parse(rest, { config: { type: 'string' } });
        const { serveCommand } = await import('./serve.ts');
        await serveCommand(await loadConfig(values.config as string | undefined));
        return -1; // keeps running
      }
      case 'hosts': {
        const { values } = parse(rest, { config: { type: 'string' }, dir: { type: 'string' }, default: { type: 'boolean' }, restore: { type: 'boolean' } });
        if (typeof values.dir !== 'string') throw new UsageError('hosts: --dir DIR is required (containerd\'s config_path, e.g. /etc/containerd/certs.d)');
        const { hostsCommand, restoreCommand } = await import('./hosts.ts');
        if (values.restore === true) {
          for (const r of await restoreCommand(values.dir)) process.stdout.write(`${r.registry}: ${r.result}\n`);
          return 0;
        }
        const results = await hostsCommand(await loadConfig(values.config as string | undefined), values.dir, values.default === true);
        for (const r of results) process.stdout.write(`${r.registry}: ${r.result}\n`);
        return 0;
      }
      case 'doctor': {
        const { doctorCommand } = await import('./doctor.ts');
        return await doctorCommand(rest);
      }
      case 'webhook': {
        const { values } = parse(rest, { config: { type: 'string' } });
        const { webhookCommand } = await import('./webhook.ts');
        await webhookCommand(await loadConfig(values.config as string | undefined));
        return -1; // keeps running
      }
      case 'verify': {
        const { values, positionals } = parseArgs({ args: rest, options: { config: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
        if (positionals.length !== 1) throw new UsageError('verify: exactly one image reference is required, e.g. pullgate verify registry.example/app:v1');
        const { verifyCommand } = await import('./verify.ts');
        const out = await verifyCommand(await loadConfig(values.config), positionals[0]!, values.json === true);
        process.stdout.write(out.stdout);
        process.stderr.write(out.stderr);
        return out.code;
      }
      case 'audit': {
        const { values } = parse(rest, { config: { type: 'string' }, 'containerd-socket': { type: 'string' }, json: { type: 'boolean' }, remove: { type: 'boolean' } });
        const config = await loadConfig(values.config as string | undefined);
        const { auditCommand } = await import('./audit.ts');
        const socket = (values['containerd-socket'] as string | undefined) ?? config.audit?.containerdSocket ?? '/run/containerd/containerd.sock';
        const out = await auditCommand(config, { socket, remove: values.remove === true || config.audit?.remove === true }, values.json === true);
        process.stdout.write(out.stdout);
        process.stderr.write(out.stderr);
        return out.code;
      }
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    if (await isUsageLike(err)) {
      process.stderr.write(`pullgate: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

function parse(args: string[], options: ParseArgsOptionsConfig) {
  return parseArgs({ args, options, allowPositionals: false, strict: true });
}
