import type { ServerResponse } from 'node:http';
import { GatewayErrorCode } from '../platform/errors.js';
import type { GatewayMetrics } from '../platform/metrics.js';

/** A request refused before it is read: status, headers and a GraphQL-shaped body. */
export interface SlotRefusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
}

/** The answer for a caller that disconnected while it waited: nobody reads it. */
const gone: SlotRefusal = { status: 499, headers: {}, body: { errors: [] } };

interface Waiter {
  readonly caller: string;
  readonly res: ServerResponse;
  readonly resolve: (refusal: SlotRefusal | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Admission control with per-caller fairness: at most `max` requests in progress (MAX_CONCURRENT_REQUESTS). While
 * a slot is free a request takes it, whoever sends it, so one caller may use every slot others leave idle. When all
 * are taken, a caller that already holds its share (`max` over the callers holding slots) is refused at once with
 * 503 and Retry-After; one below its share waits up to `maxWaitMs` for the next slot that frees, which goes to the
 * waiting caller holding the fewest (oldest first among equals). So a caller flooding the gateway is refused for
 * its excess, and cannot keep a light caller out.
 */
export class FairInFlightLimit {
  private inFlight = 0;
  private readonly held = new Map<string, number>();
  /** Waiting requests per caller, oldest first (Map iteration order: callers by first arrival). */
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(readonly max: number, private readonly metrics: GatewayMetrics, private readonly maxWaitMs = 2000) {}

  /** Requests in progress now. */
  get active(): number {
    return this.inFlight;
  }

  /** Takes a slot for `caller` until the response closes, waiting for one when all are taken; or the refusal. */
  enter(res: ServerResponse, caller: string): Promise<SlotRefusal | undefined> | undefined {
    // Slots free only while nobody waits: a release hands its slot to a waiter at once.
    if (this.inFlight < this.max) {
      this.take(res, caller);
      return undefined;
    }
    const holds = this.held.get(caller) ?? 0;
    const callers = this.held.size + (holds === 0 ? 1 : 0);
    const queue = this.waiting.get(caller) ?? [];
    if (holds + queue.length >= this.max / callers) return Promise.resolve(this.refuse());
    return new Promise((resolve) => {
      const waiter: Waiter = {
        caller, res, resolve,
        timer: setTimeout(() => {
          this.remove(waiter);
          resolve(this.refuse());
        }, this.maxWaitMs),
      };
      queue.push(waiter);
      this.waiting.set(caller, queue);
      // A caller that goes away while waiting gives its place up.
      res.once('close', () => {
        if (this.remove(waiter)) {
          clearTimeout(waiter.timer);
          resolve(gone);
        }
      });
    });
  }

  private take(res: ServerResponse, caller: string): void {
    this.inFlight++;
    this.held.set(caller, (this.held.get(caller) ?? 0) + 1);
    res.once('close', () => this.release(caller));
  }

  private release(caller: string): void {
    this.inFlight--;
    const n = (this.held.get(caller) ?? 1) - 1;
    if (n > 0) this.held.set(caller, n);
    else this.held.delete(caller);
    this.admitWaiting();
  }

  /** Gives free slots to the waiting callers that hold the fewest. */
  private admitWaiting(): void {
    while (this.inFlight < this.max && this.waiting.size > 0) {
      let next: Waiter | undefined;
      let fewest = Infinity;
      for (const [caller, queue] of this.waiting) {
        const holds = this.held.get(caller) ?? 0;
        if (holds < fewest) {
          fewest = holds;
          next = queue[0];
        }
      }
      this.remove(next!);
      clearTimeout(next!.timer);
      if (next!.res.destroyed || next!.res.writableEnded) {
        next!.resolve(gone);
        continue;
      }
      this.take(next!.res, next!.caller);
      next!.resolve(undefined);
    }
  }

  private remove(waiter: Waiter): boolean {
    const queue = this.waiting.get(waiter.caller);
    const i = queue?.indexOf(waiter) ?? -1;
    if (i < 0) return false;
    queue!.splice(i, 1);
    if (queue!.length === 0) this.waiting.delete(waiter.caller);
    return true;
  }

  private refuse(): SlotRefusal {
    this.metrics.observeOperation(undefined, GatewayErrorCode.OVERLOADED, 0);
    return {
      status: 503, headers: { 'retry-after': '1' },
      body: { errors: [{ message: `the gateway is at its limit of ${this.max} requests in progress (MAX_CONCURRENT_REQUESTS), and this caller holds its share of them; retry later`,
        extensions: { code: GatewayErrorCode.OVERLOADED, retryable: true } }] },
    };
  }
}
