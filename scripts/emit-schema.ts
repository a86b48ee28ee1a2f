// Rewrites schema/schema.graphql (the API, sorted) and schema/subgraph.graphql (the same schema as the
// Federation 2 subgraph a router composes) from the code-first schema (npm run schema).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSubgraph, printSubgraph } from '../src/graphql/federation.js';
import { buildGatewaySchema, printSortedSchema } from '../src/graphql/schema.js';
import { DOMAINS } from '../src/domains/index.js';
import { REPO_ROOT } from '../src/platform/config.js';

const schema = await buildGatewaySchema(DOMAINS);
for (const [name, text] of [
  ['schema.graphql', printSortedSchema(schema)],
  ['subgraph.graphql', printSubgraph(buildSubgraph(schema))],
] as const) {
  const file = path.join(REPO_ROOT, 'schema', name);
  writeFileSync(file, text);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
