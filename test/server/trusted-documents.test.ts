import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Caller } from '../../src/platform/api-keys.js';
import { GatewayErrorCode } from '../../src/platform/errors.js';
import { createLogger } from '../../src/platform/logger.js';
import { PostgresPools } from '../../src/platform/databases.js';
import { TrustedDocumentSource } from '../../src/server/trusted-document-source.js';
import { documentHash, TrustedDocuments, type TrustedOperation } from '../../src/server/trusted-documents.js';

describe('TrustedDocuments', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trusted-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const body = 'query Sentiment($texts: [String!]!) {\n  sentiment(texts: $texts) {\n    label\n  }\n}';
  const manifest = (operations: unknown[]) => {
    const file = path.join(dir, `${operations.length}-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }));
    return file;
  };

  it('matches the registered text by hash, and free-form text up to whitespace, commas and comments only', () => {
    const docs = TrustedDocuments.read(manifest([{ id: documentHash(body), name: 'Sentiment', type: 'query', body }]));
    assert.equal(docs.get(documentHash(body))?.name, 'Sentiment');
    assert.ok(docs.allows(body));
    assert.ok(
      docs.allows('# a comment\nquery Sentiment( $texts : [String!]! ) { sentiment(texts: $texts) { label, } }'),
    );
    assert.ok(!docs.allows('query Sentiment($texts: [String!]!) { sentiment(texts: $texts) { label score } }'));
    assert.ok(
      !docs.allows('query Sentiment($texts: [String!]!) { sentiment(texts: $texts) { label } } "'),
      'not even tokens',
    );
    assert.ok(!docs.allows(`${body}\n#${' '.repeat(100_000)}`), 'too long to be lexed');
  });

  it('refuses a manifest whose id is not the SHA-256 of its body, or that is not a manifest, saying which', () => {
    assert.throws(
      () => TrustedDocuments.read(manifest([{ id: documentHash('x'), name: 'Sentiment', type: 'query', body }])),
      /operations\.0 \(Sentiment\) has id [0-9a-f]{64}, but its body hashes to [0-9a-f]{64}/,
    );
    assert.throws(
      () => TrustedDocuments.read(manifest([{ id: 'abc', name: 'S', type: 'query', body }])),
      /operations\.0\.id: the hex SHA-256 of body/,
    );
    const notJson = path.join(dir, 'not.json');
    writeFileSync(notJson, '{');
    assert.throws(() => TrustedDocuments.read(notJson), /is not readable JSON/);
  });

  const op = (name: string, body: string, callers?: string[]): TrustedOperation => ({
    id: documentHash(body),
    name,
    type: 'query',
    body,
    ...(callers ? { callers } : {}),
  });
  const globalOp = op('Sentiment', body);
  const partnerOp = op(
    'PartnerScores',
    'query PartnerScores($texts: [String!]!) {\n  sentiment(texts: $texts) {\n    label\n    score\n  }\n}',
    ['partner'],
  );
  const aliceOp = op('AliceModels', 'query AliceModels {\n  models {\n    name\n  }\n}', ['jwt:alice']);
  const caller = (name: string, via?: 'jwt', scopes: Caller['scopes'] = new Set(['sentiment:read'])): Caller => ({
    name,
    scopes,
    ...(via ? { via } : {}),
  });
  const code = (r: ReturnType<TrustedDocuments['verdict']>) => r?.body.errors[0]?.extensions.code;

  it('per caller: an operation registered for callers runs for them only (by hash or text); global ones for everyone', () => {
    const docs = new TrustedDocuments([globalOp, partnerOp, aliceOp], 'test');
    const [partner, other, alice] = [caller('partner'), caller('other'), caller('alice', 'jwt')];
    const cases: Array<[Caller | undefined, TrustedOperation, boolean]> = [
      [partner, globalOp, true],
      [partner, partnerOp, true],
      [partner, aliceOp, false],
      [other, globalOp, true],
      [other, partnerOp, false],
      [other, aliceOp, false],
      [alice, globalOp, true],
      [alice, partnerOp, false],
      [alice, aliceOp, true],
      [caller('alice'), aliceOp, false], // an API key named alice is not the JWT subject alice
      [undefined, globalOp, true],
      [undefined, partnerOp, false],
      [undefined, aliceOp, false],
    ];
    let checked = 0;
    for (const [who, o, allowed] of cases) {
      const label = `${who?.via ?? 'key'}:${who?.name ?? 'anonymous'} ${o.name}`;
      assert.equal(
        code(docs.verdict(who, '', o.id)),
        allowed ? undefined : GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND,
        label,
      );
      assert.equal(
        code(docs.verdict(who, o.body.replace(/\n\s*/g, ' '), undefined)),
        allowed ? undefined : GatewayErrorCode.OPERATION_NOT_ALLOWED,
        label,
      );
      checked++;
    }
    assert.equal(checked, cases.length);
    // The message counts the caller's own operations, not others'.
    assert.match(
      docs.verdict(partner, '{ __typename }', undefined)!.body.errors[0]!.message,
      /\(TRUSTED_DOCUMENTS=on, 2 in its manifest\)/,
    );
    assert.match(
      docs.verdict(undefined, '{ __typename }', undefined)!.body.errors[0]!.message,
      /\(TRUSTED_DOCUMENTS=on, 1 in its manifest\)/,
    );
    assert.equal(
      docs.verdict(caller('analyst', undefined, new Set(['explore'])), aliceOp.body, undefined),
      undefined,
      'explore runs anything',
    );
  });

  it('merges the entries of one operation: callers add up, and a global entry makes it global', () => {
    const docs = new TrustedDocuments(
      [
        { ...partnerOp, callers: ['partner'] },
        { ...partnerOp, callers: ['desk'] },
        op('AliceModels', aliceOp.body),
        { ...aliceOp, callers: ['x'] },
      ],
      'test',
    );
    assert.deepEqual(
      docs.operations.map((o) => [o.name, o.callers]),
      [
        ['PartnerScores', ['desk', 'partner']],
        ['AliceModels', undefined],
      ],
    );
    assert.ok(
      docs.allowsHash(partnerOp.id, 'desk') &&
        docs.allowsHash(partnerOp.id, 'partner') &&
        !docs.allowsHash(partnerOp.id, 'other'),
    );
    assert.ok(docs.allowsHash(aliceOp.id, undefined));
  });

  it('reads per-caller operations from a manifest file, and reads the file again on refresh only when it changed', async () => {
    const file = manifest([globalOp]);
    const source = (await TrustedDocumentSource.open(
      { file, databaseUrl: undefined, refreshMs: 0 },
      new PostgresPools(),
      createLogger('silent'),
    ))!;
    try {
      const check = source.check();
      assert.equal(code(check(caller('partner'), '', partnerOp.id)), GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND);
      assert.deepEqual(await source.refresh(), { source: file, changed: false, operations: 1 });
      writeFileSync(
        file,
        JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [globalOp, partnerOp] }),
      );
      assert.deepEqual(await source.refresh(), { source: file, changed: true, operations: 2 });
      assert.equal(
        check(caller('partner'), '', partnerOp.id),
        undefined,
        'the check made before the refresh sees the new documents',
      );
      assert.equal(code(check(caller('other'), '', partnerOp.id)), GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND);
      writeFileSync(
        file,
        '{ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [ { "id": "nope" } ] }',
      );
      await assert.rejects(source.refresh(), /operations\.0\.id: the hex SHA-256 of body/);
      assert.equal(
        check(caller('partner'), '', partnerOp.id),
        undefined,
        'a bad file keeps the documents loaded before',
      );
      assert.throws(
        () => TrustedDocuments.read(manifest([{ ...partnerOp, callers: [] }])),
        /operations\.0\.callers/,
        'an empty callers list would run for no one: refused',
      );
    } finally {
      await source.close();
    }
  });
});
