// Worker-thread entry: hosts one model runtime and answers load / run / dispose messages.
import { parentPort, workerData } from 'node:worker_threads';
import { TabularOnnxRuntime } from './onnx-runtime.js';
import { createRuntimeFromSpec, type RuntimeSpec } from './runtime-spec.js';
import type { WorkerRequest, WorkerResponse } from './worker-runtime.js';

const runtime = createRuntimeFromSpec(workerData as RuntimeSpec);
const port = parentPort!;

port.on('message', async (request: WorkerRequest) => {
  const reply = (response: WorkerResponse) => port.postMessage(response);
  try {
    switch (request.op) {
      case 'load':
        await runtime.load();
        reply({
          id: request.id,
          ok: true,
          result: { labels: runtime.labels ?? [], warmupInput: runtime.warmupInput() },
        });
        break;
      case 'run': {
        // Errors do not survive postMessage as Errors: send per-item failures as messages.
        const results = await runtime.run(request.inputs);
        reply({
          id: request.id,
          ok: true,
          result: results.map((r) => (r instanceof Error ? { itemError: r.message } : r)),
        });
        break;
      }
      case 'run-packed': {
        if (!(runtime instanceof TabularOnnxRuntime))
          throw new Error(`a packed batch for a ${(workerData as RuntimeSpec).kind} model`);
        const outputs = await runtime.runPacked(request.data, request.count);
        reply({ id: request.id, ok: true, result: outputs });
        break;
      }
      case 'dispose':
        await runtime.dispose();
        reply({ id: request.id, ok: true, result: null });
        break;
    }
  } catch (error) {
    reply({ id: request.id, ok: false, error: (error as Error).message });
  }
});
