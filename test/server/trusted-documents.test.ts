import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { documentHash, TrustedDocuments } from '../../src/server/trusted-documents.js';

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
    assert.ok(docs.allows('# a comment\nquery Sentiment( $texts : [String!]! ) { sentiment(texts: $texts) { label, } }'));
    assert.ok(!docs.allows('query Sentiment($texts: [String!]!) { sentiment(texts: $texts) { label score } }'));
    assert.ok(!docs.allows('query Sentiment($texts: [String!]!) { sentiment(texts: $texts) { label } } "'), 'not even tokens');
    assert.ok(!docs.allows(`${body}\n#${' '.repeat(100_000)}`), 'too long to be lexed');
  });

  it('refuses a manifest whose id is not the SHA-256 of its body, or that is not a manifest, saying which', () => {
    assert.throws(() => TrustedDocuments.read(manifest([{ id: documentHash('x'), name: 'Sentiment', type: 'query', body }])), /operations\.0 \(Sentiment\) has id [0-9a-f]{64}, but its body hashes to [0-9a-f]{64}/);
    assert.throws(() => TrustedDocuments.read(manifest([{ id: 'abc', name: 'S', type: 'query', body }])), /operations\.0\.id: the hex SHA-256 of body/);
    const notJson = path.join(dir, 'not.json');
    writeFileSync(notJson, '{');
    assert.throws(() => TrustedDocuments.read(notJson), /is not readable JSON/);
  });
});
