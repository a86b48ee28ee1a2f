import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { readManifest, type ModelManifest } from './model-manifest.js';

/**
 * What decided: the model's name, the version label it serves under, and the SHA-256 of the artefact(s) that
 * computed the answer (null for a remote model, whose server reports only a version).
 */
export interface ModelIdentity {
  readonly name: string;
  readonly version: string;
  readonly sha256: string | null;
}

/** Files beside a transformers.js model that change its answers as much as its weights do. */
const TRANSFORMERS_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** The files a local version's answers depend on, relative to its folder, sorted. */
export function artefactFiles(manifest: ModelManifest): string[] {
  if (!manifest.artifact) return [];
  const extra =
    manifest.runtime === 'transformers' ? TRANSFORMERS_FILES.filter((f) => existsSync(path.join(manifest.dir, f))) : [];
  return [manifest.artifact, ...extra].sort();
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  // Streamed: an activation during traffic must not hold the event loop for a whole file.
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * SHA-256 of a local version's artefacts: the file's own hash when there is one file (what `sha256sum` prints),
 * else the hash of the `sha256  path` lines of every file, as `sha256sum` writes them.
 */
export async function artefactSha256(manifest: ModelManifest): Promise<string> {
  const files = artefactFiles(manifest);
  const sums = await Promise.all(files.map((f) => fileSha256(path.join(manifest.dir, f))));
  if (sums.length === 1) return sums[0]!;
  return createHash('sha256')
    .update(files.map((f, i) => `${sums[i]}  ${f}\n`).join(''))
    .digest('hex');
}

/**
 * Refuses a local version whose label and artefact disagree, before anything is loaded:
 * - a `sha256` pinned in the manifest must be the artefact's;
 * - the top-level manifest may not claim a version that `versions/<version>/` holds with another artefact;
 * - `known` holds what this process has loaded so far (version -> sha256): a label names one artefact for the
 *   process's life. One artefact may carry several labels (a re-release); the hash recorded beside each says so.
 */
export async function verifyLocalIdentity(
  root: string,
  manifest: ModelManifest,
  sha256: string,
  known: ReadonlyMap<string, string>,
): Promise<void> {
  const where = path.relative(path.dirname(root), path.join(manifest.dir, 'manifest.json'));
  const pinned = (manifest as { sha256?: unknown }).sha256;
  if (typeof pinned === 'string' && pinned !== sha256) {
    throw new Error(`${where} pins sha256 ${pinned}, but its artefacts hash to ${sha256}`);
  }
  const seen = known.get(manifest.version);
  if (seen !== undefined && seen !== sha256) {
    throw new Error(
      `${where} says version ${manifest.version}, but version ${manifest.version} was loaded from artefacts with sha256 ${seen}, not ${sha256}: a version names one artefact`,
    );
  }
  const named = path.join(root, 'versions', manifest.version);
  if (path.resolve(manifest.dir) === path.resolve(named) || !existsSync(path.join(named, 'manifest.json'))) return;
  let other: ModelManifest | undefined;
  try {
    other = readManifest(named);
  } catch {
    other = undefined;
  }
  const otherSha = other && other.runtime !== 'remote' ? await artefactSha256(other).catch(() => undefined) : undefined;
  if (otherSha !== sha256) {
    throw new Error(
      `${where} says version ${manifest.version}, but its artefacts (sha256 ${sha256}) are not those of versions/${manifest.version}/ (${otherSha ?? 'unreadable'}): a version names one artefact`,
    );
  }
}
