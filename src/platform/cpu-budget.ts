import os from 'node:os';
import type { Logger } from './logger.js';
import { int, type ValuesOf } from './settings.js';

/** The variables of the CPU budget (config.ts takes them into the environment's schema). */
export const cpuVariables = {
  /** Threads of computation the gateway may run at once, besides its event loop. */
  CPU_BUDGET: int(1, 1024).default(os.availableParallelism()),
  /** onnxruntime threads of each transformer model worker; default: the inference share divided by MODEL_WORKERS. */
  INFERENCE_THREADS: int(1, 256).optional(),
  /** Worker threads per transformer model, each with its own copy of the model and INFERENCE_THREADS threads. */
  MODEL_WORKERS: int(1, 64).default(1),
  /** onnxruntime threads of each tabular model's session (credit, forecast). */
  TABULAR_THREADS: int(1, 256).optional(),
  /** Worker threads of the volatility pool (GARCH fits of the forecasts). */
  VOLATILITY_THREADS: int(1, 256).optional(),
};

/**
 * Divides CPU_BUDGET (B): a quarter to the volatility pool, a quarter to each tabular model's session, the
 * rest to each transformer model's workers (INFERENCE_THREADS x MODEL_WORKERS); each at least 1 thread, so
 * below B = 4 the shares overlap. A variable that is set is taken as it is; the defaults do not shrink
 * around it, and the start-up log warns when the shares add up to more than B.
 * @example divideCpuBudget({ CPU_BUDGET: 16, MODEL_WORKERS: 2 }) // inference 4 threads x 2 workers, tabular 4, volatility 4
 */
export function divideCpuBudget(e: ValuesOf<typeof cpuVariables>) {
  const quarter = Math.max(1, Math.floor(e.CPU_BUDGET / 4));
  const volatilityThreads = e.VOLATILITY_THREADS ?? quarter;
  const tabularThreads = e.TABULAR_THREADS ?? quarter;
  return {
    /** CPU_BUDGET: threads of computation at once, besides the event loop. */
    budget: e.CPU_BUDGET,
    /** onnxruntime intra-op threads of each transformer model worker. */
    inferenceThreads:
      e.INFERENCE_THREADS ??
      Math.max(1, Math.floor((e.CPU_BUDGET - volatilityThreads - tabularThreads) / e.MODEL_WORKERS)),
    /** Worker threads per transformer model, each running one batch at a time. */
    modelWorkers: e.MODEL_WORKERS,
    /** onnxruntime intra-op threads of each tabular model's session (in its worker thread, or on the event loop). */
    tabularThreads,
    /** Worker threads of the forecasting domain's volatility pool. */
    volatilityThreads,
  };
}

export type CpuBudget = Readonly<ReturnType<typeof divideCpuBudget>>;

/** Logs how the budget is divided at start; a warning when the shares add up to more than the budget. */
export function logCpuBudget(cpu: CpuBudget, logger: Logger): void {
  const shares = {
    inference: cpu.inferenceThreads * cpu.modelWorkers,
    tabular: cpu.tabularThreads,
    volatility: cpu.volatilityThreads,
  };
  const total = shares.inference + shares.tabular + shares.volatility;
  const division = { ...cpu, shares, total };
  // Three shares of at least one thread each: below a budget of 3 they overlap by design.
  if (total > Math.max(cpu.budget, 3)) {
    logger.warn(
      division,
      `CPU budget: the shares add up to ${total} threads, more than CPU_BUDGET (${cpu.budget}); they compete when all are busy`,
    );
  } else {
    logger.info(
      division,
      `CPU budget of ${cpu.budget} threads: inference ${cpu.inferenceThreads} x ${cpu.modelWorkers} per transformer model, tabular ${cpu.tabularThreads} per model, volatility pool ${cpu.volatilityThreads}`,
    );
  }
}
