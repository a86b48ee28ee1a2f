import path from 'node:path';
import type { ModelManifest } from './model-manifest.js';
import type { RuntimeFactory } from './model-registry.js';
import { TabularOnnxRuntime } from './onnx-runtime.js';
import { TextClassificationRuntime } from './transformers-runtime.js';

export interface RuntimeFactoryOptions {
  /** Replaces the source of the sentiment model: a local folder or a hub id. */
  readonly sentimentOverride?: string;
}

/** Builds the runtime adapter a manifest asks for. */
export function createRuntimeFactory(options: RuntimeFactoryOptions = {}): RuntimeFactory {
  return (manifest: ModelManifest) => {
    switch (manifest.runtime) {
      case 'transformers': {
        const override = manifest.task === 'sentiment' ? options.sentimentOverride : undefined;
        const source = override ? (override.startsWith('.') ? path.resolve(override) : override) : manifest.dir;
        return new TextClassificationRuntime({ source, dtype: manifest.dtype ?? 'q8' }) as never;
      }
      case 'onnx': {
        const input = manifest.inputs[0] as { name?: string; shape?: number[] } | undefined;
        const width = input?.shape?.[1];
        if (!input?.name || !width) throw new Error(`${manifest.name}: manifest inputs[0] must give name and shape [-1, width]`);
        return new TabularOnnxRuntime({ file: path.join(manifest.dir, manifest.artifact), inputName: input.name, width }) as never;
      }
      default: {
        const unreachable: never = manifest.runtime;
        throw new Error(`unknown runtime ${String(unreachable)}`);
      }
    }
  };
}
