// npm run trusted-documents [-- [--out FILE] DIR...]: writes the trusted-documents manifest (Apollo's persisted-query
// manifest format) of every operation in examples/ and in each DIR given (.graphql files, searched recursively;
// fragments may live in any of them). Each operation is checked against schema/schema.graphql and registered as its
// printed text with the fragments it uses; its id is the SHA-256 of that text. Default output:
// examples/trusted-documents.json, the manifest committed for the examples.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, Kind, parse, print, validate, visit, type DefinitionNode, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { REPO_ROOT } from '../src/platform/config.js';
import { documentHash, type TrustedDocumentsManifest } from '../src/server/trusted-documents.js';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = path.resolve(outAt >= 0 ? args.splice(outAt, 2)[1] ?? '' : path.join(REPO_ROOT, 'examples', 'trusted-documents.json'));
const dirs = [path.join(REPO_ROOT, 'examples'), ...args.map((d) => path.resolve(d))];

const files = dirs.flatMap((dir) => graphqlFiles(dir));
const operations: Array<{ node: OperationDefinitionNode; file: string }> = [];
const fragments = new Map<string, FragmentDefinitionNode>();
let failed = false;
for (const file of files) {
  let definitions: readonly DefinitionNode[];
  try {
    definitions = parse(readFileSync(file, 'utf8')).definitions;
  } catch (error) {
    console.error(`${file}: ${(error as Error).message}`);
    failed = true;
    continue;
  }
  for (const d of definitions) {
    if (d.kind === 'OperationDefinition') operations.push({ node: d, file });
    else if (d.kind === 'FragmentDefinition') {
      if (fragments.has(d.name.value) && print(fragments.get(d.name.value)!) !== print(d)) {
        console.error(`${file}: fragment ${d.name.value} is defined twice, differently`);
        failed = true;
      }
      fragments.set(d.name.value, d);
    }
  }
}

const schema = buildSchema(readFileSync(path.join(REPO_ROOT, 'schema', 'schema.graphql'), 'utf8'));
const manifest: TrustedDocumentsManifest = { format: 'apollo-persisted-query-manifest', version: 1, operations: [] };
const seen = new Set<string>();
for (const { node, file } of operations) {
  const used = usedFragments(node, file);
  if (!used) continue;
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [node, ...used] };
  const problems = validate(schema, document);
  const name = node.name?.value ?? '';
  if (problems.length) {
    console.error(`${file}: operation ${name || '(anonymous)'} does not validate against schema/schema.graphql: ${problems.map((p) => p.message).join('; ')}`);
    failed = true;
    continue;
  }
  const body = print(document);
  const id = documentHash(body);
  if (seen.has(id)) continue;
  seen.add(id);
  manifest.operations.push({ id, name, type: node.operation, body });
}

if (failed) {
  console.error('trusted documents: not written (fix the documents above)');
  process.exitCode = 1;
} else {
  manifest.operations.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  writeFileSync(out, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`trusted documents: ${manifest.operations.length} operations from ${files.length} files written to ${path.relative(process.cwd(), out) || out}`);
}

/** The .graphql files under a folder (node_modules and hidden folders skipped), in name order. */
function graphqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : graphqlFiles(full);
    return entry.name.endsWith('.graphql') ? [full] : [];
  });
}

/** The fragments an operation uses, transitively, in name order; undefined (and reported) when one is missing. */
function usedFragments(operation: OperationDefinitionNode, file: string): FragmentDefinitionNode[] | undefined {
  const names = new Set<string>();
  const pending: Array<OperationDefinitionNode | FragmentDefinitionNode> = [operation];
  while (pending.length) {
    visit(pending.pop()!, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (names.has(name)) return;
        names.add(name);
        const fragment = fragments.get(name);
        if (fragment) pending.push(fragment);
      },
    });
  }
  const missing = [...names].filter((n) => !fragments.has(n));
  if (missing.length) {
    console.error(`${file}: operation ${operation.name?.value ?? '(anonymous)'} uses fragment(s) ${missing.join(', ')} defined in none of the files`);
    failed = true;
    return undefined;
  }
  return [...names].sort().map((n) => fragments.get(n)!);
}
