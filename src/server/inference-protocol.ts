import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { callerLabel, hasScope, rateKeyOf, type CallerSource, type Scope } from '../platform/api-keys.js';
import { isPriority, PRIORITIES, PRIORITY_HEADER, requestPriority, type Priority } from '../platform/priority.js';
import { GatewayError, GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import { textProblem } from '../domains/market-rules.js';
import type { GatewayMetrics } from '../platform/metrics.js';
import type { RateLimiter } from '../platform/rate-limiter.js';
import type { ModelManifest } from '../runtime/model-manifest.js';
import type { ModelRegistry } from '../runtime/model-registry.js';
import type { TaskCatalog } from '../runtime/tasks.js';
import { binaryOutputChoice, encodeInferResponse, INFERENCE_HEADER, readInferenceBody } from './binary-tensors.js';

/**
 * The Open Inference Protocol v2 (KServe v2, Triton's HTTP API) over this gateway's models: health,
 * server and model metadata, readiness and inference, with tensors as the protocol defines them
 * (`BYTES` for text). Inference goes through the same dynamic batchers, API-key scopes, rate limits
 * and metrics as GraphQL, so any KServe or Triton client can call the models directly. Errors are the
 * protocol's `{ "error": "..." }` with a 4xx status for the caller's mistakes.
 *
 * What a model serves is its raw input and outputs (the credit model's engineered features and PD,
 * not a decision: nothing here is a credit decision, so nothing is recorded in the audit trail).
 */
export function inferenceProtocolRoutes(deps: {
  registry: ModelRegistry;
  keys: CallerSource;
  limiter: RateLimiter | undefined;
  metrics: GatewayMetrics;
  bodyLimit: string;
  /** Each task's scope, item cost, item limit and tensors. */
  tasks: TaskCatalog;
  maxTextLength: number;
  lifecycle: { readonly draining: boolean };
}): Router {
  const { registry } = deps;
  const router = Router();

  router.get('/v2', (_req, res) => {
    res.json({ name: 'fin-intel-gateway', version: SERVER_VERSION, extensions: ['binary_tensor_data'] });
  });
  // Health: the status code is the answer (200 true, 4xx false), the body empty.
  router.get('/v2/health/live', (_req, res) => void res.status(200).end());
  router.get('/v2/health/ready', (_req, res) => void res.status(registry.ready && !deps.lifecycle.draining ? 200 : 400).end());

  const model = (req: Request) => {
    const name = String(req.params.name);
    const snapshot = registry.get(name);
    if (!snapshot) throw new ProtocolError(404, `model ${name} is not served here; models: ${registry.list().map((m) => m.manifest.name).join(', ')}`);
    const version = req.params.version === undefined ? undefined : String(req.params.version);
    if (version !== undefined && version !== snapshot.identity.version) {
      throw new ProtocolError(404, `model ${name} version ${version} is not loaded; version ${snapshot.identity.version} is`);
    }
    return snapshot;
  };

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    // A model's metadata and readiness need a key, as GraphQL's models field does; only /v2/health/* is open to probes.
    router.get(prefix, async (req, res) => {
      await authorize(req, deps.keys);
      const { manifest } = model(req);
      const spec = tensorSpec(manifest, registry.modelLabels(manifest.name), deps.tasks);
      res.json({ name: manifest.name, versions: [registry.get(manifest.name)!.identity.version], platform: PLATFORM[manifest.runtime], inputs: [spec.input], outputs: spec.outputs });
    });
    router.get(`${prefix}/ready`, async (req, res) => {
      await authorize(req, deps.keys);
      const snapshot = model(req);
      res.status(snapshot.state.phase === 'ready' && !deps.lifecycle.draining ? 200 : 400).end();
    });
    // The protocol's body is JSON whatever the client labels it (text/plain, no content type), or JSON and then
    // binary tensors when Inference-Header-Content-Length says so: read raw, split by binary-tensors.ts.
    router.post(`${prefix}/infer`, express.raw({ limit: deps.bodyLimit, type: () => true }), async (req, res, next) => {
      const started = performance.now();
      try {
        const { manifest } = model(req);
        const caller = await authorize(req, deps.keys, deps.tasks.facts(manifest.task).scope);
        const spec = tensorSpec(manifest, registry.modelLabels(manifest.name), deps.tasks);
        const { json } = readInferenceBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.header(INFERENCE_HEADER));
        const request = parseRequest(json, spec, { maxItems: deps.tasks.facts(manifest.task).maxItems, maxTextLength: deps.maxTextLength });
        if (deps.limiter) {
          const cost = 1 + request.items.length * deps.tasks.facts(manifest.task).itemCost;
          const decision = await deps.limiter.take(caller.rateKey, cost);
          if (!decision.allowed) {
            res.setHeader('retry-after', String(decision.retryAfterSeconds));
            throw new ProtocolError(429, `rate limit: this request costs ${cost} units and ${caller.rateKey}'s budget refills at ${deps.limiter.perSecond} units/s; retry in ${decision.retryAfterSeconds} s`);
          }
        }
        const handle = registry.model<unknown, unknown>(manifest.name);
        const results = await handle.inferMany(request.items, { caller: caller.rateKey, priority: caller.priority });
        const failed = results.findIndex((r) => r instanceof Error);
        if (failed >= 0) throw new ProtocolError(400, `${spec.input.name}[${failed}]: ${(results[failed] as Error).message}`);
        const { body, headerLength } = encodeInferResponse({
          model_name: handle.name, model_version: handle.version, ...(request.id !== undefined ? { id: request.id } : {}),
          outputs: spec.encode(results, request.outputs),
        }, binaryOutputChoice(json));
        if (headerLength !== undefined) res.setHeader(INFERENCE_HEADER, String(headerLength));
        res.type(headerLength === undefined ? 'application/json' : 'application/octet-stream').send(body);
        deps.metrics.observeOperation('v2_infer', 'ok', (performance.now() - started) / 1000);
      } catch (error) {
        next(error);
      }
    });
  }

  // Everything that goes wrong here is answered in the protocol's shape, never as HTML or a stack.
  const errors: ErrorRequestHandler = (error: unknown, _req, res: Response, _next) => {
    const { status, message, code } = describeError(error);
    deps.metrics.observeOperation('v2_infer', status === 429 ? GatewayErrorCode.RATE_LIMITED : status >= 500 ? GatewayErrorCode.INTERNAL_SERVER_ERROR : String(status), 0);
    if (status === 503) res.setHeader('retry-after', '1');
    res.status(status).json({ error: message, ...(code !== undefined ? { code } : {}) });
  };
  router.use('/v2', errors);
  return router;
}

const SERVER_VERSION = '2';
const PLATFORM: Record<ModelManifest['runtime'], string> = { onnx: 'onnxruntime_onnx', transformers: 'transformersjs_onnx', remote: 'remote_v2' };

/** An error answered with its HTTP status and message as `{ "error": message }`. */
class ProtocolError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The code each protocol status stands for, so that every error body carries a stable `code` beside `error`. */
const CODE_OF_STATUS: Readonly<Record<number, GatewayErrorCode>> = {
  400: GatewayErrorCode.BAD_USER_INPUT, 401: GatewayErrorCode.UNAUTHENTICATED, 403: GatewayErrorCode.FORBIDDEN, 404: GatewayErrorCode.NOT_FOUND,
  413: GatewayErrorCode.PAYLOAD_TOO_LARGE, 429: GatewayErrorCode.RATE_LIMITED, 500: GatewayErrorCode.INTERNAL_SERVER_ERROR,
};

function describeError(error: unknown): { status: number; message: string; code?: GatewayErrorCode } {
  const described = describeStatus(error);
  return 'code' in described ? described : { ...described, code: CODE_OF_STATUS[described.status] };
}

function describeStatus(error: unknown): { status: number; message: string; code?: GatewayErrorCode } {
  if (error instanceof ProtocolError) return { status: error.status, message: error.message };
  if (error instanceof GatewayError) {
    const status = httpStatusOf(error.code);
    return { status, message: error.message, code: error.code };
  }
  const parser = error as { type?: string; status?: number; message?: string };
  if (parser.type === 'entity.too.large') return { status: 413, message: 'request body is too large (BODY_LIMIT)' };
  if (parser.type === 'entity.parse.failed') return { status: 400, message: 'request body must be valid JSON' };
  if (parser.status !== undefined && parser.status >= 400 && parser.status < 500) return { status: 400, message: parser.message ?? 'bad request' };
  return { status: 500, message: 'internal server error' };
}

/** The caller of a request and the budget it draws on, if its key (when keys are configured) has the scope. */
/** The caller, when keys are configured: any valid key, and `scope` when one is named. */
async function authorize(req: Request, keys: CallerSource, scope?: Scope): Promise<{ rateKey: string; priority: Priority }> {
  // A bearer JWT that fails verification rejects here with its 401 (or 503) GatewayError.
  const caller = await keys.authenticate(req.header('authorization'), req.header('x-api-key'));
  if (!keys.open) {
    if (!caller) throw new ProtocolError(401, 'a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key>');
    if (scope !== undefined && !hasScope(caller, scope)) throw new ProtocolError(403, `${caller.via === 'jwt' ? 'bearer token of' : 'API key'} ${callerLabel(caller)} lacks the scope ${scope} that this model needs`);
  }
  const asked = req.header(PRIORITY_HEADER)?.trim().toLowerCase();
  if (asked !== undefined && !isPriority(asked)) throw new ProtocolError(400, `${PRIORITY_HEADER} must be one of ${PRIORITIES.join(', ')}, got "${asked.slice(0, 32)}"`);
  return { rateKey: caller ? rateKeyOf(caller) : `ip:${req.ip}`, priority: requestPriority(caller, asked) };
}

interface MetadataTensor { name: string; datatype: string; shape: number[] }

interface TensorSpec {
  readonly input: MetadataTensor;
  readonly outputs: MetadataTensor[];
  /** Builds the model's inputs from a flat tensor of `rows` items. */
  decode(data: readonly unknown[], rows: number): unknown[];
  /** The response's output tensors, all or those asked for. */
  encode(results: readonly unknown[], names: readonly string[] | undefined): Array<MetadataTensor & { data: unknown[]; parameters?: Record<string, string> }>;
}

/** A model's tensors, from its manifest: the sentiment classifier takes BYTES, tabular models FP32 rows. */
function tensorSpec(manifest: ModelManifest, labels: readonly string[], tasks: TaskCatalog): TensorSpec {
  // Text classifiers take BYTES (the entity model's texts with their target already marked as <<target>>).
  if (tasks.facts(manifest.task).input === 'text') {
    const input = { name: String(manifest.inputs[0]?.name ?? 'text'), datatype: 'BYTES', shape: [-1] };
    return {
      input,
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, labels.length] },
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'truncated', datatype: 'BOOL', shape: [-1] },
      ],
      decode: (data) => [...data],
      encode: (results, names) => {
        const rows = results as Array<{ probabilities: number[]; truncated: boolean }>;
        const all = [
          { name: 'probabilities', datatype: 'FP32', shape: [rows.length, labels.length], data: rows.flatMap((r) => r.probabilities), parameters: { labels: labels.join(',') } },
          { name: 'label', datatype: 'BYTES', shape: [rows.length], data: rows.map((r) => labels[r.probabilities.indexOf(Math.max(...r.probabilities))]!) },
          { name: 'truncated', datatype: 'BOOL', shape: [rows.length], data: rows.map((r) => r.truncated) },
        ];
        return names ? all.filter((t) => names.includes(t.name)) : all;
      },
    };
  }
  const first = manifest.inputs[0] as { name?: string; shape?: number[] } | undefined;
  const width = first?.shape?.[1] ?? 0;
  const outputs = manifest.outputs.map((o) => ({ name: String(o.name), datatype: 'FP32', shape: [-1, ...((o.shape as number[] | undefined)?.slice(1) ?? [])] }));
  return {
    input: { name: first?.name ?? 'features', datatype: 'FP32', shape: [-1, width] },
    outputs,
    decode: (data, rows) => Array.from({ length: rows }, (_, r) => Float32Array.from(data.slice(r * width, (r + 1) * width) as number[])),
    encode: (results, names) => outputs.filter((o) => !names || names.includes(o.name)).map((o) => {
      const rows = results as Array<Record<string, Float32Array>>;
      return { ...o, shape: [rows.length, ...o.shape.slice(1)], data: rows.flatMap((r) => Array.from(r[o.name]!)) };
    }),
  };
}

/**
 * Validates an inference request against the model's tensors: one input of the right name, datatype
 * and shape, as many data elements as its shape says, each of the right type.
 */
function parseRequest(body: unknown, spec: TensorSpec, limits: { maxItems: number; maxTextLength: number }) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ProtocolError(400, 'the request must be a JSON object with "inputs"');
  const { id, inputs, outputs } = body as { id?: unknown; inputs?: unknown; outputs?: unknown };
  if (id !== undefined && typeof id !== 'string') throw new ProtocolError(400, `"id" must be a string, got ${typeof id}`);
  if (!Array.isArray(inputs) || inputs.length !== 1) {
    throw new ProtocolError(400, `"inputs" must hold exactly one tensor, "${spec.input.name}", got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`);
  }
  const input = inputs[0] as { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown };
  if (input.name !== spec.input.name) throw new ProtocolError(400, `input tensor must be named "${spec.input.name}", got ${JSON.stringify(input.name)}`);
  if (input.datatype !== spec.input.datatype) throw new ProtocolError(400, `input ${spec.input.name} must have datatype ${spec.input.datatype}, got ${JSON.stringify(input.datatype)}`);
  const shape = input.shape;
  const expected = spec.input.shape;
  const shapeOk = Array.isArray(shape) && (shape.length === expected.length || (expected.length === 1 && shape.length === 2 && shape[1] === 1))
    && shape.every((d) => Number.isInteger(d) && (d as number) >= 0)
    && expected.slice(1).every((d, k) => d === -1 || shape[k + 1] === d);
  if (!shapeOk) throw new ProtocolError(400, `input ${spec.input.name} must have shape [${expected.map((d) => (d === -1 ? 'n' : d)).join(', ')}], got ${JSON.stringify(shape)}`);
  const rows = (shape as number[])[0]!;
  if (rows < 1 || rows > limits.maxItems) throw new ProtocolError(400, `input ${spec.input.name} must hold 1..${limits.maxItems} items, got ${rows}`);
  const data = Array.isArray(input.data) ? (input.data as unknown[]).flat(Infinity) : undefined;
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (!data || data.length !== size) throw new ProtocolError(400, `input ${spec.input.name} of shape ${JSON.stringify(shape)} must hold ${size} elements in "data", got ${data ? data.length : typeof input.data}`);
  data.forEach((v, i) => {
    if (spec.input.datatype === 'BYTES') {
      const problem = textProblem(v, limits.maxTextLength);
      if (problem) throw new ProtocolError(400, `${spec.input.name}[${i}] ${problem}`);
    } else if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 3.4e38) {
      throw new ProtocolError(400, `${spec.input.name}[${i}] must be a finite FP32 number, got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
    }
  });
  let names: string[] | undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw new ProtocolError(400, '"outputs" must be a list of { "name" }');
    names = outputs.map((o) => (o as { name?: unknown })?.name as string);
    const unknown = names.filter((n) => !spec.outputs.some((o) => o.name === n));
    if (unknown.length) throw new ProtocolError(400, `unknown output ${JSON.stringify(unknown[0])}; outputs: ${spec.outputs.map((o) => o.name).join(', ')}`);
  }
  return { id, items: spec.decode(data, rows), outputs: names };
}
