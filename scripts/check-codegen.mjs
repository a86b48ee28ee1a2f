// Fails when test/generated/graphql.ts is not what `npm run codegen` would write from the committed
// schema and operation documents.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(tmpdir(), 'codegen-'));
const out = path.join(dir, 'graphql.ts');
try {
  execFileSync('npx', ['graphql-codegen', '--config', 'codegen.ts'], {
    env: { ...process.env, CODEGEN_OUT: out },
    stdio: 'inherit',
  });
  if (readFileSync(out, 'utf8') !== readFileSync('test/generated/graphql.ts', 'utf8')) {
    console.error('test/generated/graphql.ts is stale: run `npm run codegen` and commit the result');
    process.exit(1);
  }
  console.log('generated operations are up to date');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
