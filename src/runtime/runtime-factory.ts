import { existsSync } from 'node:fs';
import path from 'node:path';
import { rowsInput, type ModelManifest } from './model-manifest.js';
import type { TaskCatalog } from './tasks.js';
import type { RuntimeFactory } from './model-versions.js';
import { createRuntimeFromSpec, type AnyRuntime, type RuntimeSpec } from './runtime-spec.js';
import { WorkerPoolRuntime, WorkerRuntime } from './worker-runtime.js';

export interface RuntimeFactoryOptions {
  /** The tasks served: what crosses to a remote model, and a task's replacement source for its transformers model. */
  readonly tasks: TaskCatalog;
  readonly allowRemoteModels: boolean;
  readonly localModelPath: string;
  /** onnxruntime intra-op threads of each transformer model worker. */
  readonly inferenceThreads: number;
  /** Worker threads per transformer model, each with its own copy of the model (default 1). */
  readonly modelWorkers?: number;
  /** onnxruntime intra-op threads of each tabular model's session (default: onnxruntime's, one per physical core). */
  readonly tabularThreads?: number;
  /** Where the ONNX tabular models run (default a worker thread per model version). */
  readonly tabularRuntime?: 'worker' | 'event-loop';
  /** Bearer key sent to remote v2 servers (runtime "remote"). */
  readonly remoteApiKey?: string;
}

/** Builds the runtime adapter a manifest asks for. */
export function createRuntimeFactory(options: RuntimeFactoryOptions): RuntimeFactory {
  return (manifest: ModelManifest) => {
    const spec = specFor(manifest, options);
    // onnxruntime-node runs a session synchronously on the calling thread, so a model on the event
    // loop stalls every request for the length of its batch (a profile put the credit model's
    // 1,000-row inferences at 26 % of the loop's time). Transformer models always run off it; the
    // tabular ones do unless configured not to, with one worker each: their batches are short, so
    // more copies would not pay for their memory.
    if (spec.kind === 'tabular-onnx')
      return options.tabularRuntime === 'event-loop'
        ? createRuntimeFromSpec(spec)
        : (new WorkerRuntime(spec) as AnyRuntime);
    if (spec.kind !== 'text-classification') return createRuntimeFromSpec(spec);
    const workers = options.modelWorkers ?? 1;
    return (workers > 1 ? new WorkerPoolRuntime(spec, workers) : new WorkerRuntime(spec)) as AnyRuntime;
  };
}

/** A local folder (./ or ../) stands for itself; anything else is a model id under localModelPath or on the hub. */
const overrideSource = (override: string) => (override.startsWith('.') ? path.resolve(override) : override);

/**
 * The folder whose files a manifest's runtime loads: its own, an overriding local folder, or null where the
 * model comes from the hub and this process cannot hash what it loads.
 */
export function artefactDirFor(options: Pick<RuntimeFactoryOptions, 'tasks' | 'localModelPath'>) {
  return (manifest: ModelManifest): string | null => {
    const override = manifest.runtime === 'transformers' ? options.tasks.facts(manifest.task).modelOverride : undefined;
    if (!override) return manifest.dir;
    const source = overrideSource(override);
    if (path.isAbsolute(source)) return source;
    const local = path.join(options.localModelPath, source);
    return existsSync(local) ? local : null;
  };
}

function specFor(manifest: ModelManifest, options: RuntimeFactoryOptions): RuntimeSpec {
  switch (manifest.runtime) {
    case 'transformers': {
      const override = options.tasks.facts(manifest.task).modelOverride;
      const source = override ? overrideSource(override) : manifest.dir;
      return {
        kind: 'text-classification',
        source,
        dtype: manifest.dtype ?? 'q8',
        intraOpThreads: options.inferenceThreads,
        allowRemoteModels: options.allowRemoteModels,
        localModelPath: options.localModelPath,
      };
    }
    case 'onnx': {
      const { name: inputName, width } = requireRows(manifest);
      return {
        kind: 'tabular-onnx',
        file: path.join(manifest.dir, manifest.artifact!),
        inputName,
        width,
        intraOpThreads: options.tabularThreads,
      };
    }
    case 'remote': {
      // The task says what crosses the wire: text, or the manifest's FP32 rows.
      const { input: kind } = options.tasks.facts(manifest.task);
      const rows = kind === 'rows' ? requireRows(manifest) : undefined;
      return {
        kind: 'remote',
        name: manifest.name,
        options: { ...manifest.remote!, apiKey: options.remoteApiKey },
        tensors: rows ? { kind: 'rows', inputName: rows.name, width: rows.width } : { kind: 'text' },
      };
    }
    default: {
      const unreachable: never = manifest.runtime;
      throw new Error(`unknown runtime ${String(unreachable)}`);
    }
  }
}

function requireRows(manifest: ModelManifest): { name: string; width: number } {
  const rows = rowsInput(manifest);
  if (!rows) throw new Error(`${manifest.name}: manifest inputs[0] must give name and shape [-1, width]`);
  return rows;
}
