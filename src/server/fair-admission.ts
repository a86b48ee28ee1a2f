import type { ServerResponse } from 'node:http';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { GatewayMetrics } from '../platform/metrics.js';
import { refusal, type Refusal } from './admission.js';

/**
 * Admission control with per-caller fairness around `max` requests in progress (MAX_CONCURRENT_REQUESTS). While
 * fewer are in progress any request takes a slot, so one caller may use every slot the others leave idle. When `max`
 * are in progress, a caller that holds less than its share (`max` over the callers holding slots, itself included)
 * is still admitted: a flooding caller's in-flight requests must not keep a light one waiting. A caller holding its
 * share or more is refused at once with 503 and Retry-After, so the flood drains back to its share; requests in
 * progress stay below `max` plus the shares of callers that arrived while it was full (at most twice `max`).
 */
export class FairInFlightLimit {
  private inFlight = 0;
  private readonly held = new Map<string, number>();

  constructor(readonly max: number, private readonly metrics: GatewayMetrics) {}

  /** Requests in progress now. */
  get active(): number {
    return this.inFlight;
  }

  /** Takes a slot for `caller` until the response closes, or returns the refusal. */
  enter(res: ServerResponse, caller: string): Refusal | undefined {
    const holds = this.held.get(caller) ?? 0;
    if (this.inFlight >= this.max) {
      const callers = this.held.size + (holds === 0 ? 1 : 0);
      if (holds >= this.max / callers) return this.refuse();
    }
    this.inFlight++;
    this.held.set(caller, holds + 1);
    res.once('close', () => {
      this.inFlight--;
      const n = (this.held.get(caller) ?? 1) - 1;
      if (n > 0) this.held.set(caller, n);
      else this.held.delete(caller);
    });
    return undefined;
  }

  private refuse(): Refusal {
    this.metrics.observeOperation(undefined, GatewayErrorCode.OVERLOADED, 0);
    return refusal(httpStatusOf(GatewayErrorCode.OVERLOADED),
      `the gateway is at its limit of ${this.max} requests in progress (MAX_CONCURRENT_REQUESTS), and this caller holds its share of them; retry later`,
      { code: GatewayErrorCode.OVERLOADED, retryable: true }, { 'retry-after': '1' });
  }
}
