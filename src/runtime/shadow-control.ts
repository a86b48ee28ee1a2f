import type { Logger } from '../platform/logger.js';
import { InvalidInputError, ModelUnavailableError, NotFoundError } from '../platform/errors.js';
import type { DynamicBatcher } from './dynamic-batcher.js';
import type { ShadowModel } from './model-handles.js';
import type { ModelManifest } from './model-manifest.js';
import { readOtherVersion, type ModelVersion, type ModelVersions } from './model-versions.js';
import { ShadowComparison, type ShadowReport } from './shadow-comparison.js';
import type { TaskCatalog } from './tasks.js';

/** What shadow control needs of the registry: a model's folder and active manifest, and a way to run versions. */
export interface ShadowHost {
  /** The folder and active manifest of a model; undefined when no model has that name. */
  model(name: string): { readonly root: string; readonly manifest: ModelManifest } | undefined;
  readonly versions: Pick<ModelVersions, 'start' | 'retire'>;
  readonly tasks: TaskCatalog;
  readonly logger: Logger;
}

interface Shadow {
  readonly version: ModelVersion;
  readonly comparison: ShadowComparison;
}

/**
 * Shadow versions: another version of a model, loaded and warmed up beside the active one, gets a copy of the
 * traffic and its answers are compared, never returned. One shadow per model at most.
 */
export class ShadowControl {
  private readonly shadows = new Map<string, Shadow>();

  constructor(private readonly host: ShadowHost) {}

  /**
   * Starts `version` of a model in shadow (`null` stops the shadow) and reports its comparison so far.
   * Replacing or stopping a shadow lets it finish what it queued, then frees it.
   */
  async set(name: string, version: string | null): Promise<ShadowReport | null> {
    const model = this.host.model(name);
    if (!model) throw new NotFoundError(`no model named ${name} is configured`);
    let next: Shadow | undefined;
    if (version !== null) {
      const shadowTasks = this.host.tasks.shadowTasks;
      if (!shadowTasks.includes(model.manifest.task)) {
        throw new InvalidInputError(
          `shadow mode is available for ${shadowTasks.join(', ') || 'no'} models, not ${model.manifest.task}`,
          'name',
        );
      }
      if (version === model.manifest.version)
        throw new InvalidInputError(
          `version ${version} is the active version of ${name}; a shadow must be another one`,
          'version',
        );
      const manifest = readOtherVersion(model.root, version);
      try {
        next = {
          version: (await this.host.versions.start(model.root, manifest, undefined)).version,
          comparison: new ShadowComparison(version),
        };
      } catch (error) {
        throw new ModelUnavailableError(name, `shadow version ${version} was refused (${(error as Error).message})`);
      }
    }
    const previous = this.shadows.get(name);
    if (next) this.shadows.set(name, next);
    else this.shadows.delete(name);
    this.host.logger.info(
      { model: name, shadow: version, previous: previous?.version.manifest.version },
      version ? 'shadow version started' : 'shadow stopped',
    );
    if (previous) this.host.versions.retire(name, previous.version.manifest.version, previous.version);
    return next?.comparison.report() ?? null;
  }

  /** How the shadow version of a model compares with the active one; undefined without a shadow. */
  report(name: string): ShadowReport | undefined {
    return this.shadows.get(name)?.comparison.report();
  }

  /** The version running in shadow of a model, when there is one. */
  versionOf(name: string): string | undefined {
    return this.shadows.get(name)?.version.manifest.version;
  }

  /**
   * The shadow of a model as its active handle sees it. `I` and `O` are the model's: the registry's typed
   * handles pass the types their task's input kind fixes (a shadow is a version of the same model).
   */
  handle<I, O>(name: string): ShadowModel<I, O> | undefined {
    const shadow = this.shadows.get(name);
    if (!shadow) return undefined;
    const batcher = shadow.version.batcher as DynamicBatcher<I, O>;
    return {
      version: shadow.version.identity.version,
      dir: shadow.version.manifest.dir,
      inferMany: (inputs) => batcher.submitMany(inputs),
      record: (outcomes) => shadow.comparison.record(outcomes),
    };
  }

  /** Stops every shadow: lets running batches finish, then frees their runtimes. */
  async dispose(reason: string): Promise<void> {
    const shadows = [...this.shadows.values()];
    this.shadows.clear();
    await Promise.all(
      shadows.map(async ({ version }) => {
        await version.batcher.close(reason);
        await version.runtime.dispose();
      }),
    );
  }
}
