import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { ModelsDocument, SentimentDocument } from '../generated/graphql.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { modelsFolder } from '../support/model-folders.js';

const MAIN = path.join(REPO_ROOT, 'dist', 'src', 'main.js');

/**
 * Runs the real entry point (or another command line, such as `npm start`); resolves with its exit code
 * and output. `onLine` sees each stdout line.
 */
function runMain(
  env: Record<string, string>,
  onLine: (line: string, kill: (s: NodeJS.Signals) => void) => void = () => {},
  command: readonly string[] = [process.execPath, MAIN],
) {
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', PRICE_DB_PATH: ':memory:', AUDIT_DB_PATH: ':memory:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: REPO_ROOT,
    detached: true, // its own process group: leftovers can be found
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      stdout += `${line}\n`;
      onLine(line, (s) => child.kill(s));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string; pid: number }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid! }));
  });
}

/** Whether any process is left in a process group. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A request that stays in flight for a while: 256 long texts, each truncated to the model's 128 tokens. */
function slowRequest(url: string): Promise<Response> {
  const texts = Array.from({ length: 256 }, (_, i) =>
    `Quarterly results of company ${i} beat expectations on strong demand. `.repeat(25),
  );
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query($t:[String!]!){ sentiment(texts:$t) { label } }', variables: { t: texts } }),
  });
}

/** Resolves once the gateway at `url` holds sentiment texts in its queue: the request is in flight, not just sent. */
async function whenQueued(url: string, request: Promise<Response>): Promise<void> {
  let settled = false;
  void request.finally(() => {
    settled = true;
  });
  for (;;) {
    assert.equal(settled, false, 'the slow request finished before it was seen in the queue');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ model(name: "sentiment-bert") { stats { queued } } }' }),
    });
    const body = (await res.json()) as { data?: { model: { stats: { queued: number } } } };
    if ((body.data?.model.stats.queued ?? 0) > 0) return;
  }
}

const readyUrl = (line: string) => {
  if (!line.startsWith('{')) return undefined; // npm's own banner lines
  const log = JSON.parse(line) as { msg: string; url?: string };
  return log.msg === 'gateway ready' ? log.url : undefined;
};

/** A models folder holding a copy of the sentiment model, with its manifest edited. */
function modelsDirWith(edit: (manifest: Record<string, unknown>) => void, breakArtifact = false): string {
  const dir = modelsFolder('models-', ['sentiment-bert']);
  const target = path.join(dir, 'sentiment-bert');
  const manifestFile = path.join(target, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(manifestFile, JSON.stringify(manifest));
  if (breakArtifact) writeFileSync(path.join(target, 'onnx', 'model_quantized.onnx'), 'not an onnx file');
  return dir;
}

describe('start-up and shutdown of the real process', () => {
  it('invalid configuration: one clear message and exit code 2', async () => {
    const { code, stderr } = await runMain({ PORT: 'eighty', MAX_QUERY_DEPTH: '1' });
    assert.equal(code, 2);
    assert.match(stderr, /invalid configuration: PORT: .*MAX_QUERY_DEPTH/);
  });

  it('a port in use, a missing models folder or an unknown model: one line on stderr and exit code 2', async () => {
    const holder = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    try {
      const port = String((holder.address() as net.AddressInfo).port);
      const cases: Array<[Record<string, string>, RegExp]> = [
        [
          { PORT: port },
          new RegExp(
            `^cannot start: listening on 127\\.0\\.0\\.1:${port} is already in use \\(set PORT to another port, or stop what holds it\\)\\n$`,
          ),
        ],
        [{ MODELS_DIR: '/nowhere' }, /^cannot start: models folder \/nowhere does not exist\n$/],
        [
          { MODELS: 'nope' },
          /^invalid configuration: MODELS names unknown model\(s\) nope; found credit-gbt, forecast-qnn, sentiment-bert, sentiment-entity\n$/,
        ],
      ];
      for (const [env, message] of cases) {
        const { code, stderr } = await runMain({ LOG_LEVEL: 'silent', ...env });
        assert.equal(code, 2, JSON.stringify(env));
        assert.match(stderr, message);
      }
    } finally {
      holder.close();
    }
  });

  it('npm start passes SIGTERM to the gateway: the in-flight request is answered and no process is left', async () => {
    let inflight: Promise<Response> | undefined;
    // --ignore-scripts skips the prestart build (npm test has just built dist/); the start script itself runs.
    const { code, stdout, pid } = await runMain(
      { LOG_LEVEL: 'info', MODELS: 'sentiment-bert', SHUTDOWN_TIMEOUT_MS: '120000', QUEUE_TIMEOUT_MS: '120000' },
      (line, kill) => {
        const url = readyUrl(line);
        if (url) {
          inflight = slowRequest(url);
          void whenQueued(url, inflight).then(() => kill('SIGTERM'));
        }
      },
      ['npm', 'start', '--ignore-scripts'],
    );
    assert.equal(code, 0);
    assert.match(stdout, /"signal":"SIGTERM"/);
    assert.match(stdout, /gateway stopped/);
    assert.equal((await inflight!).status, 200);
    assert.equal(groupAlive(pid), false, 'a process of npm start outlived it');
  });

  it('SHUTDOWN_DELAY_MS: after SIGTERM readiness is 503 while the listener still answers, then it closes', async () => {
    let during: Promise<[number, string, number]> | undefined;
    let url = '';
    const { code } = await runMain(
      { LOG_LEVEL: 'info', MODELS: 'sentiment-bert', SHUTDOWN_DELAY_MS: '1500' },
      (line, kill) => {
        url = readyUrl(line) ?? url;
        if (readyUrl(line)) {
          kill('SIGTERM');
          during = (async () => {
            // The signal reaches the process in its own time: readiness turns 503 once it has.
            let ready = await fetch(url.replace('/graphql', '/readyz'));
            while (ready.status === 200) ready = await fetch(url.replace('/graphql', '/readyz'));
            const body = (await ready.json()) as { status: string };
            const query = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query: '{ sentiment(texts: ["Shares rally"]) { label } }' }),
            });
            return [ready.status, body.status, query.status];
          })();
        }
      },
    );
    assert.equal(code, 0);
    assert.deepEqual(await during, [503, 'draining', 200]);
    await assert.rejects(
      fetch(url.replace('/graphql', '/healthz')),
      'the listener is closed once the process has exited',
    );
  });

  it('a required model that fails to load stops start-up with a message naming its file', async () => {
    const dir = modelsDirWith(() => {}, true);
    try {
      const { code, stdout } = await runMain({ MODELS_DIR: dir });
      assert.equal(code, 1);
      assert.match(
        stdout,
        /required model sentiment-bert failed to load \(models\/sentiment-bert\/onnx\/model_quantized\.onnx/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM: in-flight requests finish, then the process exits 0', async () => {
    let inflight: Promise<Response> | undefined;
    // The queue's and the drain's deadlines are far beyond the request's time even on a loaded machine: what is tested is that it finishes.
    const { code, stdout } = await runMain(
      { LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '120000', QUEUE_TIMEOUT_MS: '120000' },
      (line, kill) => {
        const url = readyUrl(line);
        if (url) {
          inflight = slowRequest(url);
          void whenQueued(url, inflight).then(() => kill('SIGTERM'));
        }
      },
    );
    assert.equal(code, 0);
    assert.match(stdout, /shutting down/);
    assert.match(stdout, /gateway stopped/);
    const res = await inflight!;
    assert.equal(res.status, 200);
    assert.match(stdout, /"signal":"SIGTERM".*\n.*"status":200/, 'the request finished after the signal');
    const body = (await res.json()) as { data: { sentiment: unknown[] } };
    assert.equal(body.data.sentiment.length, 256);
  });
});

describe('an optional model that fails to load', () => {
  let gw: Gateway;
  let dir: string;
  before(async () => {
    dir = modelsDirWith((m) => (m.required = false), true);
    gw = await startTestGateway({ MODELS_DIR: dir });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is reported FAILED, readiness stays 200, and its fields answer MODEL_UNAVAILABLE', async () => {
    const models = await gql(gw.url, ModelsDocument, {});
    const m = models.body.data!.models[0]!;
    assert.equal(m.state, 'FAILED');
    assert.match(m.failureReason!, /^models\/sentiment-bert\/onnx\/model_quantized\.onnx: /);
    assert.equal((await fetch(gw.url.replace('/graphql', '/readyz'))).status, 200);
    const res = await gql(gw.url, SentimentDocument, { texts: ['Stocks rise'] });
    assert.deepEqual(codes(res), ['MODEL_UNAVAILABLE']);
    assert.match(res.body.errors![0]!.message, /model sentiment-bert is unavailable: failed/);
  });
});
