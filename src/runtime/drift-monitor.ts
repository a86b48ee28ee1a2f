/** One monitored quantity's training distribution: bin edges and the share of training rows per bin. */
export interface BinProfile {
  readonly name: string;
  readonly edges: readonly number[];
  readonly expected: readonly number[];
}

/** baseline.json, as written by a model's training run. */
export interface DriftBaseline {
  readonly source?: string;
  readonly features: readonly BinProfile[];
  readonly output: BinProfile;
}

export type DriftStatus = 'INSUFFICIENT_DATA' | 'STABLE' | 'WATCH' | 'DRIFT';

export interface QuantityDrift {
  readonly name: string;
  readonly psi: number;
  /** Observations the PSI was computed from (those in the window). */
  readonly observations: number;
  readonly status: DriftStatus;
}

export interface DriftReport {
  readonly windowSize: number;
  /** Below this many observations in the window every status is INSUFFICIENT_DATA. */
  readonly minObservations: number;
  readonly observations: number;
  readonly features: readonly QuantityDrift[];
  readonly output: QuantityDrift;
  readonly status: DriftStatus;
}

/** PSI < 0.1 stable, < 0.25 watch, else drift (the usual credit-risk reading). */
export function driftStatus(psi: number): DriftStatus {
  return psi < 0.1 ? 'STABLE' : psi < 0.25 ? 'WATCH' : 'DRIFT';
}

/** Bin of a value: the number of edges at or below it (numpy's searchsorted 'right', as in training). */
function binOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Population Stability Index between expected and actual bin shares, each floored at 1e-4 so an empty
 * bin counts as rare rather than infinite. @example psi([0.5, 0.5], [0.5, 0.5]) === 0
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  return expected.reduce((sum, e, i) => {
    const a = Math.max(actual[i]!, 1e-4);
    const x = Math.max(e, 1e-4);
    return sum + (a - x) * Math.log(a / x);
  }, 0);
}

/**
 * A rolling window of the last `windowSize` observations of a model (input features and one output),
 * kept as bin indices in ring buffers, compared with the training baseline on demand.
 */
export class DriftMonitor {
  private readonly featureBins: Uint16Array[];
  private readonly outputBins: Uint16Array;
  private next = 0;
  private filled = 0;
  private total = 0;

  constructor(
    readonly baseline: DriftBaseline,
    readonly windowSize: number,
    readonly minObservations = 1,
  ) {
    this.featureBins = baseline.features.map(() => new Uint16Array(windowSize));
    this.outputBins = new Uint16Array(windowSize);
  }

  /** Records one inference: its feature values (in the baseline's order) and its monitored output. */
  observe(features: ArrayLike<number>, output: number): void {
    this.baseline.features.forEach((f, j) => (this.featureBins[j]![this.next] = binOf(f.edges, features[j]!)));
    this.outputBins[this.next] = binOf(this.baseline.output.edges, output);
    this.next = (this.next + 1) % this.windowSize;
    this.filled = Math.min(this.filled + 1, this.windowSize);
    this.total++;
  }

  report(): DriftReport {
    const measure = (profile: BinProfile, bins: Uint16Array): QuantityDrift => {
      const counts = new Array<number>(profile.expected.length).fill(0);
      for (let i = 0; i < this.filled; i++) counts[bins[i]!]!++;
      const value = this.filled
        ? psi(
            profile.expected,
            counts.map((c) => c / this.filled),
          )
        : 0;
      return {
        name: profile.name,
        psi: value,
        observations: this.filled,
        status: enough ? driftStatus(value) : 'INSUFFICIENT_DATA',
      };
    };
    const enough = this.filled >= this.minObservations;
    const features = this.baseline.features.map((f, j) => measure(f, this.featureBins[j]!));
    const output = measure(this.baseline.output, this.outputBins);
    const worst = Math.max(output.psi, ...features.map((f) => f.psi));
    return {
      windowSize: this.windowSize,
      minObservations: this.minObservations,
      observations: this.total,
      features,
      output,
      status: enough ? driftStatus(worst) : 'INSUFFICIENT_DATA',
    };
  }
}
