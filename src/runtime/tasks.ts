import type { Scope } from '../platform/api-keys.js';

/** The tasks a model can serve (a manifest's `task`). */
export const TASKS = ['sentiment', 'entity-sentiment', 'credit', 'forecast'] as const;
export type Task = (typeof TASKS)[number];

/** What the rest of the gateway needs to know of a task, looked up here instead of branching on its name. */
export interface TaskFacts {
  /** What crosses to the model: text (BYTES on the v2 protocol) or fixed-width FP32 rows. */
  readonly input: 'text' | 'rows';
  /** The API-key scope that may send it items (GraphQL fields and the v2 protocol alike). */
  readonly scope: Scope;
  /** Complexity units per item sent to the model, by how heavy its inference is. */
  readonly itemCost: number;
  /** Whether a shadow version's answers are compared (the others would only waste its work). */
  readonly shadow: boolean;
}

export const TASK_FACTS: Readonly<Record<Task, TaskFacts>> = {
  sentiment: { input: 'text', scope: 'sentiment:read', itemCost: 10, shadow: false },
  // Its texts arrive with the target marked as <<target>>.
  'entity-sentiment': { input: 'text', scope: 'sentiment:read', itemCost: 10, shadow: false },
  credit: { input: 'rows', scope: 'credit:assess', itemCost: 1, shadow: true },
  forecast: { input: 'rows', scope: 'forecast:read', itemCost: 20, shadow: false },
};
