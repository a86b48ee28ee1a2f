// npm run trusted-documents [-- [--out FILE] [--caller NAME]... [--database-url URL] [--no-examples] DIR...]: writes the
// trusted-documents manifest (Apollo's persisted-query manifest format) of every operation in examples/ and in each DIR
// given (.graphql files, searched recursively; fragments may live in any of them). Each operation is checked against
// schema/schema.graphql and registered as its printed text with the fragments it uses; its id is the SHA-256 of that
// text. Default output: examples/trusted-documents.json, the manifest committed for the examples. --caller registers
// the operations for that API key's name (or jwt:<sub>) only; --database-url publishes them to the PostgreSQL table the
// gateways read (TRUSTED_DOCUMENTS_DATABASE_URL), replacing that caller's (or, without --caller, the global) set, and
// then writes a file only with --out.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  Kind,
  parse,
  print,
  validate,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { REPO_ROOT } from '../src/platform/config.js';
import pg from 'pg';
import { documentHash, type TrustedDocumentsManifest } from '../src/server/trusted-documents.js';
import { EVERY_CALLER, publishTrustedDocuments } from '../src/server/trusted-document-source.js';

const args = process.argv.slice(2);
/** Takes every `--name VALUE` out of args. */
const option = (name: string): string[] => {
  const values: string[] = [];
  for (let at = args.indexOf(name); at >= 0; at = args.indexOf(name)) {
    const value = args.splice(at, 2)[1];
    if (value === undefined || value.startsWith('--')) {
      console.error(`${name} needs a value`);
      process.exit(2);
    }
    values.push(value);
  }
  return values;
};
const flag = (name: string): boolean => {
  const at = args.indexOf(name);
  if (at >= 0) args.splice(at, 1);
  return at >= 0;
};
const outOption = option('--out')[0];
const callers = option('--caller');
const databaseUrl = option('--database-url')[0];
const withExamples = !flag('--no-examples');
if (callers.includes(EVERY_CALLER)) {
  console.error(`--caller ${EVERY_CALLER} is the global set: leave --caller out for it`);
  process.exit(2);
}
const out =
  outOption !== undefined
    ? path.resolve(outOption)
    : databaseUrl
      ? undefined
      : path.join(REPO_ROOT, 'examples', 'trusted-documents.json');
const dirs = [...(withExamples ? [path.join(REPO_ROOT, 'examples')] : []), ...args.map((d) => path.resolve(d))];

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
    console.error(
      `${file}: operation ${name || '(anonymous)'} does not validate against schema/schema.graphql: ${problems.map((p) => p.message).join('; ')}`,
    );
    failed = true;
    continue;
  }
  const body = print(document);
  const id = documentHash(body);
  if (seen.has(id)) continue;
  seen.add(id);
  manifest.operations.push({ id, name, type: node.operation, body, ...(callers.length ? { callers } : {}) });
}

if (failed) {
  console.error('trusted documents: not written (fix the documents above)');
  process.exitCode = 1;
} else {
  manifest.operations.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  if (out) {
    writeFileSync(out, `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(
      `trusted documents: ${manifest.operations.length} operations from ${files.length} files written to ${path.relative(process.cwd(), out) || out}`,
    );
  }
  if (databaseUrl) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    const owners = callers.length ? callers : [EVERY_CALLER];
    try {
      await publishTrustedDocuments(pool, owners, manifest.operations);
      console.log(
        `trusted documents: ${manifest.operations.length} operations published to PostgreSQL for ${callers.length ? callers.join(', ') : 'every caller'}`,
      );
    } catch (error) {
      console.error(`trusted documents: not published to PostgreSQL: ${(error as Error).message}`);
      process.exitCode = 1;
    } finally {
      await pool.end();
    }
  }
}

/** The .graphql files under a folder (node_modules and hidden folders skipped), in name order. */
function graphqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory())
        return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : graphqlFiles(full);
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
    console.error(
      `${file}: operation ${operation.name?.value ?? '(anonymous)'} uses fragment(s) ${missing.join(', ')} defined in none of the files`,
    );
    failed = true;
    return undefined;
  }
  return [...names].sort().map((n) => fragments.get(n)!);
}
