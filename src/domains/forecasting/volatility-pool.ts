import { Piscina } from 'piscina';
import { GatewayError, GatewayErrorCode } from '../../platform/errors.js';
import type { VolatilityEstimate, VolatilityEstimator } from './forecast.volatility.js';

/** Series waiting for a worker beyond which new ones are refused (OVERLOADED) rather than queued for seconds. */
const MAX_QUEUED_SERIES = 2000;

/**
 * Volatility estimation on a pool of worker threads (its share of CPU_BUDGET, config.cpu.volatilityThreads),
 * so a request with hundreds of series never stalls the gateway's other callers.
 */
export class VolatilityPool {
  private readonly pool: Piscina;

  constructor(readonly threads: number) {
    this.pool = new Piscina({
      filename: new URL('./volatility.worker.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: threads,
      maxQueue: MAX_QUEUED_SERIES,
    });
  }

  /** Worker threads started now (they start as work queues, up to `threads`). */
  get started(): number {
    return this.pool.threads.length;
  }

  readonly estimate: VolatilityEstimator = async (closes, horizon) => {
    // Refused before piscina would: its own refusal is an Error told apart only by its message.
    if (this.pool.queueSize >= MAX_QUEUED_SERIES) {
      throw new GatewayError(
        `volatility estimation is overloaded: ${MAX_QUEUED_SERIES} series are waiting; retry later`,
        GatewayErrorCode.OVERLOADED,
        { retryable: true },
      );
    }
    return (await this.pool.run({ closes: Float64Array.from(closes), horizon })) as VolatilityEstimate;
  };

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
