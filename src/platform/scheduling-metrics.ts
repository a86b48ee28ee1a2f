import { Counter, Histogram, type Registry } from 'prom-client';
import { PRIORITIES, type Priority } from './priority.js';

/** Metrics of priorities, deadlines and cancellation, registered beside the gateway's others. */
export class SchedulingMetrics {
  private readonly cancelledRequests: Counter<string>;
  private readonly dropped: Counter<string>;
  private readonly itemWait: Histogram<string>;
  private readonly inFlightRefusals: Counter<string>;

  constructor(registry: Registry) {
    this.cancelledRequests = new Counter({
      name: 'gateway_requests_cancelled_total',
      help: 'Requests whose client closed the connection before the answer (their queued model items are dropped)',
      registers: [registry],
    });
    this.dropped = new Counter({
      name: 'gateway_inference_dropped_items_total',
      labelNames: ['model', 'reason', 'priority'],
      registers: [registry],
      help: "Queued items that left without inference, by model, reason (deadline: the request's x-request-timeout; queue-timeout: the queue deadline; cancelled: the client went away) and priority",
    });
    this.itemWait = new Histogram({
      name: 'gateway_inference_item_queue_seconds',
      help: 'Time each inferred item waited in its model queue, by priority',
      labelNames: ['model', 'priority'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.inFlightRefusals = new Counter({
      name: 'gateway_inflight_refusals_total',
      labelNames: ['priority'],
      registers: [registry],
      help: "Requests refused (503 OVERLOADED) because MAX_CONCURRENT_REQUESTS were in progress and their caller held its share, by the request's priority",
    });
    // Every priority from the start: a rate over a series that appears only at the first refusal misses it.
    for (const priority of PRIORITIES) this.inFlightRefusals.inc({ priority }, 0);
  }

  observeInFlightRefusal(priority: Priority): void {
    this.inFlightRefusals.inc({ priority });
  }

  observeCancelledRequest(): void {
    this.cancelledRequests.inc();
  }

  observeDrop(model: string, drop: { reason: string; priority: Priority; count: number }): void {
    this.dropped.inc({ model, reason: drop.reason, priority: drop.priority }, drop.count);
  }

  /** Items of one batch: `count` of them waited `seconds` (prom-client observes one value at a time). */
  observeWaits(model: string, waits: ReadonlyArray<{ priority: Priority; seconds: number; count: number }>): void {
    for (const w of waits) {
      const child = this.itemWait.labels({ model, priority: w.priority });
      for (let i = 0; i < w.count; i++) child.observe(w.seconds);
    }
  }
}
