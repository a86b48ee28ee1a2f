// npm run examples [-- URL]: runs every examples/*.graphql, with its variables file, against a running
// gateway (default http://localhost:4000/graphql) and fails if any answers with an error or no data.
// EXAMPLES_API_KEY is sent as a Bearer key when the gateway has API keys configured.
import path from 'node:path';
import { readExamples } from '../src/server/examples.js';
import { REPO_ROOT } from '../src/platform/config.js';

const url = process.argv[2] ?? 'http://localhost:4000/graphql';
const key = process.env.EXAMPLES_API_KEY;
let failed = 0;
const examples = readExamples(path.join(REPO_ROOT, 'examples'));
for (const example of examples) {
  const started = performance.now();
  let outcome: string;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query: example.query, variables: JSON.parse(example.variables) as unknown }),
    });
    const body = (await res.json()) as {
      data?: Record<string, unknown> | null;
      errors?: Array<{ message: string; extensions?: { code?: string } }>;
    };
    if (body.errors?.length || !body.data) {
      failed++;
      outcome = `FAILED (HTTP ${res.status}): ${(body.errors ?? []).map((e) => `${e.extensions?.code ?? ''} ${e.message}`).join('; ') || 'no data'}`;
    } else {
      const fields = Object.entries(body.data).map(([k, v]) => `${k}${Array.isArray(v) ? `[${v.length}]` : ''}`);
      outcome = `ok: ${fields.join(', ')}`;
    }
  } catch (error) {
    failed++;
    outcome = `FAILED: ${(error as Error).message}${(error as { cause?: Error }).cause ? ` (${(error as { cause: Error }).cause.message})` : ''}`;
  }
  console.log(
    `${example.name.padEnd(16)} ${Math.round(performance.now() - started)
      .toString()
      .padStart(5)} ms  ${outcome}`,
  );
}
console.log(`examples: ${examples.length - failed} answered, ${failed} failed (${url})`);
process.exitCode = failed || examples.length === 0 ? 1 : 0;
