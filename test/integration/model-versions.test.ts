import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import { ActivateModelVersionDocument, CreditAssessmentsDocument, ModelByNameDocument } from '../generated/graphql.js';
import { sampleAccount } from '../support/accounts.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { addVersion, modelsFolder, setTopVersion } from '../support/model-folders.js';

/**
 * A models folder with credit-gbt 1.0.0 on top, its shipped challenger, a 1.1.0, a 9.9.8 whose features.json
 * asks for a feature the gateway does not know, and a 9.9.9 whose model file is not a model.
 */
function fixture(): string {
  const dir = modelsFolder('versions-', ['credit-gbt']);
  const root = path.join(dir, 'credit-gbt');
  setTopVersion(root, '1.0.0');
  addVersion(root, '1.1.0');
  const badFeatures = path.join(addVersion(root, '9.9.8'), 'features.json');
  const spec = JSON.parse(readFileSync(badFeatures, 'utf8')) as { features: Array<{ name: string }> };
  spec.features[5]!.name = 'favourite_colour';
  writeFileSync(badFeatures, JSON.stringify(spec));
  writeFileSync(path.join(addVersion(root, '9.9.9'), 'model.onnx'), 'not a model');
  return dir;
}

describe('versioned hot updates', () => {
  let gw: Gateway;
  let dir: string;
  before(async () => {
    dir = fixture();
    gw = await startTestGateway({ MODELS_DIR: dir, ALLOW_OPEN_ADMIN: 'true' });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const active = async () => (await gql(gw.url, ModelByNameDocument, { name: 'credit-gbt' })).body.data!.model!.version;

  it('swaps in another version under concurrent load without a failed request', async (t) => {
    assert.equal(await active(), '1.0.0');
    let stop = false;
    const seen = { ok: 0, failed: 0, versions: new Set<string>() };
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        const res = await gql(gw.url, CreditAssessmentsDocument, {
          accounts: Array.from({ length: 20 }, (_, k) => sampleAccount(c * 1000 + i * 20 + k)),
        });
        if (res.status !== 200 || res.body.errors) seen.failed++;
        else {
          seen.ok++;
          for (const a of res.body.data!.creditAssessments) seen.versions.add(a.model.version);
        }
      }
    };
    const load = Array.from({ length: 8 }, (_, c) => client(c));
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise((r) => setTimeout(r, 20));
    };
    await until(() => seen.ok + seen.failed >= 16); // the clients are all sending
    const beforeSwap = seen.ok + seen.failed;
    const swapped = await gql(gw.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '1.1.0' });
    assert.deepEqual(swapped.body.data!.activateModelVersion, {
      name: 'credit-gbt',
      version: '1.1.0',
      versions: ['1.0.0', '1.1.0', '2.0.0', '2.0.0-scorecard', '9.9.8', '9.9.9'],
      state: 'READY',
    });
    // Requests go on after the swap until the new version has answered some of them.
    await until(() => seen.versions.has('1.1.0') && seen.ok + seen.failed >= beforeSwap + 16);
    stop = true;
    await Promise.all(load);
    t.diagnostic(
      `swap under load: ${seen.ok + seen.failed} requests of 20 accounts from 8 clients, ${seen.failed} failed`,
    );
    assert.equal(seen.failed, 0, `${seen.failed} of ${seen.ok + seen.failed} requests failed during the swap`);
    assert.ok(seen.ok > 20, `only ${seen.ok} requests ran`);
    assert.deepEqual([...seen.versions].sort(), ['1.0.0', '1.1.0'], 'requests were served by both versions');
    assert.equal(await active(), '1.1.0');
  });

  it('refuses a version that fails to load or brings a features.json it cannot honour, and keeps the active one; unknown versions are NOT_FOUND', async () => {
    const broken = await gql(gw.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '9.9.9' });
    assert.deepEqual(codes(broken), ['MODEL_UNAVAILABLE']);
    assert.match(broken.body.errors![0]!.message, /version 9\.9\.9 was refused .*version 1\.1\.0 stays active/);
    const badFeatures = await gql(gw.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '9.9.8' });
    assert.deepEqual(codes(badFeatures), ['MODEL_UNAVAILABLE']);
    assert.match(
      badFeatures.body.errors![0]!.message,
      /version 9\.9\.8 was refused .*features\.json: unknown feature favourite_colour.*version 1\.1\.0 stays active/,
    );
    assert.equal(await active(), '1.1.0');
    const res = await gql(gw.url, CreditAssessmentsDocument, { accounts: [sampleAccount(1)] });
    assert.equal(res.body.data!.creditAssessments[0]!.model.version, '1.1.0');
    const unknown = await gql(gw.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '7.0.0' });
    assert.deepEqual(codes(unknown), ['NOT_FOUND']);
    assert.deepEqual(codes(await gql(gw.url, ActivateModelVersionDocument, { name: 'nope', version: '1' })), [
      'NOT_FOUND',
    ]);
  });

  it('activates the version a changed manifest.json names', async () => {
    const file = path.join(dir, 'credit-gbt', 'manifest.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version: '2.1.0' }));
    for (let i = 0; i < 50 && (await active()) !== '2.1.0'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await active(), '2.1.0');
  });

  it('keeps watching after editors save by rename (write a temporary file, rename it over the manifest), twice', async () => {
    const file = path.join(dir, 'credit-gbt', 'manifest.json');
    for (const version of ['1.1.0', '2.1.0']) {
      const temporary = `${file}.tmp-${version}`;
      writeFileSync(temporary, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version }));
      renameSync(temporary, file);
      for (let i = 0; i < 50 && (await active()) !== version; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await active(), version, `after the rename-save naming ${version}`);
    }
  });
});
