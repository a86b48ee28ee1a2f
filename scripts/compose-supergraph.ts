// npm run supergraph [-- SUBGRAPH_URL [OUTPUT]]: composes schema/subgraph.graphql into a Federation 2
// supergraph whose router sends this gateway's part to SUBGRAPH_URL (default: the compose balancer).
// Other teams' subgraphs join by composing theirs with it (e.g. with Hive's or Apollo's tooling).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { REPO_ROOT } from '../src/platform/config.js';

const DEFAULT_SUBGRAPH_URL = 'http://balancer:8080/graphql';

const [url = DEFAULT_SUBGRAPH_URL, output = path.join(REPO_ROOT, 'deploy', 'supergraph.graphql')] =
  process.argv.slice(2);
const result = composeServices([
  { name: 'intel', typeDefs: parse(readFileSync(path.join(REPO_ROOT, 'schema', 'subgraph.graphql'), 'utf8')), url },
]);
if (result.errors?.length) {
  for (const error of result.errors) process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
writeFileSync(output, `${result.supergraphSdl!.trim()}\n`);
console.log(`wrote ${path.relative(process.cwd(), output)} (subgraph intel at ${url})`);
