import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { watchManifests } from '../../src/runtime/manifest-watcher.js';
import type { ModelRegistry } from '../../src/runtime/model-registry.js';
import { modelsFolder } from '../support/model-folders.js';
import { tabularRegistry } from '../support/tabular-registry.js';

describe('watchManifests', () => {
  let dir: string;
  let registry: ModelRegistry;
  let watcher: { close(): void };
  const logs: string[] = [];
  before(async () => {
    dir = modelsFolder('watch-', ['credit-gbt']);
    const logger = pino(
      { level: 'info' },
      new Writable({ write: (chunk, _enc, done) => done(void logs.push(String(chunk))) }),
    );
    registry = tabularRegistry(dir, logger);
    await registry.loadAll();
    watcher = watchManifests(registry, logger, 50);
  });
  after(async () => {
    watcher.close();
    await registry.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const until = async (what: string, done: () => boolean) => {
    for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(done(), what);
  };

  it('logs and ignores a manifest it cannot read, then activates the version a fixed one names', async () => {
    const file = path.join(dir, 'credit-gbt', 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, '{ "version": ');
    await until('the broken manifest is logged', () => logs.some((l) => l.includes('manifest change ignored')));
    assert.equal(registry.get('credit-gbt')?.identity.version, '2.1.0');
    writeFileSync(file, JSON.stringify({ ...manifest, version: '2.0.0' }));
    await until('version 2.0.0 is activated', () => registry.get('credit-gbt')?.identity.version === '2.0.0');
  });
});
