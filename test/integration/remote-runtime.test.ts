import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { CreditAssessmentsDocument, SentimentDocument, type CardAccountInput } from '../generated/graphql.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { freePort } from '../support/redis-server.js';
import { startOtlpCollector, type OtlpSpan } from '../support/otlp-collector.js';

const MODELS = path.join(REPO_ROOT, 'models');
const vectors = JSON.parse(readFileSync(path.join(MODELS, 'credit-gbt', 'test_vectors.json'), 'utf8')) as Array<{
  account: CardAccountInput;
  probabilityOfDefault: number;
}>;

/** The gateway as a second process serving its models over the Open Inference Protocol on `port`. */
async function startRemote(port: number, otlp: string): Promise<{ child: ChildProcess; stopped: Promise<unknown> }> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'src', 'main.js')], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      MODELS: 'sentiment-bert,credit-gbt',
      PRICE_DB_PATH: ':memory:',
      AUDIT_DB_PATH: ':memory:',
      RATE_LIMIT_PER_SECOND: '0',
      LOG_LEVEL: 'info',
      MODEL_WATCH: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      OTEL_SERVICE_NAME: 'remote',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stopped = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('"msg":"gateway ready"')) resolve();
    });
    void stopped.then(() => reject(new Error('the remote gateway exited before it was ready')));
  });
  return { child, stopped };
}

/** Model folders whose manifests send inference to the remote server; drift baselines and features.json stay local. */
function remoteModels(url: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'remote-models-'));
  const remote = { url, timeoutMs: 2000, retries: 1, failureThreshold: 2, halfOpenAfterMs: 500 };
  const folder = (name: string, files: string[], manifest: Record<string, unknown>) => {
    mkdirSync(path.join(dir, name));
    for (const file of files)
      copyFileSync(
        path.join(MODELS, String((manifest.remote as { model: string }).model), file),
        path.join(dir, name, file),
      );
    writeFileSync(
      path.join(dir, name, 'manifest.json'),
      JSON.stringify({ name, version: '1.0.0', runtime: 'remote', required: true, ...manifest }),
    );
  };
  folder('sentiment-remote', ['baseline.json'], {
    task: 'sentiment',
    remote: { ...remote, model: 'sentiment-bert' },
    batching: { maxBatchSize: 64, maxWaitMs: 6, maxQueue: 4096 },
    inputs: [{ name: 'text', type: 'string' }],
  });
  const credit = JSON.parse(readFileSync(path.join(MODELS, 'credit-gbt', 'manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  folder('credit-remote', ['baseline.json', 'features.json'], {
    task: 'credit',
    remote: { ...remote, model: 'credit-gbt' },
    batching: credit.batching,
    inputs: credit.inputs,
    outputs: credit.outputs,
  });
  return dir;
}

describe('runtime "remote": models served by a second gateway process over the Open Inference Protocol', () => {
  let port: number;
  let remote: Awaited<ReturnType<typeof startRemote>>;
  let local: Gateway;
  let reference: Gateway;
  let dir: string;
  // Both gateways export their spans here, as they would to a collector.
  let collector: Awaited<ReturnType<typeof startOtlpCollector>>;
  let spans: OtlpSpan[];
  let otlp: string;
  before(async () => {
    collector = await startOtlpCollector();
    spans = collector.spans;
    otlp = collector.url;
    port = await freePort();
    remote = await startRemote(port, otlp);
    dir = remoteModels(`http://127.0.0.1:${port}`);
    [local, reference] = await Promise.all([
      startTestGateway({ MODELS_DIR: dir, OTEL_EXPORTER_OTLP_ENDPOINT: otlp }),
      startTestGateway({ MODELS: 'sentiment-bert,credit-gbt' }),
    ]);
  });
  after(async () => {
    remote.child.kill('SIGTERM');
    await Promise.all([local.stop(), reference.stop(), remote.stopped]);
    collector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers as the local models do: same sentiment probabilities, same credit PDs, reasons from local features.json', async () => {
    const texts = [
      'Apple beats earnings expectations and raises guidance',
      'Bank shares slump after surprise loss',
      'Oil steady',
    ];
    const [viaRemote, here] = await Promise.all(
      [local, reference].map((gw) => gql(gw.url, SentimentDocument, { texts })),
    );
    const remoteScores = viaRemote!.body.data!.sentiment;
    assert.deepEqual(
      remoteScores.map((r) => r.label),
      here!.body.data!.sentiment.map((r) => r.label),
    );
    remoteScores.forEach((r, i) => assert.ok(Math.abs(r.score - here!.body.data!.sentiment[i]!.score) < 1e-6));
    assert.equal(remoteScores[0]!.model.name, 'sentiment-remote');
    const accounts = vectors.slice(0, 20).map((v) => v.account);
    const credit = await gql(local.url, CreditAssessmentsDocument, { accounts });
    credit.body.data!.creditAssessments.forEach((a, i) => {
      assert.ok(Math.abs(a.probabilityOfDefault - vectors[i]!.probabilityOfDefault) < 1e-5);
      assert.ok(a.reasons.length > 0);
    });
  });

  it('a remote inference is a client span whose trace the remote server continues', async () => {
    await gql(local.url, SentimentDocument, { texts: ['Traced headline'] });
    // Both processes export in batches (every 5 s): wait for the remote's server span of this call.
    let client: OtlpSpan | undefined;
    let server: OtlpSpan | undefined;
    for (let i = 0; i < 80 && !server; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      server = spans.find(
        (s) =>
          s.name === 'POST /v2' &&
          spans.some((c) => c.name === 'remote.infer sentiment-bert' && c.spanId === s.parentSpanId),
      );
      client = server && spans.find((c) => c.spanId === server!.parentSpanId);
    }
    assert.ok(server && client, `spans: ${[...new Set(spans.map((s) => s.name))].join(', ')}`);
    assert.equal(server.traceId, client.traceId, 'the remote continued the trace of the inference call');
  });

  it('the remote going down gives MODEL_UNAVAILABLE quickly, not a hang; the circuit opens; it recovers when the remote returns', async () => {
    remote.child.kill('SIGKILL');
    await remote.stopped;
    const started = performance.now();
    const down = await gql(local.url, SentimentDocument, { texts: ['Shares rally'] });
    assert.deepEqual(codes(down), ['MODEL_UNAVAILABLE']);
    assert.ok(performance.now() - started < 3000, `answered in ${Math.round(performance.now() - started)} ms`);
    await gql(local.url, SentimentDocument, { texts: ['Shares rally'] });
    const open = await gql(local.url, SentimentDocument, { texts: ['Shares rally'] });
    assert.match(open.body.errors![0]!.message, /circuit is open after repeated failures/);
    assert.equal((await fetch(local.url.replace('/graphql', '/readyz'))).status, 200, 'the gateway itself stays up');

    remote = await startRemote(port, otlp);
    let recovered = false;
    for (let i = 0; i < 40 && !recovered; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      recovered =
        (await gql(local.url, SentimentDocument, { texts: ['Shares rally'] })).body.data?.sentiment[0]?.label ===
        'POSITIVE';
    }
    assert.ok(recovered, 'answers again once the remote is back and the circuit half-opens');
  });
});
