import { pino } from 'pino';
import { readManifests } from '../../src/runtime/model-manifest.js';
import { ModelRegistry } from '../../src/runtime/model-registry.js';
import { createRuntimeFactory } from '../../src/runtime/runtime-factory.js';
import { TaskCatalog, type TaskFacts } from '../../src/runtime/tasks.js';

const rows = {
  input: 'rows',
  scope: 'credit:assess',
  itemCost: 1,
  shadow: false,
  maxItems: 10,
} as const satisfies TaskFacts;

/** A registry of the shipped credit and forecast models, as the gateway builds it, on the event loop. */
export function tabularRegistry(dir: string, logger = pino({ level: 'silent' })): ModelRegistry {
  const tasks = new TaskCatalog([
    ['credit', { ...rows, shadow: true }],
    ['forecast', { ...rows, scope: 'forecast:read' }],
    ['sentiment', { ...rows, input: 'text', scope: 'sentiment:read' }],
  ]);
  return new ModelRegistry(readManifests(dir), {
    tasks,
    logger,
    batching: {},
    createRuntime: createRuntimeFactory({
      tasks,
      allowRemoteModels: false,
      localModelPath: dir,
      inferenceThreads: 1,
      tabularRuntime: 'event-loop',
    }),
  });
}
