import type { Scope } from '../platform/api-keys.js';
import type { ModelManifest } from './model-manifest.js';
import type { TabularOutputs } from './tabular-rows.js';
import type { TextClassification } from './transformers-runtime.js';

/** What a model of each input kind takes and answers: a task's `input` fixes its handles' types. */
export interface TaskIO {
  readonly text: { readonly input: string; readonly output: TextClassification };
  readonly rows: { readonly input: Float32Array; readonly output: TabularOutputs };
}

export type TaskInput = keyof TaskIO;

/**
 * What the rest of the gateway needs to know of a task (a manifest's `task`), looked up here instead of branching
 * on its name. Each domain module declares the tasks it serves (src/domains/); the runtime knows none by name.
 */
export interface TaskFacts {
  /** What crosses to the model: text (BYTES on the v2 protocol) or fixed-width FP32 rows. */
  readonly input: TaskInput;
  /** The API-key scope that may send it items (GraphQL fields and the v2 protocol alike). */
  readonly scope: Scope;
  /** Complexity units per item sent to the model, by how heavy its inference is. */
  readonly itemCost: number;
  /** Whether a shadow version's answers are compared (the others would only waste its work). */
  readonly shadow: boolean;
  /** The most items one v2 inference request may send. */
  readonly maxItems: number;
  /** Checks the files a version brings beyond its manifest before it may serve; throws with the reason. */
  readonly checkArtefacts?: (manifest: ModelManifest) => void;
  /** A local folder or hub id that replaces this task's transformers model (deployments with network access). */
  readonly modelOverride?: string;
}

/** The tasks this gateway serves, by name: built once at start from the domain modules. */
export class TaskCatalog {
  private readonly byName: ReadonlyMap<string, TaskFacts>;

  constructor(entries: Iterable<readonly [string, TaskFacts]>) {
    const byName = new Map<string, TaskFacts>();
    for (const [name, facts] of entries) {
      if (byName.has(name)) throw new Error(`two domains declare the task ${name}`);
      byName.set(name, facts);
    }
    this.byName = byName;
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  has(task: string): boolean {
    return this.byName.has(task);
  }

  /** The facts of a task; a task no domain serves is a configuration error (a manifest is checked at start). */
  facts(task: string): TaskFacts {
    const facts = this.byName.get(task);
    if (!facts) throw new Error(`task ${task} is served by no domain; tasks: ${this.names.join(', ')}`);
    return facts;
  }

  /** The tasks whose shadow versions are compared. */
  get shadowTasks(): string[] {
    return [...this.byName].filter(([, f]) => f.shadow).map(([name]) => name);
  }
}
