import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DriftBaseline } from './drift-monitor.js';

/** One input or output tensor of a model as its manifest declares it; other keys (description, labels) pass through. */
const tensorSchema = z
  .object({
    name: z.string().min(1),
    /** The v2 protocol's datatype (FP32, BYTES), when the manifest gives one. */
    datatype: z.string().min(1).optional(),
    /** The element type as the training scripts write it (float32, string). */
    type: z.string().min(1).optional(),
    /** Dimensions; -1 for a free one (the batch). */
    shape: z.array(z.number().int().min(-1)).optional(),
  })
  .passthrough();

export type ManifestTensor = z.infer<typeof tensorSchema>;

const manifestSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    /** One of the tasks the domains declare (checked when the registry is built). */
    task: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    version: z.string().min(1),
    runtime: z.enum(['onnx', 'transformers', 'remote']),
    /** The model file, for local runtimes. */
    artifact: z.string().min(1).optional(),
    /** An Open Inference Protocol v2 server that serves the model, for runtime "remote". */
    remote: z
      .object({
        url: z.string().regex(/^https?:\/\/[^/]+/, 'an http(s):// URL'),
        model: z.string().min(1),
        version: z.string().min(1).optional(),
        timeoutMs: z.number().int().min(1).max(600_000).default(2000),
        retries: z.number().int().min(0).max(10).default(1),
        failureThreshold: z.number().int().min(1).max(1000).default(5),
        halfOpenAfterMs: z.number().int().min(1).max(600_000).default(5000),
      })
      .strict()
      .optional(),
    dtype: z.enum(['q8', 'fp32', 'fp16', 'int8', 'uint8', 'q4']).optional(),
    required: z.boolean().default(true),
    batching: z
      .object({
        maxBatchSize: z.number().int().min(1).max(4096),
        maxWaitMs: z.number().min(0).max(1000),
        maxQueue: z.number().int().min(1),
        maxQueueMs: z.number().min(1).max(600_000).optional(),
      })
      .strict(),
    inputs: z.array(tensorSchema).default([]),
    outputs: z.array(tensorSchema).default([]),
  })
  .passthrough()
  .superRefine((m, ctx) => {
    if (m.runtime === 'remote' && !m.remote)
      ctx.addIssue({ code: 'custom', path: ['remote'], message: 'runtime "remote" needs remote: { url, model }' });
    if (m.runtime !== 'remote' && !m.artifact)
      ctx.addIssue({ code: 'custom', path: ['artifact'], message: `runtime "${m.runtime}" needs an artifact file` });
  });

export type ModelManifest = z.infer<typeof manifestSchema> & {
  /** The model's folder. */
  readonly dir: string;
  /** metrics.json as written by the model's training/evaluation run ({} if absent). */
  readonly metrics: Record<string, unknown>;
  /** baseline.json (training distributions for drift monitoring), when the model ships one. */
  readonly baseline: DriftBaseline | undefined;
};

export class ManifestError extends Error {}

/** The name and width of a rows model's input (inputs[0] of shape [-1, width]); undefined when the manifest lacks either. */
export function rowsInput(manifest: Pick<ModelManifest, 'inputs'>): { name: string; width: number } | undefined {
  const input = manifest.inputs[0];
  const width = input?.shape?.[1];
  return input && width !== undefined && width > 0 ? { name: input.name, width } : undefined;
}

/** Reads `<dir>/<model>/manifest.json` for every model folder, validated; `only` keeps the named ones. */
export function readManifests(dir: string, only?: readonly string[]): ModelManifest[] {
  if (!existsSync(dir)) throw new ManifestError(`models folder ${dir} does not exist`);
  const manifests = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'manifest.json')))
    .map((d) => readManifest(path.join(dir, d.name)))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (only) {
    const unknown = only.filter((n) => !manifests.some((m) => m.name === n));
    if (unknown.length)
      throw new ManifestError(
        `MODELS names unknown model(s) ${unknown.join(', ')}; found ${manifests.map((m) => m.name).join(', ')}`,
      );
    return manifests.filter((m) => only.includes(m.name));
  }
  return manifests;
}

/**
 * The manifest of one version of a model: the top-level one when it names that version, else
 * `<model>/versions/<version>/manifest.json` (whose artifacts are relative to that folder).
 */
export function readVersionManifest(modelRoot: string, version: string): ModelManifest {
  if (!/^[\w.+-]{1,64}$/.test(version))
    throw new ManifestError(`version must be 1..64 letters, digits or . + - _, got "${version.slice(0, 70)}"`);
  const dir = path.join(modelRoot, 'versions', version);
  // The folder a version names wins over a top-level manifest that claims the same version.
  const top = existsSync(path.join(dir, 'manifest.json')) ? undefined : readManifest(modelRoot);
  if (top?.version === version) return top;
  if (top) throw new ManifestError(`model ${top.name} has no version ${version} (looked in versions/${version}/)`);
  const manifest = readManifest(dir);
  const name = path.basename(modelRoot);
  if (manifest.version !== version) {
    throw new ManifestError(
      `versions/${version}/manifest.json must name version ${version}, got ${manifest.name} ${manifest.version}`,
    );
  }
  if (manifest.name !== name && manifest.name !== readModelName(modelRoot)) {
    throw new ManifestError(`versions/${version}/manifest.json must name model ${name}, got ${manifest.name}`);
  }
  return manifest;
}

/**
 * Every version a model folder offers: the top-level one first, then those under versions/. `active` is listed
 * first when the top-level manifest cannot be read (a broken edit must not break the model's listing).
 */
export function listVersions(modelRoot: string, active?: string): string[] {
  let top: string | undefined;
  try {
    top = readManifest(modelRoot).version;
  } catch {
    top = active;
  }
  const dir = path.join(modelRoot, 'versions');
  const others = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  return [...new Set([...(top === undefined ? [] : [top]), ...others])];
}

/** The model name of a folder's top-level manifest, or undefined when it cannot be read. */
function readModelName(modelRoot: string): string | undefined {
  try {
    return readManifest(modelRoot).name;
  } catch {
    return undefined;
  }
}

export function readManifest(modelDir: string): ModelManifest {
  const file = path.join(modelDir, 'manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ManifestError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new ManifestError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const metricsFile = path.join(modelDir, 'metrics.json');
  const metrics = existsSync(metricsFile)
    ? (JSON.parse(readFileSync(metricsFile, 'utf8')) as Record<string, unknown>)
    : {};
  const baselineFile = path.join(modelDir, 'baseline.json');
  const baseline = existsSync(baselineFile)
    ? (JSON.parse(readFileSync(baselineFile, 'utf8')) as DriftBaseline)
    : undefined;
  return { ...parsed.data, dir: modelDir, metrics, baseline };
}
