import type { Logger } from '../platform/logger.js';
import { NotFoundError } from '../platform/errors.js';
import { DriftMonitor } from './drift-monitor.js';
import { DynamicBatcher, type BatchingOptions, type BatchReport, type DropReport } from './dynamic-batcher.js';
import { artefactSha256, verifyLocalIdentity, type ModelIdentity } from './model-identity.js';
import { readVersionManifest, type ModelManifest } from './model-manifest.js';
import type { ModelRuntime } from './model-runtime.js';
import type { TaskCatalog } from './tasks.js';

export type LabelledRuntime = ModelRuntime<unknown, unknown> & { labels?: readonly string[] };

export type RuntimeFactory = (manifest: ModelManifest) => LabelledRuntime;

export interface ModelStats {
  batches: number;
  items: number;
  failedItems: number;
}

/** One version of a model: its runtime, shared batcher and drift monitor, and the identity it serves as. */
export interface ModelVersion {
  readonly manifest: ModelManifest;
  readonly identity: ModelIdentity;
  readonly runtime: LabelledRuntime;
  readonly batcher: DynamicBatcher<unknown, unknown>;
  readonly monitor: DriftMonitor | undefined;
}

export interface VersionOptions {
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
  /**
   * The tasks the domains serve: a manifest of another task is refused at start; a task's `checkArtefacts`
   * (a credit model's features.json, for instance) runs before a version loads, and a version that fails it
   * fails like one whose artifact does not load; shadows run only for tasks that compare them.
   */
  readonly tasks: TaskCatalog;
  /** The folder a manifest's runtime loads its files from (null: from the hub, not hashable); the manifest's own by default. */
  readonly artefactDir?: (manifest: ModelManifest) => string | null;
}

/** Builds, loads, warms up and retires the versions of the registry's models (active ones and shadows alike). */
export class ModelVersions {
  /** Per model, the artefact hash each version label was loaded from in this process (a label names one artefact). */
  private readonly artefacts = new Map<string, Map<string, string>>();

  constructor(readonly options: VersionOptions) {}

  /**
   * Runtime, batcher and drift monitor of one model version (not loaded yet). Without `stats` (a shadow version),
   * its batches stay out of the model's counters and metrics.
   */
  build(manifest: ModelManifest, stats: ModelStats | undefined): ModelVersion {
    const { options } = this;
    const runtime = options.createRuntime(manifest);
    const batching = {
      maxQueueMs: options.queueTimeoutMs,
      ...manifest.batching,
      ...options.batching[manifest.name],
      concurrency: runtime.parallelism,
    };
    const batcher = new DynamicBatcher(
      manifest.name,
      (inputs) => runtime.run(inputs),
      batching,
      (report) => {
        if (!stats) return;
        stats.batches++;
        stats.items += report.size;
        stats.failedItems += report.failedItems;
        options.onBatch?.(manifest.name, report);
      },
      (report) => {
        if (stats) options.onDrop?.(manifest.name, report);
      },
    );
    const monitor = manifest.baseline
      ? new DriftMonitor(manifest.baseline, options.driftWindow ?? 5000, options.driftMinObservations)
      : undefined;
    const identity: ModelIdentity = { name: manifest.name, version: manifest.version, sha256: null };
    return { manifest, identity, runtime, batcher, monitor };
  }

  /**
   * Verifies a version's identity (its artefacts' hash against its label), checks it, loads its runtime and runs
   * its warm-up input. Resolves to the identity that will serve and the load and warm-up times in ms.
   */
  async warmUp(
    root: string,
    manifest: ModelManifest,
    runtime: LabelledRuntime,
  ): Promise<{ identity: ModelIdentity; loadMs: number; warmupMs: number }> {
    const known = this.artefacts.get(manifest.name) ?? new Map<string, string>();
    let sha256: string | null = null;
    const dir =
      manifest.runtime === 'remote'
        ? null
        : this.options.artefactDir
          ? this.options.artefactDir(manifest)
          : manifest.dir;
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
    return {
      identity: { name: manifest.name, version, sha256 },
      loadMs: Math.round(loadMs),
      warmupMs: Math.round(performance.now() - started - loadMs),
    };
  }

  /** Builds a version of the model in `root` and warms it up; a version that fails is disposed and its error rethrown. */
  async start(
    root: string,
    manifest: ModelManifest,
    stats: ModelStats | undefined,
  ): Promise<{ version: ModelVersion; warmupMs: number }> {
    const version = this.build(manifest, stats);
    try {
      const { identity, warmupMs } = await this.warmUp(root, manifest, version.runtime);
      return { version: { ...version, identity }, warmupMs };
    } catch (error) {
      await version.runtime.dispose().catch(() => undefined);
      throw error;
    }
  }

  /** Lets a replaced version finish what it queued, then frees it. */
  retire(name: string, version: string, old: Pick<ModelVersion, 'batcher' | 'runtime'>): void {
    void old.batcher
      .drain()
      .then(() => old.runtime.dispose())
      .catch((error: unknown) =>
        this.options.logger.error({ model: name, version, err: error }, 'disposing the replaced version failed'),
      );
  }
}

/** The manifest of another version of the model in `root`; NOT_FOUND when there is no such version. */
export function readOtherVersion(root: string, version: string): ModelManifest {
  try {
    return readVersionManifest(root, version);
  } catch (error) {
    throw new NotFoundError((error as Error).message);
  }
}
