/**
 * Micro-benchmark timing shared by the primitives benchmarks (bench/envelope.ts, bench/x509.ts): warm up, then
 * sample one call at a time with the high-resolution clock until both a minimum sample count and a time budget
 * are reached, and report p50/p99 in microseconds.
 */

export interface Row {
  readonly name: string;
  readonly iterations: number;
  readonly p50_us: number;
  readonly p99_us: number;
}

export interface MeasureOptions {
  /** Calls made before sampling starts. */
  readonly warmup: number;
  /** Samples taken at least, even past the time budget. */
  readonly minSamples: number;
  /** Time budget in milliseconds (default 400); sampling stops at 20,000 samples in any case. */
  readonly budgetMs?: number;
}

const MAX_SAMPLES = 20_000;

function round(us: number): number {
  return Math.round(us * 10) / 10;
}

export type Measure = (name: string, fn: () => unknown) => Row;

/** A `measure(name, fn)` giving the p50/p99 of `fn`'s duration under `options`. */
export function timer(options: MeasureOptions): Measure {
  return (name, fn) => measure(name, fn, options);
}

function measure(name: string, fn: () => unknown, options: MeasureOptions): Row {
  for (let i = 0; i < options.warmup; i++) fn();
  const samples: number[] = [];
  const end = performance.now() + (options.budgetMs ?? 400);
  while ((samples.length < options.minSamples || performance.now() < end) && samples.length < MAX_SAMPLES) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { name, iterations: samples.length, p50_us: round(at(0.5)), p99_us: round(at(0.99)) };
}

/** A fixed-width table of rows, one per line. */
export function formatRows(rows: readonly Row[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = [`${'case'.padEnd(width)}  ${'p50 µs'.padStart(9)}  ${'p99 µs'.padStart(9)}  ${'n'.padStart(6)}`];
  for (const r of rows) {
    lines.push(`${r.name.padEnd(width)}  ${r.p50_us.toFixed(1).padStart(9)}  ${r.p99_us.toFixed(1).padStart(9)}  ${String(r.iterations).padStart(6)}`);
  }
  return lines.join('\n');
}
