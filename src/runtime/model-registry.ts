import path from 'node:path';
import { GatewayError, GatewayErrorCode, ModelUnavailableError, NotFoundError } from '../platform/errors.js';
import type { BatchingOptions, DynamicBatcher } from './dynamic-batcher.js';
import type { DriftReport } from './drift-monitor.js';
import type { ModelIdentity } from './model-identity.js';
import type { InferenceModel, RowsModel, TextModel } from './model-handles.js';
import type { ModelManifest } from './model-manifest.js';
import { describePhase, type ModelPhase } from './model-runtime.js';
import {
  ModelVersions,
  readOtherVersion,
  type ModelStats,
  type ModelVersion,
  type VersionOptions,
} from './model-versions.js';
import { ShadowControl } from './shadow-control.js';
import type { TaskInput, TaskIO } from './tasks.js';

export type { InferenceModel, RowsModel, ShadowModel, TextModel } from './model-handles.js';
export type { ModelStats, RuntimeFactory } from './model-versions.js';

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

/** One model: its folder, the version serving (swapped by activate), its lifecycle and counters (kept across versions). */
interface Entry extends Mutable<ModelVersion> {
  /** The model's folder (the active version's artifacts may be in a versions/ subfolder of it). */
  readonly root: string;
  state: ModelPhase;
  readonly stats: ModelStats;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class StartupError extends Error {}

export interface RegistryOptions extends VersionOptions {
  /** A submission the model refused (OVERLOADED, MODEL_UNAVAILABLE...), by error code. */
  readonly onRefused?: (model: string, code: string) => void;
  /** After a version has been activated and swapped in (by activate or a manifest change). */
  readonly onActivated?: (name: string, version: string) => void;
}

/**
 * Every model the gateway serves: loads each manifest's runtime, warms it up, tracks its lifecycle,
 * activates other versions, and hands out typed handles on its shared dynamic batchers. Created once
 * at start and passed to whoever needs it; its shadow versions are `shadows`' (shadow-control.ts).
 */
export class ModelRegistry {
  private readonly entries = new Map<string, Entry>();

  private readonly versions: ModelVersions;

  /** Versions running in shadow beside the active ones; their comparison reports. */
  readonly shadows: ShadowControl;

  constructor(
    manifests: readonly ModelManifest[],
    private readonly options: RegistryOptions,
  ) {
    this.versions = new ModelVersions(options);
    this.shadows = new ShadowControl({
      model: (name) => this.entries.get(name),
      versions: this.versions,
      tasks: options.tasks,
      logger: options.logger,
    });
    for (const manifest of manifests) {
      if (this.entries.has(manifest.name))
        throw new StartupError(`two model folders declare the name ${manifest.name}`);
      if (!options.tasks.has(manifest.task))
        throw new StartupError(
          `model ${manifest.name}: task ${manifest.task} is served by no domain; tasks: ${options.tasks.names.join(', ')}`,
        );
      const stats: ModelStats = { batches: 0, items: 0, failedItems: 0 };
      this.entries.set(manifest.name, {
        root: manifest.dir,
        stats,
        state: { phase: 'loading', since: new Date() },
        ...this.versions.build(manifest, stats),
      });
    }
  }

  /**
   * Loads and warms up every model in parallel. A required model that fails stops start-up with a
   * message naming its folder; an optional one is left `failed` and its fields answer MODEL_UNAVAILABLE.
   */
  async loadAll(): Promise<void> {
    const failures = await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        const { manifest } = entry;
        try {
          const { identity, loadMs, warmupMs } = await this.versions.warmUp(entry.root, manifest, entry.runtime);
          entry.identity = identity;
          entry.state = { phase: 'ready', loadedAt: new Date(), warmupMs };
          this.options.logger.info(
            { model: manifest.name, version: identity.version, sha256: identity.sha256, loadMs },
            'model ready',
          );
          return undefined;
        } catch (error) {
          const source = manifest.remote
            ? `${manifest.remote.url} (${manifest.remote.model})`
            : `models/${path.basename(manifest.dir)}/${manifest.artifact}`;
          const reason = `${source}: ${(error as Error).message}`;
          entry.state = { phase: 'failed', at: new Date(), reason };
          this.options.logger.error(
            { model: manifest.name, reason },
            manifest.required ? 'required model failed to load' : 'optional model failed to load',
          );
          return manifest.required ? `required model ${manifest.name} failed to load (${reason})` : undefined;
        }
      }),
    );
    const fatal = failures.filter((f): f is string => f !== undefined);
    if (fatal.length) throw new StartupError(fatal.join('; '));
  }

  /** True when every model that was not optional-and-failed answers. */
  get ready(): boolean {
    return [...this.entries.values()].every(
      (e) => e.state.phase === 'ready' || (e.state.phase === 'failed' && !e.manifest.required),
    );
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

  /** A batched handle on a ready model of a text task; MODEL_UNAVAILABLE otherwise, or when its task takes rows. */
  textModel(name: string): TextModel {
    return this.handle(name, 'text');
  }

  /** A batched handle on a ready model of a rows task; MODEL_UNAVAILABLE otherwise, or when its task takes text. */
  rowsModel(name: string): RowsModel {
    return this.handle(name, 'rows');
  }

  /** The handle's types are those its task's input kind fixes (TaskIO), checked here before the batcher is typed. */
  private handle<K extends TaskInput>(name: string, kind: K): InferenceModel<TaskIO[K]['input'], TaskIO[K]['output']> {
    type I = TaskIO[K]['input'];
    type O = TaskIO[K]['output'];
    const entry = this.entries.get(name);
    if (!entry) throw new ModelUnavailableError(name, 'no such model is configured');
    const { input } = this.options.tasks.facts(entry.manifest.task);
    if (input !== kind)
      throw new ModelUnavailableError(
        name,
        `a ${kind} model was asked for, but it serves task ${entry.manifest.task}, which takes ${input}`,
      );
    if (entry.state.phase !== 'ready') {
      this.options.onRefused?.(name, GatewayErrorCode.MODEL_UNAVAILABLE);
      throw new ModelUnavailableError(name, describePhase(entry.state));
    }
    // The runtime of a `kind` task takes I and answers O (runtime-factory.ts builds it from the same facts).
    const batcher = entry.batcher as DynamicBatcher<I, O>;
    const counted = <T>(submit: () => Promise<T>): Promise<T> => {
      try {
        return submit();
      } catch (error) {
        this.options.onRefused?.(
          name,
          error instanceof GatewayError ? error.code : GatewayErrorCode.INTERNAL_SERVER_ERROR,
        );
        throw error;
      }
    };
    return {
      name,
      version: entry.identity.version,
      identity: entry.identity,
      dir: entry.manifest.dir,
      labels: entry.runtime.labels ?? [],
      infer: (item, caller) => counted(() => batcher.submit(item, caller)),
      inferMany: (items, caller) => counted(() => batcher.submitMany(items, caller)),
      observe: (features, output) => entry.monitor?.observe(features, output),
      shadow: this.shadows.handle<I, O>(name),
    };
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
    const manifest = readOtherVersion(entry.root, version);
    let next: Awaited<ReturnType<ModelVersions['start']>>;
    try {
      next = await this.versions.start(entry.root, manifest, entry.stats);
    } catch (error) {
      this.options.logger.error({ model: name, version, reason: (error as Error).message }, 'model version refused');
      throw new ModelUnavailableError(
        name,
        `version ${version} was refused (${(error as Error).message}); version ${entry.manifest.version} stays active`,
      );
    }
    const previous = { runtime: entry.runtime, batcher: entry.batcher, version: entry.identity.version };
    const { identity } = next.version;
    Object.assign(entry, next.version, {
      state: { phase: 'ready', loadedAt: new Date(), warmupMs: next.warmupMs } satisfies ModelPhase,
    });
    this.options.logger.info(
      { model: name, version: identity.version, sha256: identity.sha256, previous: previous.version },
      'model version activated',
    );
    this.versions.retire(name, previous.version, previous);
    this.options.onActivated?.(name, version);
    return this.snapshot(entry);
  }

  /** Drift of a model's live traffic against its training baseline; undefined without a baseline. */
  drift(name: string): DriftReport | undefined {
    return this.entries.get(name)?.monitor?.report();
  }

  /** Stops taking work, lets running batches finish, then frees every runtime (shadows' included). */
  async dispose(): Promise<void> {
    const reason = 'the gateway is shutting down';
    await Promise.all([
      this.shadows.dispose(reason),
      ...[...this.entries.values()].map(async (entry) => {
        await entry.batcher.close(reason);
        await entry.runtime.dispose();
        entry.state = { phase: 'disposed', at: new Date() };
      }),
    ]);
  }

  private snapshot(e: Entry): ModelSnapshot {
    return {
      root: e.root,
      manifest: e.manifest,
      identity: e.identity,
      state: e.state,
      batching: e.batcher.options,
      stats: { ...e.stats },
      queued: e.batcher.queued,
      shadowVersion: this.shadows.versionOf(e.manifest.name),
    };
  }
}
