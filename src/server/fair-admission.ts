import type { ServerResponse } from 'node:http';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { GatewayMetrics } from '../platform/metrics.js';
import type { SchedulingMetrics } from '../platform/scheduling-metrics.js';
import { PRIORITY_WEIGHT, type Priority } from '../platform/priority.js';
import { refusal, type Refusal } from './admission.js';

/**
 * Admission control with per-caller fairness around `max` requests in progress (MAX_CONCURRENT_REQUESTS). While
 * fewer are in progress any request takes a slot, so one caller may use every slot the others leave idle. When `max`
 * are in progress, a caller that holds less than its share is still admitted: a flooding caller's in-flight requests
 * must not keep a light one waiting. Shares are weighted by priority (PRIORITY_WEIGHT: high 4, normal 2, low 1, each
 * caller weighing as its latest request): a caller's share is `max` times its weight over the weights of the callers
 * holding slots, itself included, so when full a high-priority caller keeps four times a low-priority one's share and
 * no caller's share is ever zero. A caller holding its share or more is refused at once with 503 and Retry-After, so
 * the flood drains back to its share; requests in progress stay below `max` plus the shares of callers that arrived
 * while it was full (at most twice `max`).
 */
export class FairInFlightLimit {
  private inFlight = 0;
  private readonly held = new Map<string, { count: number; weight: number }>();

  constructor(
    readonly max: number,
    private readonly metrics: GatewayMetrics,
    private readonly scheduling?: Pick<SchedulingMetrics, 'observeInFlightRefusal'>,
  ) {}

  /** Requests in progress now. */
  get active(): number {
    return this.inFlight;
  }

  /** Takes a slot for `caller`'s request of `priority` until the response closes, or returns the refusal. */
  enter(res: ServerResponse, caller: string, priority: Priority = 'normal'): Refusal | undefined {
    const weight = PRIORITY_WEIGHT[priority];
    const holds = this.held.get(caller);
    if (this.inFlight >= this.max) {
      let weights = weight;
      for (const [other, h] of this.held) if (other !== caller) weights += h.weight;
      if ((holds?.count ?? 0) >= (this.max * weight) / weights) return this.refuse(priority);
    }
    this.inFlight++;
    if (holds) {
      holds.count++;
      holds.weight = weight;
    } else {
      this.held.set(caller, { count: 1, weight });
    }
    res.once('close', () => {
      this.inFlight--;
      const h = this.held.get(caller);
      if (h && --h.count <= 0) this.held.delete(caller);
    });
    return undefined;
  }

  private refuse(priority: Priority): Refusal {
    this.metrics.observeOperation(undefined, GatewayErrorCode.OVERLOADED, 0);
    this.scheduling?.observeInFlightRefusal(priority);
    return refusal(
      httpStatusOf(GatewayErrorCode.OVERLOADED),
      `the gateway is at its limit of ${this.max} requests in progress (MAX_CONCURRENT_REQUESTS), and this caller holds its share of them; retry later`,
      { code: GatewayErrorCode.OVERLOADED, retryable: true },
      { 'retry-after': '1' },
    );
  }
}
