import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildGatewaySchema, printSortedSchema } from '../../src/graphql/schema.js';
import { REPO_ROOT } from '../../src/platform/config.js';

describe('schema/schema.graphql', () => {
  it('is what the code emits (run `npm run schema` after changing the API)', async () => {
    const committed = readFileSync(path.join(REPO_ROOT, 'schema', 'schema.graphql'), 'utf8');
    assert.equal(printSortedSchema(await buildGatewaySchema()), committed);
  });
});
