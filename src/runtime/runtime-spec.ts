import { TabularOnnxRuntime } from './onnx-runtime.js';
import { RemoteRuntime, type RemoteModelOptions, type RemoteTensorKind } from './remote-runtime.js';
import type { ModelRuntime } from './model-runtime.js';
import { configureTransformers, TextClassificationRuntime } from './transformers-runtime.js';

/** A serialisable description of a runtime: enough to build it in this thread or in a worker thread. */
export type RuntimeSpec =
  | {
      kind: 'text-classification';
      source: string;
      dtype: 'q8' | 'fp32' | 'fp16' | 'int8' | 'uint8' | 'q4';
      intraOpThreads: number;
      allowRemoteModels: boolean;
      localModelPath: string;
    }
  | { kind: 'tabular-onnx'; file: string; inputName: string; width: number; intraOpThreads?: number | undefined }
  | { kind: 'remote'; name: string; options: RemoteModelOptions; tensors: RemoteTensorKind };

export type AnyRuntime = ModelRuntime<unknown, unknown> & { labels?: readonly string[] };

/** Builds the adapter a spec describes, in the calling thread. */
export function createRuntimeFromSpec(spec: RuntimeSpec): AnyRuntime {
  switch (spec.kind) {
    case 'text-classification':
      configureTransformers({ allowRemoteModels: spec.allowRemoteModels, localModelPath: spec.localModelPath });
      return new TextClassificationRuntime({
        source: spec.source,
        dtype: spec.dtype,
        intraOpThreads: spec.intraOpThreads,
      }) as AnyRuntime;
    case 'tabular-onnx':
      return new TabularOnnxRuntime(spec) as unknown as AnyRuntime;
    case 'remote':
      return new RemoteRuntime(spec.name, spec.options, spec.tensors) as AnyRuntime;
    default: {
      const unreachable: never = spec;
      throw new Error(`unknown runtime spec ${JSON.stringify(unreachable)}`);
    }
  }
}
