// Rewrites schema/schema.graphql from the code-first schema (npm run schema).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildGatewaySchema, printSortedSchema } from '../src/graphql/schema.js';
import { REPO_ROOT } from '../src/platform/config.js';

const file = path.join(REPO_ROOT, 'schema', 'schema.graphql');
writeFileSync(file, printSortedSchema(await buildGatewaySchema()));
console.log(`wrote ${path.relative(process.cwd(), file)}`);
