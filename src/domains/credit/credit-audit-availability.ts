import type { CardAccount } from './credit.features.js';
import type { AuditContext, AuditFilter, CreditAuditStore, CreditDecisionRecord } from './credit-audit.js';
import type { CreditAssessmentResult } from './credit.service.js';

/**
 * A decision record that knows whether it can write. A failed write marks it unavailable (readiness reports
 * the credit capability down) and starts probing the store with a small write every `probeMs`; the first
 * probe or request write that succeeds marks it available again, so it recovers without an operator.
 */
export class AuditAvailability implements CreditAuditStore {
  private failure: { reason: string; since: Date } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly store: CreditAuditStore,
    private readonly onChange: (available: boolean, reason?: string) => void = () => undefined,
    private readonly probeMs = 1000,
  ) {}

  /** Whether the last write or probe succeeded; why not, when it did not. */
  get status(): { available: true } | { available: false; reason: string; since: Date } {
    return this.failure ? { available: false, ...this.failure } : { available: true };
  }

  async record(
    context: AuditContext,
    accounts: readonly CardAccount[],
    results: ReadonlyArray<CreditAssessmentResult | Error>,
  ): Promise<void> {
    try {
      await this.store.record(context, accounts, results);
    } catch (error) {
      this.down((error as Error).message);
      throw error;
    }
    this.up();
  }

  query(filter: AuditFilter): Promise<CreditDecisionRecord[]> {
    return this.store.query(filter);
  }

  probe(): Promise<void> {
    return this.store.probe();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.store.close();
  }

  private down(reason: string): void {
    if (!this.failure) this.onChange(false, reason);
    this.failure = { reason, since: this.failure?.since ?? new Date() };
    this.scheduleProbe();
  }

  private up(): void {
    if (!this.failure) return;
    this.failure = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.onChange(true);
  }

  private scheduleProbe(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.store.probe().then(
        () => this.up(),
        (error: unknown) => {
          if (this.failure) this.failure.reason = (error as Error).message;
          this.scheduleProbe();
        },
      );
    }, this.probeMs);
    this.timer.unref();
  }
}
