import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AnswerCache, AnswerCacheObserver } from './answer-cache.js';
import { GatewayErrorCode } from './errors.js';

export interface BatchObservation {
  readonly size: number;
  readonly queueSeconds: number;
  readonly computeSeconds: number;
  readonly failedItems: number;
}

/** Prometheus metrics of the gateway, named in the spirit of Triton/TorchServe; one set per process. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly inferenceItems = new Counter({
    name: 'gateway_inference_items_total',
    help: 'Items inferred, by model',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly inferenceBatches = new Counter({
    name: 'gateway_inference_batches_total',
    help: 'Runtime calls (batches), by model',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly inferenceErrors = new Counter({
    name: 'gateway_inference_errors_total',
    labelNames: ['model', 'code'],
    registers: [this.registry],
    help: 'Inference errors by model and code: INFERENCE_FAILED for items the runtime failed, else the code of a refused submission (OVERLOADED, MODEL_UNAVAILABLE)',
  });
  private readonly queueSeconds = new Histogram({
    name: 'gateway_inference_queue_seconds',
    help: 'Time the oldest item of a batch waited in the model queue',
    labelNames: ['model'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly computeSeconds = new Histogram({
    name: 'gateway_inference_compute_seconds',
    help: 'Runtime time of one batch',
    labelNames: ['model'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'gateway_inference_batch_size',
    help: 'Items per runtime call',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: 'gateway_graphql_operations_total',
    help: 'GraphQL operations, by name and outcome (ok or the first error code)',
    labelNames: ['operation', 'outcome'],
    registers: [this.registry],
  });
  private readonly executions = new Counter({
    name: 'gateway_graphql_executions_total',
    help: 'GraphQL operations executed with GRAPHQL_EXECUTOR=compiled, by executor: compiled (graphql-jit) or graphql-js (first use of a document, mutations, variables that fail coercion)',
    labelNames: ['executor'],
    registers: [this.registry],
  });
  private readonly wouldRefuse = new Counter({
    name: 'gateway_demand_control_would_refuse_total',
    registers: [this.registry],
    help: 'Operations over MAX_QUERY_COMPLEXITY that DEMAND_CONTROL=measure let run (enforce would have refused them as QUERY_TOO_COMPLEX)',
  });
  private readonly operationSeconds = new Histogram({
    name: 'gateway_graphql_operation_seconds',
    help: 'GraphQL operation latency, by name',
    labelNames: ['operation'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Exports drift as gauges, read at scrape time: gateway_model_psi{model, quantity}. */
  watchDrift(read: () => Array<{ model: string; quantities: Array<{ name: string; psi: number }> }>): void {
    new Gauge({
      name: 'gateway_model_psi',
      help: 'Population Stability Index of live traffic against the training baseline, by model and quantity',
      labelNames: ['model', 'quantity'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of read()) for (const q of m.quantities) this.set({ model: m.model, quantity: q.name }, q.psi);
      },
    });
  }

  /** Exports what serves, read at scrape time: gateway_model_info{model, version, sha256} = 1 for each loaded model. */
  watchModels(read: () => ReadonlyArray<{ name: string; version: string; sha256: string | null }>): void {
    new Gauge({
      name: 'gateway_model_info',
      help: 'The version and artefact SHA-256 each model serves (1 while it serves them; sha256 is empty for a remote model)',
      labelNames: ['model', 'version', 'sha256'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of read()) this.set({ model: m.name, version: m.version, sha256: m.sha256 ?? '' }, 1);
      },
    });
  }

  /**
   * Exports each shadow version's comparison with the active one, read at scrape time:
   * gateway_shadow_compared, gateway_shadow_agreement_rate and gateway_shadow_mean_abs_difference{model, version}.
   */
  watchShadows(
    read: () => Array<{
      model: string;
      version: string;
      compared: number;
      agreementRate: number | null;
      meanAbsoluteDifference: number | null;
    }>,
  ): void {
    const gauge = (name: string, help: string, value: (s: ReturnType<typeof read>[number]) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['model', 'version'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of read()) {
            const v = value(s);
            if (v !== null) this.set({ model: s.model, version: s.version }, v);
          }
        },
      });
    gauge(
      'gateway_shadow_compared',
      'Inputs both the shadow version and the active one answered, since the shadow started',
      (s) => s.compared,
    );
    gauge(
      'gateway_shadow_agreement_rate',
      'Share of compared inputs where the shadow version reached the same outcome (credit: decision)',
      (s) => s.agreementRate,
    );
    gauge(
      'gateway_shadow_mean_abs_difference',
      'Mean absolute difference of the compared quantity (credit: PD) between the shadow and the active version',
      (s) => s.meanAbsoluteDifference,
    );
  }

  /** Counters of the answer cache, by cache (the model's name, forecast, prices) and level (local, redis). */
  readonly answerCache: AnswerCacheObserver = (() => {
    const registers = [this.registry];
    const hits = new Counter({
      name: 'gateway_answer_cache_hits_total',
      help: 'Answers found in the answer cache, by cache and level',
      labelNames: ['cache', 'level'],
      registers,
    });
    const misses = new Counter({
      name: 'gateway_answer_cache_misses_total',
      help: 'Answers not found in the answer cache, by cache and level (a local miss is looked up in Redis when configured)',
      labelNames: ['cache', 'level'],
      registers,
    });
    const evictions = new Counter({
      name: 'gateway_answer_cache_evictions_total',
      help: 'Local answers evicted to stay within ANSWER_CACHE_MAX_BYTES, by cache',
      labelNames: ['cache'],
      registers,
    });
    const redisErrors = new Counter({
      name: 'gateway_answer_cache_redis_errors_total',
      help: 'Redis commands of the answer cache that failed or timed out (the answers were computed), by cache',
      labelNames: ['cache'],
      registers,
    });
    return {
      lookups: (cache, level, hit, miss) => {
        if (hit) hits.inc({ cache, level }, hit);
        if (miss) misses.inc({ cache, level }, miss);
      },
      evicted: (cache) => evictions.inc({ cache }),
      redisError: (cache) => redisErrors.inc({ cache }),
    };
  })();

  /** Exports the answer cache's local size, read at scrape time: gateway_answer_cache_bytes{cache}, _entries{cache}, _max_bytes. */
  watchAnswerCache(cache: AnswerCache): void {
    const registers = [this.registry];
    new Gauge({
      name: 'gateway_answer_cache_bytes',
      help: 'Estimated bytes of the answers held locally, by cache (together at most gateway_answer_cache_max_bytes)',
      labelNames: ['cache'],
      registers,
      collect() {
        this.reset();
        for (const u of cache.usage()) this.set({ cache: u.cache }, u.bytes);
      },
    });
    new Gauge({
      name: 'gateway_answer_cache_entries',
      help: 'Answers held locally, by cache',
      labelNames: ['cache'],
      registers,
      collect() {
        this.reset();
        for (const u of cache.usage()) this.set({ cache: u.cache }, u.entries);
      },
    });
    new Gauge({
      name: 'gateway_answer_cache_max_bytes',
      help: 'ANSWER_CACHE_MAX_BYTES (0: the cache is off)',
      registers,
      collect() {
        this.set(cache.maxBytes);
      },
    });
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' }); // gateway_process_*, gateway_nodejs_*
  }

  observeBatch(model: string, b: BatchObservation): void {
    this.inferenceBatches.inc({ model });
    this.inferenceItems.inc({ model }, b.size);
    if (b.failedItems) this.inferenceErrors.inc({ model, code: GatewayErrorCode.INFERENCE_FAILED }, b.failedItems);
    this.queueSeconds.observe({ model }, b.queueSeconds);
    this.computeSeconds.observe({ model }, b.computeSeconds);
    this.batchSize.observe({ model }, b.size);
  }

  observeRefusal(model: string, code: string): void {
    this.inferenceErrors.inc({ model, code });
  }

  observeWouldRefuse(): void {
    this.wouldRefuse.inc();
  }

  observeExecution(executor: 'compiled' | 'graphql-js'): void {
    this.executions.inc({ executor });
  }

  /** Operation names are caller-chosen: only well-formed short names become labels, others count as "other". */
  observeOperation(name: string | null | undefined, outcome: string, seconds: number): void {
    const operation = name && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : name ? 'other' : 'anonymous';
    this.operations.inc({ operation, outcome });
    this.operationSeconds.observe({ operation }, seconds);
  }
}
