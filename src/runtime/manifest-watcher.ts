import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../platform/logger.js';
import { readManifest } from './model-manifest.js';

/** What the watcher needs of the registry: each model's folder and active version, and activation. */
export interface WatchedModels {
  list(): ReadonlyArray<{ readonly root: string; readonly manifest: { readonly name: string } }>;
  get(name: string): { readonly manifest: { readonly version: string } } | undefined;
  /** Refusals are the registry's to log: the watcher only asks. */
  activate(name: string, version: string): Promise<unknown>;
}

/**
 * Watches every model's top-level manifest.json: when the version it names changes, that version is
 * activated (debounced, since editors write files in several steps). `close` stops watching.
 */
export function watchManifests(models: WatchedModels, logger: Logger, debounceMs = 500): { close(): void } {
  const watchers: FSWatcher[] = [];
  const timers = new Set<NodeJS.Timeout>();
  for (const {
    root,
    manifest: { name },
  } of models.list()) {
    let timer: NodeJS.Timeout | undefined;
    // The folder, not the file: an editor's save-by-rename replaces the file, which would end a file watch.
    const watcher = watch(root, (_event, file) => {
      if (file !== null && file !== 'manifest.json') return;
      if (timer) {
        clearTimeout(timer);
        timers.delete(timer);
      }
      const pending = setTimeout(() => {
        timers.delete(pending);
        let version: string;
        try {
          version = readManifest(root).version;
        } catch (error) {
          logger.error({ model: name, reason: (error as Error).message }, 'manifest change ignored');
          return;
        }
        if (version !== models.get(name)?.manifest.version) models.activate(name, version).catch(() => undefined);
      }, debounceMs);
      timer = pending;
      timers.add(pending);
    });
    watcher.on('error', () => watcher.close());
    watchers.push(watcher);
  }
  return {
    close() {
      for (const w of watchers.splice(0)) w.close();
      // A change seen just before closing must not activate a version while the registry is being disposed.
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
