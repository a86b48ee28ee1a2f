import path from 'node:path';
import type { Logger } from '../platform/logger.js';
import { ModelUnavailableError } from '../platform/errors.js';
import { DynamicBatcher, type BatchingOptions, type BatchReport } from './dynamic-batcher.js';
import type { ModelManifest } from './model-manifest.js';
import { describePhase, type ModelPhase, type ModelRuntime } from './model-runtime.js';
import { DriftMonitor, type DriftReport } from './drift-monitor.js';

/** What a domain service sees of a model: its identity and a batched inference entry point. */
export interface InferenceModel<I, O> {
  readonly name: string;
  readonly version: string;
  /** Output label names, for classifiers (from the model's own config). */
  readonly labels: readonly string[];
  infer(input: I): Promise<O>;
  /** One entry per input: its result or its own Error. Suits DataLoader batch functions. */
  inferMany(inputs: readonly I[]): Promise<Array<O | Error>>;
  /** Feeds drift monitoring: one inference's features (in baseline.json order) and monitored output. */
  observe(features: ArrayLike<number>, output: number): void;
}

export interface ModelStats {
  batches: number;
  items: number;
  failedItems: number;
}

/** A read-only view of one registered model, for the API and readiness checks. */
export interface ModelSnapshot {
  readonly manifest: ModelManifest;
  readonly state: ModelPhase;
  readonly batching: BatchingOptions;
  readonly stats: Readonly<ModelStats>;
  readonly queued: number;
}

export type RuntimeFactory = (manifest: ModelManifest) => ModelRuntime<unknown, unknown> & { labels?: readonly string[] };

interface Entry {
  manifest: ModelManifest;
  state: ModelPhase;
  runtime: ModelRuntime<unknown, unknown> & { labels?: readonly string[] };
  batcher: DynamicBatcher<unknown, unknown>;
  stats: ModelStats;
  monitor: DriftMonitor | undefined;
}

export class StartupError extends Error {}

export interface RegistryOptions {
  readonly batching: Readonly<Record<string, Partial<BatchingOptions>>>;
  readonly createRuntime: RuntimeFactory;
  readonly logger: Logger;
  readonly onBatch?: (model: string, report: BatchReport) => void;
  /** Observations kept per model for drift monitoring. */
  readonly driftWindow?: number;
}

/**
 * Every model the gateway serves: loads each manifest's runtime, warms it up, tracks its lifecycle,
 * and owns its shared dynamic batcher. Created once at start and passed to whoever needs it.
 */
export class ModelRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(manifests: readonly ModelManifest[], private readonly options: RegistryOptions) {
    for (const manifest of manifests) {
      if (this.entries.has(manifest.name)) throw new StartupError(`two model folders declare the name ${manifest.name}`);
      const batching = { ...manifest.batching, ...options.batching[manifest.name] };
      const runtime = options.createRuntime(manifest);
      const stats: ModelStats = { batches: 0, items: 0, failedItems: 0 };
      const batcher = new DynamicBatcher(manifest.name, (inputs) => runtime.run(inputs), batching, (report) => {
        stats.batches++;
        stats.items += report.size;
        stats.failedItems += report.failedItems;
        options.onBatch?.(manifest.name, report);
      });
      const monitor = manifest.baseline ? new DriftMonitor(manifest.baseline, options.driftWindow ?? 5000) : undefined;
      this.entries.set(manifest.name, { manifest, runtime, batcher, stats, monitor, state: { phase: 'loading', since: new Date() } });
    }
  }

  /**
   * Loads and warms up every model in parallel. A required model that fails stops start-up with a
   * message naming its folder; an optional one is left `failed` and its fields answer MODEL_UNAVAILABLE.
   */
  async loadAll(): Promise<void> {
    const failures = await Promise.all([...this.entries.values()].map(async (entry) => {
      const { manifest } = entry;
      const started = performance.now();
      try {
        await entry.runtime.load();
        const loadedMs = performance.now() - started;
        const [warm] = await entry.runtime.run([entry.runtime.warmupInput()]);
        if (warm instanceof Error) throw warm;
        entry.state = { phase: 'ready', loadedAt: new Date(), warmupMs: Math.round(performance.now() - started - loadedMs) };
        this.options.logger.info({ model: manifest.name, version: manifest.version, loadMs: Math.round(loadedMs) }, 'model ready');
        return undefined;
      } catch (error) {
        const reason = `models/${path.basename(manifest.dir)}/${manifest.artifact}: ${(error as Error).message}`;
        entry.state = { phase: 'failed', at: new Date(), reason };
        this.options.logger.error({ model: manifest.name, reason }, manifest.required ? 'required model failed to load' : 'optional model failed to load');
        return manifest.required ? `required model ${manifest.name} failed to load (${reason})` : undefined;
      }
    }));
    const fatal = failures.filter((f): f is string => f !== undefined);
    if (fatal.length) throw new StartupError(fatal.join('; '));
  }

  /** True when every model that was not optional-and-failed answers. */
  get ready(): boolean {
    return [...this.entries.values()].every((e) => e.state.phase === 'ready' || (e.state.phase === 'failed' && !e.manifest.required));
  }

  list(): ModelSnapshot[] {
    return [...this.entries.values()].map((e) => this.snapshot(e));
  }

  get(name: string): ModelSnapshot | undefined {
    const entry = this.entries.get(name);
    return entry && this.snapshot(entry);
  }

  /** The model serving a task (the first manifest of that task). */
  nameForTask(task: ModelManifest['task']): string | undefined {
    return [...this.entries.values()].find((e) => e.manifest.task === task)?.manifest.name;
  }

  /** A batched handle on a ready model; MODEL_UNAVAILABLE otherwise. */
  model<I, O>(name: string): InferenceModel<I, O> {
    const entry = this.entries.get(name);
    if (!entry) throw new ModelUnavailableError(name, 'no such model is configured');
    if (entry.state.phase !== 'ready') throw new ModelUnavailableError(name, describePhase(entry.state));
    const batcher = entry.batcher as DynamicBatcher<I, O>;
    return {
      name,
      version: entry.manifest.version,
      labels: entry.runtime.labels ?? [],
      infer: (input) => batcher.submit(input),
      inferMany: (inputs) => batcher.submitMany(inputs),
      observe: (features, output) => entry.monitor?.observe(features, output),
    };
  }

  /** Drift of a model's live traffic against its training baseline; undefined without a baseline. */
  drift(name: string): DriftReport | undefined {
    return this.entries.get(name)?.monitor?.report();
  }

  /** Stops taking work, lets running batches finish, then frees every runtime. */
  async dispose(): Promise<void> {
    await Promise.all([...this.entries.values()].map(async (entry) => {
      await entry.batcher.close('the gateway is shutting down');
      await entry.runtime.dispose();
      entry.state = { phase: 'disposed', at: new Date() };
    }));
  }

  private snapshot(e: Entry): ModelSnapshot {
    return { manifest: e.manifest, state: e.state, batching: e.batcher.options, stats: { ...e.stats }, queued: e.batcher.queued };
  }
}
