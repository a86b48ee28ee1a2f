import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/platform/config.js';

/** A temporary models folder with copies of the named shipped models (without their training code). */
export function modelsFolder(prefix: string, models: readonly string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  for (const name of models) {
    cpSync(path.join(REPO_ROOT, 'models', name), path.join(dir, name), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}train`),
    });
  }
  return dir;
}

const readManifest = (root: string) =>
  JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8')) as Record<string, unknown>;

/** Renumbers the top-level version of the model in `root`. */
export function setTopVersion(root: string, version: string): void {
  writeFileSync(path.join(root, 'manifest.json'), JSON.stringify({ ...readManifest(root), version }));
}

/** Adds versions/<version>/ to the model in `root`: a copy of its top-level artifacts under that number; its folder. */
export function addVersion(root: string, version: string): string {
  const vdir = path.join(root, 'versions', version);
  mkdirSync(vdir, { recursive: true });
  for (const f of ['model.onnx', 'features.json', 'baseline.json', 'metrics.json'])
    cpSync(path.join(root, f), path.join(vdir, f));
  writeFileSync(path.join(vdir, 'manifest.json'), JSON.stringify({ ...readManifest(root), version }));
  return vdir;
}
