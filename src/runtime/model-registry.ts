import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../platform/logger.js';
import { GatewayError, GatewayErrorCode, InvalidInputError, ModelUnavailableError, NotFoundError } from '../platform/errors.js';
import { DynamicBatcher, type BatchingOptions, type BatchReport, type DropReport, type SubmitAs } from './dynamic-batcher.js';
import { artefactSha256, verifyLocalIdentity, type ModelIdentity } from './model-identity.js';
import { readManifest, readVersionManifest, type ModelManifest } from './model-manifest.js';
import { describePhase, type ModelPhase, type ModelRuntime } from './model-runtime.js';
import { DriftMonitor, type DriftReport } from './drift-monitor.js';
import type { TaskCatalog } from './tasks.js';
import { ShadowComparison, type ShadowOutcome, type ShadowReport } from './shadow-comparison.js';

/** What a domain service sees of a model: its identity and a batched inference entry point. */
export interface InferenceModel<I, O> {
  readonly name: string;
  readonly version: string;
  /** Name, version and artefact hash of the version this handle's batches run on: what results must carry. */
  readonly identity: ModelIdentity;
  /** The folder of this version's artifacts (its features.json, for instance). */
  readonly dir: string;
  /** Output label names, for classifiers (from the model's own config). */
  readonly labels: readonly string[];
  /** `caller`: an API key or client address (the batcher serves callers in turn), or the request's whole Submission (priority, deadline, abort signal). */
  infer(input: I, caller?: SubmitAs): Promise<O>;
  /** One entry per input: its result or its own Error. Suits DataLoader batch functions. */
  inferMany(inputs: readonly I[], caller?: SubmitAs): Promise<Array<O | Error>>;
  /** Feeds drift monitoring: one inference's features (in baseline.json order) and monitored output. */
  observe(features: ArrayLike<number>, output: number): void;
  /** The version running in shadow beside this one, when there is one. */
  readonly shadow?: ShadowModel<I, O>;
}

/**
 * A shadow version: it gets a copy of the traffic, and the service reports how its answers compare;
 * they never reach a caller.
 */
export interface ShadowModel<I, O> {
  readonly version: string;
  readonly dir: string;
  inferMany(inputs: readonly I[]): Promise<Array<O | Error>>;
  record(outcomes: ReadonlyArray<ShadowOutcome | Error>): void;
}

export interface ModelStats {
  batches: number;
  items: number;
  failedItems: number;
}

/** A read-only view of one registered model, for the API and readiness checks. */
export interface ModelSnapshot {
  /** The model's folder. */
  readonly root: string;
  readonly manifest: ModelManifest;
  /** What serves: the version label and the hash of the artefacts loaded (the manifest's version until loaded). */
  readonly identity: ModelIdentity;
  readonly state: ModelPhase;
  readonly batching: BatchingOptions;
  readonly stats: Readonly<ModelStats>;
  readonly queued: number;
  /** The version running in shadow, when there is one. */
  readonly shadowVersion: string | undefined;
}

export type RuntimeFactory = (manifest: ModelManifest) => ModelRuntime<unknown, unknown> & { labels?: readonly string[] };

interface Entry {
  /** The model's folder (the active version's artifacts may be in a versions/ subfolder of it). */
  readonly root: string;
  manifest: ModelManifest;
  identity: ModelIdentity;
  state: ModelPhase;
  runtime: ModelRuntime<unknown, unknown> & { labels?: readonly string[] };
  batcher: DynamicBatcher<unknown, unknown>;
  stats: ModelStats;
  monitor: DriftMonitor | undefined;
  shadow?: Shadow;
}

interface Shadow {
  readonly manifest: ModelManifest;
  readonly identity: ModelIdentity;
  readonly runtime: Entry['runtime'];
  readonly batcher: DynamicBatcher<unknown, unknown>;
  readonly comparison: ShadowComparison;
}

export class StartupError extends Error {}

export interface RegistryOptions {
  readonly batching: Readonly<Record<string, Partial<BatchingOptions>>>;
  /** Queue deadline of every model without its own `maxQueueMs`. */
  readonly queueTimeoutMs?: number;
  readonly createRuntime: RuntimeFactory;
  readonly logger: Logger;
  readonly onBatch?: (model: string, report: BatchReport) => void;
  /** Queued items that left without inference: past a deadline, or their request aborted. */
  readonly onDrop?: (model: string, report: DropReport) => void;
  /** Observations kept per model for drift monitoring. */
  readonly driftWindow?: number;
  /** Fewer observations than this in the window: drift reads INSUFFICIENT_DATA. */
  readonly driftMinObservations?: number;
  /** A submission the model refused (OVERLOADED, MODEL_UNAVAILABLE...), by error code. */
  readonly onRefused?: (model: string, code: string) => void;
  /**
   * The tasks the domains serve: a manifest of another task is refused at start; a task's `checkArtefacts`
   * (a credit model's features.json, for instance) runs before a version loads, and a version that fails it
   * fails like one whose artifact does not load; shadows run only for tasks that compare them.
   */
  readonly tasks: TaskCatalog;
  /** After a version has been activated and swapped in (by activate or a manifest change). */
  readonly onActivated?: (name: string, version: string) => void;
  /** The folder a manifest's runtime loads its files from (null: from the hub, not hashable); the manifest's own by default. */
  readonly artefactDir?: (manifest: ModelManifest) => string | null;
}

/**
 * Every model the gateway serves: loads each manifest's runtime, warms it up, tracks its lifecycle,
 * and owns its shared dynamic batcher. Created once at start and passed to whoever needs it.
 */
export class ModelRegistry {
  private readonly entries = new Map<string, Entry>();

  private readonly watchers: FSWatcher[] = [];

  /** Per model, the artefact hash each version label was loaded from in this process (a label names one artefact). */
  private readonly artefacts = new Map<string, Map<string, string>>();

  constructor(manifests: readonly ModelManifest[], private readonly options: RegistryOptions) {
    for (const manifest of manifests) {
      if (this.entries.has(manifest.name)) throw new StartupError(`two model folders declare the name ${manifest.name}`);
      if (!options.tasks.has(manifest.task)) throw new StartupError(`model ${manifest.name}: task ${manifest.task} is served by no domain; tasks: ${options.tasks.names.join(', ')}`);
      const stats: ModelStats = { batches: 0, items: 0, failedItems: 0 };
      this.entries.set(manifest.name, {
        root: manifest.dir, stats, state: { phase: 'loading', since: new Date() }, ...this.version(manifest, stats),
      });
    }
  }

  /**
   * Runtime, batcher and drift monitor of one model version (not loaded yet). A shadow version's
   * batches stay out of the model's counters and metrics.
   */
  private version(manifest: ModelManifest, stats: ModelStats | undefined) {
    const runtime = this.options.createRuntime(manifest);
    const batching = { maxQueueMs: this.options.queueTimeoutMs, ...manifest.batching, ...this.options.batching[manifest.name], concurrency: runtime.parallelism };
    const batcher = new DynamicBatcher(manifest.name, (inputs) => runtime.run(inputs), batching, (report) => {
      if (!stats) return;
      stats.batches++;
      stats.items += report.size;
      stats.failedItems += report.failedItems;
      this.options.onBatch?.(manifest.name, report);
    }, (report) => {
      if (stats) this.options.onDrop?.(manifest.name, report);
    });
    const monitor = manifest.baseline ? new DriftMonitor(manifest.baseline, this.options.driftWindow ?? 5000, this.options.driftMinObservations) : undefined;
    const identity: ModelIdentity = { name: manifest.name, version: manifest.version, sha256: null };
    return { manifest, identity, runtime, batcher, monitor };
  }

  /**
   * Verifies a version's identity (its artefacts' hash against its label), checks it, loads its runtime and runs
   * its warm-up input. Resolves to the identity that will serve and the load and warm-up times in ms.
   */
  private async warmUp(root: string, manifest: ModelManifest, runtime: Entry['runtime']): Promise<{ identity: ModelIdentity; loadMs: number; warmupMs: number }> {
    const known = this.artefacts.get(manifest.name) ?? new Map<string, string>();
    let sha256: string | null = null;
    const dir = manifest.runtime === 'remote' ? null : this.options.artefactDir ? this.options.artefactDir(manifest) : manifest.dir;
    if (dir !== null) {
      sha256 = await artefactSha256({ ...manifest, dir });
      if (dir === manifest.dir) await verifyLocalIdentity(root, manifest, sha256, known);
    }
    this.options.tasks.facts(manifest.task).checkArtefacts?.(manifest);
    const started = performance.now();
    await runtime.load();
    const loadMs = performance.now() - started;
    const [warm] = await runtime.run([runtime.warmupInput()]);
    if (warm instanceof Error) throw warm;
    // A remote model is what its server says it serves (the runtime refuses a server that contradicts a pinned version).
    const version = runtime.servedVersion ?? manifest.version;
    if (sha256 !== null) this.artefacts.set(manifest.name, known.set(version, sha256));
    return { identity: { name: manifest.name, version, sha256 }, loadMs: Math.round(loadMs), warmupMs: Math.round(performance.now() - started - loadMs) };
  }

  /**
   * Loads and warms up every model in parallel. A required model that fails stops start-up with a
   * message naming its folder; an optional one is left `failed` and its fields answer MODEL_UNAVAILABLE.
   */
  async loadAll(): Promise<void> {
    const failures = await Promise.all([...this.entries.values()].map(async (entry) => {
      const { manifest } = entry;
      try {
        const { identity, loadMs, warmupMs } = await this.warmUp(entry.root, manifest, entry.runtime);
        entry.identity = identity;
        entry.state = { phase: 'ready', loadedAt: new Date(), warmupMs };
        this.options.logger.info({ model: manifest.name, version: identity.version, sha256: identity.sha256, loadMs }, 'model ready');
        return undefined;
      } catch (error) {
        const source = manifest.remote ? `${manifest.remote.url} (${manifest.remote.model})` : `models/${path.basename(manifest.dir)}/${manifest.artifact}`;
        const reason = `${source}: ${(error as Error).message}`;
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

  /** Output labels of a model's active version (classifiers; empty for the others or an unknown name). */
  modelLabels(name: string): readonly string[] {
    return this.entries.get(name)?.runtime.labels ?? [];
  }

  /** The model serving a task (the first manifest of that task). */
  nameForTask(task: ModelManifest['task']): string | undefined {
    return [...this.entries.values()].find((e) => e.manifest.task === task)?.manifest.name;
  }

  /** A batched handle on a ready model; MODEL_UNAVAILABLE otherwise. */
  model<I, O>(name: string): InferenceModel<I, O> {
    const entry = this.entries.get(name);
    if (!entry) throw new ModelUnavailableError(name, 'no such model is configured');
    if (entry.state.phase !== 'ready') {
      this.options.onRefused?.(name, GatewayErrorCode.MODEL_UNAVAILABLE);
      throw new ModelUnavailableError(name, describePhase(entry.state));
    }
    const batcher = entry.batcher as DynamicBatcher<I, O>;
    const counted = <T>(submit: () => Promise<T>): Promise<T> => {
      try {
        return submit();
      } catch (error) {
        this.options.onRefused?.(name, error instanceof GatewayError ? error.code : GatewayErrorCode.INTERNAL_SERVER_ERROR);
        throw error;
      }
    };
    return {
      name,
      version: entry.identity.version,
      identity: entry.identity,
      dir: entry.manifest.dir,
      labels: entry.runtime.labels ?? [],
      infer: (input, caller) => counted(() => batcher.submit(input, caller)),
      inferMany: (inputs, caller) => counted(() => batcher.submitMany(inputs, caller)),
      observe: (features, output) => entry.monitor?.observe(features, output),
      shadow: entry.shadow && ModelRegistry.shadowModel<I, O>(entry.shadow),
    };
  }

  private static shadowModel<I, O>(shadow: Shadow): ShadowModel<I, O> {
    const batcher = shadow.batcher as DynamicBatcher<I, O>;
    return {
      version: shadow.identity.version,
      dir: shadow.manifest.dir,
      inferMany: (inputs) => batcher.submitMany(inputs),
      record: (outcomes) => shadow.comparison.record(outcomes),
    };
  }

  /**
   * Runs another version of a model in shadow: loaded and warmed up beside the active one, it gets a
   * copy of the traffic and its answers are compared, never returned. `null` stops the shadow.
   * Replacing or stopping a shadow lets it finish what it queued, then frees it.
   */
  async setShadow(name: string, version: string | null): Promise<ShadowReport | null> {
    const entry = this.entries.get(name);
    if (!entry) throw new NotFoundError(`no model named ${name} is configured`);
    let next: Shadow | undefined;
    if (version !== null) {
      const shadowTasks = this.options.tasks.shadowTasks;
      if (!shadowTasks.includes(entry.manifest.task)) {
        throw new InvalidInputError(`shadow mode is available for ${shadowTasks.join(', ') || 'no'} models, not ${entry.manifest.task}`, 'name');
      }
      if (version === entry.manifest.version) throw new InvalidInputError(`version ${version} is the active version of ${name}; a shadow must be another one`, 'version');
      let manifest: ModelManifest;
      try {
        manifest = readVersionManifest(entry.root, version);
      } catch (error) {
        throw new NotFoundError((error as Error).message);
      }
      const { runtime, batcher } = this.version(manifest, undefined);
      let identity: ModelIdentity;
      try {
        ({ identity } = await this.warmUp(entry.root, manifest, runtime));
      } catch (error) {
        await runtime.dispose().catch(() => undefined);
        throw new ModelUnavailableError(name, `shadow version ${version} was refused (${(error as Error).message})`);
      }
      next = { manifest, identity, runtime, batcher, comparison: new ShadowComparison(version) };
    }
    const previous = entry.shadow;
    entry.shadow = next;
    this.options.logger.info({ model: name, shadow: version, previous: previous?.manifest.version }, version ? 'shadow version started' : 'shadow stopped');
    if (previous) this.retire(name, previous.manifest.version, previous);
    return next?.comparison.report() ?? null;
  }

  /** How the shadow version of a model compares with the active one; undefined without a shadow. */
  shadowReport(name: string): ShadowReport | undefined {
    return this.entries.get(name)?.shadow?.comparison.report();
  }

  /** Lets a replaced version finish what it queued, then frees it. */
  private retire(name: string, version: string, old: Pick<Entry, 'batcher' | 'runtime'>): void {
    void old.batcher.drain().then(() => old.runtime.dispose()).catch((error: unknown) =>
      this.options.logger.error({ model: name, version, err: error }, 'disposing the replaced version failed'));
  }

  /**
   * Makes another version of a model the active one without a restart: loads and warms it up beside
   * the running version, then swaps it in with one synchronous assignment (a request sees the old or
   * the new version, never neither). The old version finishes what it already queued, then is
   * disposed. A version that fails to load or warm up is refused and the old one stays active.
   */
  async activate(name: string, version: string): Promise<ModelSnapshot> {
    const entry = this.entries.get(name);
    if (!entry) throw new NotFoundError(`no model named ${name} is configured`);
    if (entry.manifest.version === version && entry.state.phase === 'ready') return this.snapshot(entry);
    let manifest: ModelManifest;
    try {
      manifest = readVersionManifest(entry.root, version);
    } catch (error) {
      throw new NotFoundError((error as Error).message);
    }
    const next = this.version(manifest, entry.stats);
    try {
      const { identity, warmupMs } = await this.warmUp(entry.root, manifest, next.runtime);
      const previous = { runtime: entry.runtime, batcher: entry.batcher, version: entry.identity.version };
      Object.assign(entry, next, { identity, state: { phase: 'ready', loadedAt: new Date(), warmupMs } satisfies ModelPhase });
      this.options.logger.info({ model: name, version: identity.version, sha256: identity.sha256, previous: previous.version }, 'model version activated');
      this.retire(name, previous.version, previous);
      this.options.onActivated?.(name, version);
      return this.snapshot(entry);
    } catch (error) {
      await next.runtime.dispose().catch(() => undefined);
      this.options.logger.error({ model: name, version, reason: (error as Error).message }, 'model version refused');
      throw new ModelUnavailableError(name, `version ${version} was refused (${(error as Error).message}); version ${entry.manifest.version} stays active`);
    }
  }

  /**
   * Watches every model's top-level manifest.json: when its version changes, that version is
   * activated (debounced, since editors write files in several steps).
   */
  watchManifests(debounceMs = 500): void {
    for (const entry of this.entries.values()) {
      let timer: NodeJS.Timeout | undefined;
      // The folder, not the file: an editor's save-by-rename replaces the file, which would end a file watch.
      const watcher = watch(entry.root, (_event, file) => {
        if (file !== null && file !== 'manifest.json') return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          let version: string;
          try {
            version = readManifest(entry.root).version;
          } catch (error) {
            this.options.logger.error({ model: entry.manifest.name, reason: (error as Error).message }, 'manifest change ignored');
            return;
          }
          if (version !== entry.manifest.version) this.activate(entry.manifest.name, version).catch(() => undefined);
        }, debounceMs);
      });
      watcher.on('error', () => watcher.close());
      this.watchers.push(watcher);
    }
  }

  /** Drift of a model's live traffic against its training baseline; undefined without a baseline. */
  drift(name: string): DriftReport | undefined {
    return this.entries.get(name)?.monitor?.report();
  }

  /** Stops taking work, lets running batches finish, then frees every runtime. */
  async dispose(): Promise<void> {
    for (const w of this.watchers.splice(0)) w.close();
    await Promise.all([...this.entries.values()].map(async (entry) => {
      const { shadow } = entry;
      entry.shadow = undefined;
      await Promise.all([entry, ...(shadow ? [shadow] : [])].map((v) => v.batcher.close('the gateway is shutting down')));
      await Promise.all([entry, ...(shadow ? [shadow] : [])].map((v) => v.runtime.dispose()));
      entry.state = { phase: 'disposed', at: new Date() };
    }));
  }

  private snapshot(e: Entry): ModelSnapshot {
    return { root: e.root, manifest: e.manifest, identity: e.identity, state: e.state, batching: e.batcher.options, stats: { ...e.stats }, queued: e.batcher.queued,
      shadowVersion: e.shadow?.manifest.version };
  }
}
