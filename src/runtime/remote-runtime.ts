import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
  type IPolicy,
} from 'cockatiel';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { GatewayError, GatewayErrorCode, ModelUnavailableError } from '../platform/errors.js';
import { traceHeaders, tracer } from '../platform/tracing.js';
import type { ModelRuntime } from './model-runtime.js';

/** Where and how a model served by another Open Inference Protocol v2 server (Triton, KServe, another gateway) is called. */
export interface RemoteModelOptions {
  /** The server's base URL, without /v2. */
  readonly url: string;
  readonly model: string;
  readonly version?: string;
  /** Per attempt. */
  readonly timeoutMs: number;
  /** Further attempts after a failed one (network error, timeout, 5xx), with exponential backoff. */
  readonly retries: number;
  /** Consecutive failed calls that open the circuit: calls then fail at once, MODEL_UNAVAILABLE. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before one trial call may close it again. */
  readonly halfOpenAfterMs: number;
  /** Sent as `Authorization: Bearer` when the remote server needs a key. */
  readonly apiKey?: string;
}

/** What the remote model takes: text (BYTES) for classifiers, FP32 rows of a fixed width otherwise. */
export type RemoteTensorKind = { kind: 'text' } | { kind: 'rows'; inputName: string; width: number };

interface OutputTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

/** The remote side could not answer (down, timing out, 5xx): worth a retry, and counted by the breaker. */
class RemoteUnavailable extends Error {}

/**
 * A model runtime that sends each batch to a remote v2 server, so a heavy model can live on a
 * model-server cluster while this gateway keeps its schema, batching, explanations, audit and drift
 * monitoring. Each call has a timeout, retries with backoff, and a circuit breaker (cockatiel): while
 * the remote is down, batches fail at once with MODEL_UNAVAILABLE instead of hanging, and the first
 * trial after `halfOpenAfterMs` that succeeds closes the circuit again.
 */
export class RemoteRuntime implements ModelRuntime<unknown, unknown> {
  labels: readonly string[] = [];
  /** The version the remote server says it serves (its metadata's first version, or the pinned one it lists). */
  servedVersion: string | undefined;
  private readonly policy: IPolicy;
  private readonly base: string;

  constructor(
    private readonly name: string,
    private readonly options: RemoteModelOptions,
    private readonly tensors: RemoteTensorKind,
  ) {
    this.base = `${options.url.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(options.model)}${options.version ? `/versions/${encodeURIComponent(options.version)}` : ''}`;
    // Timeouts count as failures too: a remote that hangs must open the circuit like one that is down.
    const transient = handleWhen((error) => error instanceof RemoteUnavailable || error instanceof TaskCancelledError);
    this.policy = wrap(
      circuitBreaker(transient, {
        halfOpenAfter: options.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(options.failureThreshold),
      }),
      retry(transient, {
        maxAttempts: options.retries,
        backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }),
      }),
      timeout(options.timeoutMs, TimeoutStrategy.Aggressive),
    );
  }

  /** Checks that the remote model takes what this manifest says, and learns a classifier's labels. */
  async load(): Promise<void> {
    const metadata = (await this.call('GET', this.base)) as {
      versions?: unknown;
      inputs?: Array<{ name: string; datatype: string; shape: number[] }>;
    };
    const versions = Array.isArray(metadata.versions) ? metadata.versions.map(String) : [];
    if (this.options.version !== undefined && versions.length > 0 && !versions.includes(this.options.version)) {
      throw new Error(
        `remote model ${this.options.model} at ${this.options.url} serves version(s) ${versions.join(', ')}, not the pinned ${this.options.version}`,
      );
    }
    this.servedVersion = this.options.version ?? versions[0];
    const input = metadata.inputs?.[0];
    const expected =
      this.tensors.kind === 'text'
        ? { datatype: 'BYTES', shape: '[-1]' }
        : { datatype: 'FP32', shape: `[-1,${this.tensors.width}]` };
    if (!input || input.datatype !== expected.datatype || JSON.stringify(input.shape) !== expected.shape) {
      throw new Error(
        `remote model ${this.options.model} at ${this.options.url} takes ${JSON.stringify(input)}, expected ${expected.datatype} ${expected.shape}`,
      );
    }
    if (this.tensors.kind === 'rows' && input.name !== this.tensors.inputName) {
      throw new Error(
        `remote model ${this.options.model} names its input ${input.name}, the manifest ${this.tensors.inputName}`,
      );
    }
  }

  warmupInput(): unknown {
    return this.tensors.kind === 'text' ? 'Shares were little changed.' : new Float32Array(this.tensors.width).fill(1);
  }

  async run(inputs: readonly unknown[]): Promise<unknown[]> {
    const tensor =
      this.tensors.kind === 'text'
        ? { name: 'text', datatype: 'BYTES', shape: [inputs.length], data: inputs }
        : {
            name: this.tensors.inputName,
            datatype: 'FP32',
            shape: [inputs.length, this.tensors.width],
            data: inputs.flatMap((row) => Array.from(row as Float32Array)),
          };
    const response = (await this.call('POST', `${this.base}/infer`, { inputs: [tensor] })) as {
      model_version?: unknown;
      outputs?: OutputTensor[];
    };
    // An answer is recorded under the version that computed it: one from another version than this runtime serves is refused.
    const answered =
      response.model_version === undefined || response.model_version === null
        ? undefined
        : String(response.model_version);
    if (answered !== undefined && this.servedVersion === undefined) this.servedVersion = answered;
    if (answered !== undefined && answered !== this.servedVersion) {
      throw new ModelUnavailableError(
        this.name,
        `remote model ${this.options.model} answered as version ${answered}, but version ${this.servedVersion} was loaded${this.options.version ? ' (pinned)' : ''}; activate the version it now serves`,
      );
    }
    const outputs = response.outputs ?? [];
    return this.tensors.kind === 'text' ? this.textResults(outputs, inputs.length) : rowResults(outputs, inputs.length);
  }

  async dispose(): Promise<void> {}

  private textResults(outputs: readonly OutputTensor[], count: number) {
    const probabilities = outputs.find((o) => o.name === 'probabilities');
    const truncated = outputs.find((o) => o.name === 'truncated');
    const labels = String(probabilities?.parameters?.labels ?? '')
      .split(',')
      .filter(Boolean);
    if (!probabilities || labels.length === 0 || probabilities.data.length !== count * labels.length) {
      throw new ModelUnavailableError(
        this.name,
        `remote model ${this.options.model} answered without probabilities and their labels`,
      );
    }
    this.labels = labels;
    return Array.from({ length: count }, (_, i) => ({
      probabilities: probabilities.data.slice(i * labels.length, (i + 1) * labels.length) as number[],
      truncated: Boolean(truncated?.data[i]),
    }));
  }

  /** One HTTP exchange under the policy, in a client span whose traceparent the remote continues. */
  private call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<unknown> {
    return tracer.startActiveSpan(
      `remote.infer ${this.options.model}`,
      { kind: SpanKind.CLIENT, attributes: { 'server.address': this.options.url, 'model.name': this.name } },
      async (span) => {
        try {
          return await this.exchange(method, url, body);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /** What cannot be answered becomes MODEL_UNAVAILABLE or OVERLOADED. */
  private async exchange(method: 'GET' | 'POST', url: string, body?: unknown): Promise<unknown> {
    try {
      return await this.policy.execute(async ({ signal }) => {
        let res: Response;
        try {
          res = await fetch(url, {
            method,
            signal,
            headers: {
              ...traceHeaders(),
              ...(body ? { 'content-type': 'application/json' } : {}),
              ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
            },
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
        } catch (error) {
          throw new RemoteUnavailable(
            `${(error as Error).message}${(error as { cause?: Error }).cause ? ` (${(error as { cause: Error }).cause.message})` : ''}`,
          );
        }
        const text = await res.text();
        if (res.status >= 500 && res.status !== 503)
          throw new RemoteUnavailable(`HTTP ${res.status}: ${text.slice(0, 200)}`);
        if (res.status === 503 || res.status === 429) {
          throw new GatewayError(
            `model ${this.name} is overloaded at its remote server (HTTP ${res.status}); retry later`,
            GatewayErrorCode.OVERLOADED,
            { model: this.name, retryable: true },
          );
        }
        if (!res.ok)
          throw new ModelUnavailableError(
            this.name,
            `the remote server refused the call (HTTP ${res.status}: ${text.slice(0, 200)})`,
          );
        return JSON.parse(text) as unknown;
      });
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      const reason =
        error instanceof RemoteUnavailable
          ? error.message
          : error instanceof BrokenCircuitError
            ? 'its circuit is open after repeated failures'
            : error instanceof TaskCancelledError
              ? `no answer within ${this.options.timeoutMs} ms`
              : (error as Error).message;
      throw new ModelUnavailableError(this.name, `remote server ${this.options.url}: ${reason}`);
    }
  }
}

/** Splits each output tensor of n rows into one record of Float32Arrays per row. */
function rowResults(outputs: readonly OutputTensor[], count: number) {
  return Array.from({ length: count }, (_, i) =>
    Object.fromEntries(
      outputs.map((o) => {
        const per = o.data.length / count;
        return [o.name, Float32Array.from(o.data.slice(i * per, (i + 1) * per) as number[])];
      }),
    ),
  );
}
