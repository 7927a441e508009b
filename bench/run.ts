/**
 * `npm run bench`: every benchmark in one run on this machine, printed as a table and written to
 * bench/results/latest.json; `--readme` also replaces the table between the bench markers in README.md.
 * Numbers are ratios to a baseline measured in the same run; absolute values depend on the machine.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ensureBenchPeers } from './peers.ts';
import { benchPullPath, type BenchRow } from './pull-path.ts';
import { benchVerify } from './verify.ts';
import { benchWebhook } from './webhook.ts';
import { benchAudit } from './audit.ts';
import { benchNotaryV1, NOTARY_BENCH_FULL, NOTARY_BENCH_QUICK } from './notaryv1.ts';
import { benchCosign, COSIGN_BENCH_FULL, COSIGN_BENCH_QUICK } from './cosign.ts';
import { benchFootprint } from './footprint.ts';
import { benchWan } from './wan.ts';
import { benchSoak } from './soak.ts';
import { benchBudgetOverhead, BUDGET_BENCH_FULL, BUDGET_BENCH_QUICK } from './budget-overhead.ts';
import { gateBuild, parseGateKind, type GateBuild } from './image-gate.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
/** `--only=pull-path|verify|webhook|audit|notaryv1|cosign|budget-overhead|wan|soak|footprint` runs one group (for iterating on it); the README table needs all. */
const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length);
const wanted = (name: string) => only === undefined || only === name;
/** `--soak-seconds=N`: a longer soak than the default 4 minutes (the README's soak rows use 1800). */
const soakArg = [...args].find((a) => a.startsWith('--soak-seconds='));
const soakSeconds = soakArg === undefined ? 240 : Number(soakArg.slice('--soak-seconds='.length));
if (!Number.isInteger(soakSeconds) || soakSeconds < 60 || soakSeconds > 3600) {
  process.stderr.write(`--soak-seconds must be a whole number from 60 to 3600 (got ${soakArg})\n`);
  process.exit(2);
}

/**
 * `--gate=image|sources`: the gate the pull-path and WAN benchmarks run (default: the image's bundle, flags and
 * malloc settings; footprint and soak choose their own, see their files). Cosign, Notary v1 and budget-overhead
 * compare against an older tree of the sources and run the sources.
 */
const gateKind = (() => {
  try {
    return parseGateKind([...args].find((a) => a.startsWith('--gate='))?.slice('--gate='.length));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
})();

function table(rows: readonly BenchRow[]): string {
  const lines = ['| benchmark | target | result | vs baseline | notes |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const value = r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(2);
    lines.push(`| ${r.group} | ${r.target} | ${value} ${r.unit} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`} | ${r.note ?? ''} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (!ensureBenchPeers()) process.exit(1);
  const rows: BenchRow[] = [];
  const gatedRows = wanted('pull-path') || wanted('wan');
  // The sources need no build; nothing else here runs the gate this picks.
  const gate = await gateBuild(gatedRows ? gateKind : 'sources');
  try {
    await runAll(rows, gate);
  } finally {
    gate.remove();
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  const gateNote = gatedRows ? ` The gate in the pull-path and WAN rows: \`${gate.label}\`.` : '';
  const md = `Command: \`npm run bench\` (${new Date().toISOString().slice(0, 10)}, ${machine}; client, proxy and registry share the machine).${gateNote}\n\n${table(rows)}`;
  process.stdout.write(`${md}\n`);
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  writeFileSync(`${ROOT}bench/results/latest.json`, JSON.stringify({ machine, ...(gatedRows ? { gate: gate.label } : {}), rows }, null, 2));
  if (args.has('--readme') && only === undefined) {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const updated = readme.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${md}\n<!-- bench:end -->`);
    writeFileSync(`${ROOT}README.md`, updated);
  }
}

async function runAll(rows: BenchRow[], gate: GateBuild): Promise<void> {
  if (wanted('pull-path')) rows.push(...(await benchPullPath(quick ? { seconds: 2, clients: 2, rounds: 1, blobRounds: 2, coldImages: 8, gate } : { seconds: 5, clients: 4, rounds: 2, blobRounds: 5, coldImages: 8, gate })));
  if (wanted('verify')) rows.push(...(await benchVerify()));
  if (wanted('webhook')) rows.push(...(await benchWebhook()));
  if (wanted('audit')) rows.push(...(await benchAudit()));
  if (wanted('notaryv1')) rows.push(...(await benchNotaryV1(quick ? NOTARY_BENCH_QUICK : NOTARY_BENCH_FULL)));
  if (wanted('cosign')) rows.push(...(await benchCosign(quick ? COSIGN_BENCH_QUICK : COSIGN_BENCH_FULL)));
  if (wanted('budget-overhead')) rows.push(...(await benchBudgetOverhead(quick ? BUDGET_BENCH_QUICK : BUDGET_BENCH_FULL)));
  if (wanted('wan')) rows.push(...(await benchWan(quick ? { rtts: [20, 50], rounds: 2, gate } : { rtts: [20, 50], rounds: 5, gate })));
  if (wanted('soak')) rows.push(...(await benchSoak(quick ? { seconds: 60, workers: 4 } : { seconds: soakSeconds, workers: 4 })));
  if (wanted('footprint')) rows.push(...(await benchFootprint(quick ? { starts: 3, freshImages: 4, loads: 1 } : { starts: 7, freshImages: 8, loads: 5 })));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
