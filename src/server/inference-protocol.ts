import type { ServerResponse } from 'node:http';
import express, { Router, type ErrorRequestHandler, type Request } from 'express';
import { callerLabel, hasScope } from '../platform/api-keys.js';
import {
  ForbiddenError,
  GatewayError,
  GatewayErrorCode,
  httpStatusOf,
  InvalidInputError,
  NotFoundError,
} from '../platform/errors.js';
import { textProblem } from '../domains/market-rules.js';
import type { GatewayMetrics } from '../platform/metrics.js';
import type { ModelManifest } from '../runtime/model-manifest.js';
import type { SubmitAs } from '../runtime/dynamic-batcher.js';
import type { InferenceModel, ModelRegistry } from '../runtime/model-registry.js';
import type { TaskCatalog, TaskInput, TaskIO } from '../runtime/tasks.js';
import { refusalOf, sendRefusal, type Refusal } from './admission.js';
import { binaryOutputChoice, encodeInferResponse, INFERENCE_HEADER, readInferenceBody } from './binary-tensors.js';
import { expressRequest, parsedBody } from './express-pipeline.js';
import { FREE, noBody, type PipelineEntry, type RequestPipeline } from './request-pipeline.js';

/**
 * The Open Inference Protocol v2 (KServe v2, Triton's HTTP API) over this gateway's models: health,
 * server and model metadata, readiness and inference, with tensors as the protocol defines them
 * (`BYTES` for text). Requests go through the request pipeline as GraphQL's do (callers, the in-flight limit,
 * rate charges, priorities, deadlines and cancellation) to the same dynamic batchers, so any KServe or Triton
 * client can call the models directly. Errors are GatewayErrors answered in the protocol's shape,
 * `{ "error": "...", "code": "..." }`, with the code's HTTP status.
 *
 * What a model serves is its raw input and outputs (the credit model's engineered features and PD,
 * not a decision: nothing here is a credit decision, so nothing is recorded in the audit trail).
 */
export function inferenceProtocolRoutes(deps: {
  registry: ModelRegistry;
  pipeline: RequestPipeline;
  metrics: GatewayMetrics;
  bodyLimit: string;
  /** Each task's scope, item cost, item limit and tensors. */
  tasks: TaskCatalog;
  maxTextLength: number;
  lifecycle: { readonly draining: boolean };
}): Router {
  const { registry, pipeline } = deps;
  const router = Router();

  router.get('/v2', (_req, res) => {
    res.json({ name: 'fin-intel-gateway', version: SERVER_VERSION, extensions: ['binary_tensor_data'] });
  });
  // Health: the status code is the answer (200 true, 4xx false), the body empty.
  router.get('/v2/health/live', (_req, res) => void res.status(200).end());
  router.get(
    '/v2/health/ready',
    (_req, res) => void res.status(registry.ready && !deps.lifecycle.draining ? 200 : 400).end(),
  );

  const model = (req: Request) => {
    const name = String(req.params.name);
    const snapshot = registry.get(name);
    if (!snapshot)
      throw new NotFoundError(
        `model ${name} is not served here; models: ${registry
          .list()
          .map((m) => m.manifest.name)
          .join(', ')}`,
      );
    const version = req.params.version === undefined ? undefined : String(req.params.version);
    if (version !== undefined && version !== snapshot.identity.version) {
      throw new NotFoundError(
        `model ${name} version ${version} is not loaded; version ${snapshot.identity.version} is`,
      );
    }
    return snapshot;
  };
  // A model's metadata and readiness need a key, as GraphQL's models field does (only /v2/health/* is open to
  // probes); they are not charged.
  const metadata: PipelineEntry<undefined> = { ...PROTOCOL, readBody: noBody, admission: () => FREE };
  // The protocol's body is JSON whatever the client labels it (text/plain, no content type), or JSON and then
  // binary tensors when Inference-Header-Content-Length says so: read raw, split by binary-tensors.ts.
  const raw = parsedBody(express.raw({ limit: deps.bodyLimit, type: () => true }));
  const readTensors: PipelineEntry<unknown>['readBody'] = async (req, res) => {
    const read = await raw(req, res);
    if ('refusal' in read) return read;
    return {
      body: readInferenceBody(
        Buffer.isBuffer(read.body) ? read.body : Buffer.alloc(0),
        (req as Request).header(INFERENCE_HEADER),
      ).json,
    };
  };

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    router.get(prefix, async (req, res) => {
      if (!(await pipeline.run(expressRequest(req), res, metadata))) return;
      const { manifest } = model(req);
      const spec = tensorSpec(manifest, registry, deps.tasks);
      res.json({
        name: manifest.name,
        versions: [registry.get(manifest.name)!.identity.version],
        platform: PLATFORM[manifest.runtime],
        inputs: [spec.input],
        outputs: spec.outputs,
      });
    });
    router.get(`${prefix}/ready`, async (req, res) => {
      if (!(await pipeline.run(expressRequest(req), res, metadata))) return;
      const snapshot = model(req);
      res.status(snapshot.state.phase === 'ready' && !deps.lifecycle.draining ? 200 : 400).end();
    });
    router.post(`${prefix}/infer`, async (req, res) => {
      const started = performance.now();
      const { manifest } = model(req);
      const facts = deps.tasks.facts(manifest.task);
      const passed = await pipeline.run(expressRequest(req), res, {
        ...PROTOCOL,
        readBody: readTensors,
        // Charged before its tensors are checked, as a GraphQL document is before it is parsed: 1, and each item the
        // request declares at its task's item cost, as GraphQL's fields charge them; then the task's scope.
        admission: (json, { caller }) => {
          const units = 1 + declaredItems(json, facts.maxItems) * facts.itemCost;
          const forbidden =
            caller && !hasScope(caller, facts.scope)
              ? new ForbiddenError(
                  `${caller.via === 'jwt' ? 'bearer token of' : 'API key'} ${callerLabel(caller)} lacks the scope ${facts.scope} that this model needs`,
                )
              : undefined;
          return { units, what: `this request costs ${units} units`, check: () => forbidden && refusalOf(forbidden) };
        },
      });
      if (!passed) return;
      const spec = tensorSpec(manifest, registry, deps.tasks);
      const request = parseRequest(passed.body, spec, { maxItems: facts.maxItems, maxTextLength: deps.maxTextLength });
      // The caller, its priority, deadline and abort signal ride along to the batcher, as on GraphQL.
      const submitAs = { caller: passed.rateKey, ...passed.scheduling };
      // Each branch has its kind's item and answer types (one generic call cannot take the union).
      const answer = spec.kind === 'text' ? await infer(spec, request, submitAs) : await infer(spec, request, submitAs);
      const { body, headerLength } = encodeInferResponse(
        {
          model_name: answer.name,
          model_version: answer.version,
          ...(request.id !== undefined ? { id: request.id } : {}),
          outputs: answer.outputs,
        },
        binaryOutputChoice(passed.body),
      );
      if (headerLength !== undefined) res.setHeader(INFERENCE_HEADER, String(headerLength));
      res.type(headerLength === undefined ? 'application/json' : 'application/octet-stream').send(body);
      deps.metrics.observeOperation(OPERATION, 'ok', (performance.now() - started) / 1000);
    });
  }

  // Everything that goes wrong here is answered in the protocol's shape, never as HTML or a stack.
  const errors: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    const failure =
      error instanceof GatewayError
        ? error
        : new GatewayError('internal server error', GatewayErrorCode.INTERNAL_SERVER_ERROR);
    deps.metrics.observeOperation(OPERATION, failure.code, 0);
    sendProtocolRefusal(res, refusalOf(failure, httpStatusOf(failure.code) === 503 ? { 'retry-after': '1' } : {}));
  };
  router.use('/v2', errors);
  return router;
}

const SERVER_VERSION = '2';
const PLATFORM: Record<ModelManifest['runtime'], string> = {
  onnx: 'onnxruntime_onnx',
  transformers: 'transformersjs_onnx',
  remote: 'remote_v2',
};
/** The metrics' operation label of every v2 request. */
const OPERATION = 'v2_infer';

/** A refusal in the protocol's shape: `{ "error": message, "code" }`, with the refusal's status and headers. */
function sendProtocolRefusal(res: ServerResponse, answer: Refusal): void {
  const [first] = answer.body.errors;
  sendRefusal(res, answer, { error: first!.message, code: first!.extensions.code });
}

/** The protocol's part in the request pipeline: every route needs a caller when keys are configured. */
const PROTOCOL = {
  operation: OPERATION,
  requireCaller: true,
  explainPriority: false,
  send: sendProtocolRefusal,
} as const;

/** The items a request's input declares (its shape's first dimension), at most `max`: what it is charged before its tensors are checked. */
function declaredItems(json: unknown, max: number): number {
  const inputs = (json as { inputs?: unknown } | null | undefined)?.inputs;
  const shape = Array.isArray(inputs) ? (inputs[0] as { shape?: unknown } | null | undefined)?.shape : undefined;
  const rows: unknown = Array.isArray(shape) ? shape[0] : undefined;
  return typeof rows === 'number' && Number.isSafeInteger(rows) && rows > 0 ? Math.min(rows, max) : 0;
}

interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

interface TensorSpec<I, O> {
  readonly input: MetadataTensor;
  readonly outputs: MetadataTensor[];
  /** Builds the model's inputs from a validated flat tensor of `rows` items. */
  decode(data: readonly unknown[], rows: number): I[];
  /** The response's output tensors, all or those asked for. */
  encode(
    results: readonly O[],
    names: readonly string[] | undefined,
  ): Array<MetadataTensor & { data: unknown[]; parameters?: Record<string, string> }>;
  /** The model's handle, of the types its task's input kind fixes. */
  model(): InferenceModel<I, O>;
}

type TaskTensors = {
  [K in TaskInput]: TensorSpec<TaskIO[K]['input'], TaskIO[K]['output']> & { readonly kind: K };
}[TaskInput];

/** Runs a request's items through the model; an item the model refuses fails the request, named by its index. */
async function infer<I, O>(spec: TensorSpec<I, O>, request: ReturnType<typeof parseRequest>, caller: SubmitAs) {
  const handle = spec.model();
  const results = await handle.inferMany(spec.decode(request.data, request.rows), caller);
  const answers: O[] = [];
  for (const [i, result] of results.entries()) {
    if (result instanceof Error) {
      // A failure of the whole request (its deadline, its client gone, a full queue) keeps its code and status.
      if (result instanceof GatewayError && result.code !== GatewayErrorCode.BAD_USER_INPUT) throw result;
      throw new InvalidInputError(`${spec.input.name}[${i}]: ${result.message}`);
    }
    answers.push(result);
  }
  return { name: handle.name, version: handle.version, outputs: spec.encode(answers, request.outputs) };
}

/** A model's tensors, from its manifest: the sentiment classifier takes BYTES, tabular models FP32 rows. */
function tensorSpec(manifest: ModelManifest, registry: ModelRegistry, tasks: TaskCatalog): TaskTensors {
  const { name } = manifest;
  // Text classifiers take BYTES (the entity model's texts with their target already marked as <<target>>).
  if (tasks.facts(manifest.task).input === 'text') {
    const input = { name: manifest.inputs[0]?.name ?? 'text', datatype: 'BYTES', shape: [-1] };
    const labels = registry.modelLabels(name);
    return {
      kind: 'text',
      model: () => registry.textModel(name),
      input,
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, labels.length] },
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'truncated', datatype: 'BOOL', shape: [-1] },
      ],
      decode: (data) => data.map(String),
      encode: (rows, names) => {
        const all = [
          {
            name: 'probabilities',
            datatype: 'FP32',
            shape: [rows.length, labels.length],
            data: rows.flatMap((r) => r.probabilities),
            parameters: { labels: labels.join(',') },
          },
          {
            name: 'label',
            datatype: 'BYTES',
            shape: [rows.length],
            data: rows.map((r) => labels[r.probabilities.indexOf(Math.max(...r.probabilities))]!),
          },
          { name: 'truncated', datatype: 'BOOL', shape: [rows.length], data: rows.map((r) => r.truncated) },
        ];
        return names ? all.filter((t) => names.includes(t.name)) : all;
      },
    };
  }
  const first = manifest.inputs[0];
  const width = first?.shape?.[1] ?? 0;
  const outputs = manifest.outputs.map((o) => ({
    name: o.name,
    datatype: 'FP32',
    shape: [-1, ...(o.shape?.slice(1) ?? [])],
  }));
  return {
    kind: 'rows',
    model: () => registry.rowsModel(name),
    input: { name: first?.name ?? 'features', datatype: 'FP32', shape: [-1, width] },
    outputs,
    decode: (data, rows) =>
      Array.from({ length: rows }, (_, r) => Float32Array.from(data.slice(r * width, (r + 1) * width), Number)),
    encode: (rows, names) =>
      outputs
        .filter((o) => !names || names.includes(o.name))
        .map((o) => ({
          ...o,
          shape: [rows.length, ...o.shape.slice(1)],
          data: rows.flatMap((r) => Array.from(r[o.name]!)),
        })),
  };
}

/**
 * Validates an inference request against the model's tensors: one input of the right name, datatype
 * and shape, as many data elements as its shape says, each of the right type.
 */
function parseRequest(
  body: unknown,
  spec: Pick<TaskTensors, 'input' | 'outputs'>,
  limits: { maxItems: number; maxTextLength: number },
) {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new InvalidInputError('the request must be a JSON object with "inputs"');
  const { id, inputs, outputs } = body as { id?: unknown; inputs?: unknown; outputs?: unknown };
  if (id !== undefined && typeof id !== 'string')
    throw new InvalidInputError(`"id" must be a string, got ${typeof id}`);
  if (!Array.isArray(inputs) || inputs.length !== 1) {
    throw new InvalidInputError(
      `"inputs" must hold exactly one tensor, "${spec.input.name}", got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`,
    );
  }
  const input = inputs[0] as { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown };
  if (input.name !== spec.input.name)
    throw new InvalidInputError(`input tensor must be named "${spec.input.name}", got ${JSON.stringify(input.name)}`);
  if (input.datatype !== spec.input.datatype)
    throw new InvalidInputError(
      `input ${spec.input.name} must have datatype ${spec.input.datatype}, got ${JSON.stringify(input.datatype)}`,
    );
  const shape = input.shape;
  const expected = spec.input.shape;
  const shapeOk =
    Array.isArray(shape) &&
    (shape.length === expected.length || (expected.length === 1 && shape.length === 2 && shape[1] === 1)) &&
    shape.every((d) => Number.isInteger(d) && (d as number) >= 0) &&
    expected.slice(1).every((d, k) => d === -1 || shape[k + 1] === d);
  if (!shapeOk)
    throw new InvalidInputError(
      `input ${spec.input.name} must have shape [${expected.map((d) => (d === -1 ? 'n' : d)).join(', ')}], got ${JSON.stringify(shape)}`,
    );
  const rows = (shape as number[])[0]!;
  if (rows < 1 || rows > limits.maxItems)
    throw new InvalidInputError(`input ${spec.input.name} must hold 1..${limits.maxItems} items, got ${rows}`);
  const data = Array.isArray(input.data) ? (input.data as unknown[]).flat(Infinity) : undefined;
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (!data || data.length !== size)
    throw new InvalidInputError(
      `input ${spec.input.name} of shape ${JSON.stringify(shape)} must hold ${size} elements in "data", got ${data ? data.length : typeof input.data}`,
    );
  data.forEach((v, i) => {
    if (spec.input.datatype === 'BYTES') {
      const problem = textProblem(v, limits.maxTextLength);
      if (problem) throw new InvalidInputError(`${spec.input.name}[${i}] ${problem}`);
    } else if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 3.4e38) {
      throw new InvalidInputError(
        `${spec.input.name}[${i}] must be a finite FP32 number, got ${typeof v === 'number' ? v : JSON.stringify(v)}`,
      );
    }
  });
  let names: string[] | undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw new InvalidInputError('"outputs" must be a list of { "name" }');
    names = outputs.map((o) => (o as { name?: unknown })?.name as string);
    const unknown = names.filter((n) => !spec.outputs.some((o) => o.name === n));
    if (unknown.length)
      throw new InvalidInputError(
        `unknown output ${JSON.stringify(unknown[0])}; outputs: ${spec.outputs.map((o) => o.name).join(', ')}`,
      );
  }
  return { id, data, rows, outputs: names };
}
