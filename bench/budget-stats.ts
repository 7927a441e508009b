/**
 * "Within noise" for bench/budget-overhead.ts, said with numbers: how far apart two sets of latency samples from
 * one machine land when nothing differs between them. Two views:
 * - a permutation band: pool old and new samples, relabel them at random (same group sizes) many times, and take
 *   the 2.5–97.5 % range of median(B)/median(A); a new/old ratio inside it is what relabelling alone produces;
 * - the old gate against itself: its samples from even rounds against those from odd rounds.
 * A fixed-seed generator keeps the band the same for the same samples.
 */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank quantile (q in 0..1). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** mulberry32: small, seedable, good enough to shuffle samples and to draw a soak's repeatable fault sequence. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The [2.5 %, 97.5 %] range of median(B)/median(A) over `draws` random relabellings of a ∪ b. */
export function permutationBand(a: readonly number[], b: readonly number[], stat: (xs: readonly number[]) => number = median, draws = 2000): [number, number] {
  const pool = [...a, ...b];
  const next = random(0x12c0ffee);
  const ratios: number[] = [];
  for (let d = 0; d < draws; d++) {
    // Fisher–Yates on a copy; the first |a| are "A".
    const p = [...pool];
    for (let i = p.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    ratios.push(stat(p.slice(a.length)) / stat(p.slice(0, a.length)));
  }
  ratios.sort((x, y) => x - y);
  return [ratios[Math.floor(0.025 * draws)]!, ratios[Math.floor(0.975 * draws)]!];
}

export interface Spread {
  /** median(new) / median(old). */
  readonly ratio: number;
  readonly band: [number, number];
  /** p90(new) / p90(old), and its band. */
  readonly p90Ratio: number;
  readonly p90Band: [number, number];
  /** The old gate's odd rounds against its even rounds (median ratio). */
  readonly oldHalves: number;
  readonly withinNoise: boolean;
}

export function spread(old: readonly number[], cur: readonly number[], oldRounds: readonly number[]): Spread {
  const ratio = median(cur) / median(old);
  const band = permutationBand(old, cur);
  const p90 = (xs: readonly number[]) => quantile(xs, 0.9);
  const even = old.filter((_, i) => oldRounds[i]! % 2 === 0);
  const odd = old.filter((_, i) => oldRounds[i]! % 2 === 1);
  return {
    ratio,
    band,
    p90Ratio: p90(cur) / p90(old),
    p90Band: permutationBand(old, cur, p90),
    oldHalves: even.length > 0 && odd.length > 0 ? median(odd) / median(even) : NaN,
    withinNoise: ratio >= band[0] && ratio <= band[1],
  };
}

/** One sentence for a README note. */
export function describeSpread(old: readonly number[], cur: readonly number[], oldRounds: readonly number[]): string {
  const s = spread(old, cur, oldRounds);
  const x = (v: number) => `${v.toFixed(2)}×`;
  return `new/old ${x(s.ratio)} at p50 (noise band ${x(s.band[0])}–${x(s.band[1])}: ${s.withinNoise ? 'within noise' : 'outside the noise band'}), ` +
    `${x(s.p90Ratio)} at p90 (band ${x(s.p90Band[0])}–${x(s.p90Band[1])}); old vs old, odd/even rounds: ${x(s.oldHalves)}`;
}

/** The gates' CPU per request: new/old of the medians and its permutation band. */
export function describeCpu(old: readonly number[], cur: readonly number[]): string {
  const ratio = median(cur) / median(old);
  const [lo, hi] = permutationBand(old, cur);
  return `new/old ${ratio.toFixed(2)}×, band ${lo.toFixed(2)}×–${hi.toFixed(2)}×${ratio >= lo && ratio <= hi ? '' : ', outside'}`;
}
