import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';

/** Seeded: the same 20,000 requests every run, so a failure here reproduces with `npm run fuzz`. */
const CASES = 20_000;

describe('fuzz: 20,000 seeded abusive requests with API keys and rate limits on', () => {
  it('no INTERNAL_SERVER_ERROR, no undocumented 5xx, no unanswered request; ready afterwards and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fuzz-'));
    try {
      const out = path.join(dir, 'fuzz.json');
      const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'bench', 'fuzz.js'), String(CASES)], {
        env: { ...process.env, FUZZ_OUT: out },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      const summary = JSON.parse(readFileSync(out, 'utf8')) as {
        cases: number;
        failureCount: number;
        failures: unknown[];
        readyAfter: number;
        exitCode: number;
        byStatus: Record<string, number>;
      };
      assert.equal(summary.cases, CASES);
      assert.deepEqual(summary.failures, [], output.slice(-2000));
      assert.equal(summary.failureCount, 0);
      assert.equal(summary.readyAfter, 200);
      assert.equal(summary.exitCode, 0);
      assert.equal(
        Object.values(summary.byStatus).reduce((a, b) => a + b, 0),
        CASES,
        'every request got an answer',
      );
      assert.equal(code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
