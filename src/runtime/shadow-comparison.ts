/** How one input's answer from the shadow version compared with the active version's. */
export interface ShadowOutcome {
  /** The two versions reached the same outcome (for credit: the same decision). */
  readonly agreed: boolean;
  /** Absolute difference of the compared quantity (for credit: the probability of default). */
  readonly difference: number;
}

export interface ShadowReport {
  readonly version: string;
  readonly since: Date;
  /** Inputs both versions answered. */
  readonly compared: number;
  /** Inputs the shadow failed or had no room for (its queue is bounded so that it never slows the active version). */
  readonly failed: number;
  /** Share of compared inputs with the same outcome; null before the first. */
  readonly agreementRate: number | null;
  readonly meanAbsoluteDifference: number | null;
}

/** Running agreement between a shadow version and the active one, since the shadow started. */
export class ShadowComparison {
  private readonly since = new Date();
  private compared = 0;
  private agreed = 0;
  private differenceSum = 0;
  private failed = 0;

  constructor(readonly version: string) {}

  record(outcomes: ReadonlyArray<ShadowOutcome | Error>): void {
    for (const o of outcomes) {
      if (o instanceof Error) {
        this.failed++;
        continue;
      }
      this.compared++;
      if (o.agreed) this.agreed++;
      this.differenceSum += o.difference;
    }
  }

  report(): ShadowReport {
    const n = this.compared;
    return {
      version: this.version,
      since: this.since,
      compared: n,
      failed: this.failed,
      agreementRate: n ? this.agreed / n : null,
      meanAbsoluteDifference: n ? this.differenceSum / n : null,
    };
  }
}
