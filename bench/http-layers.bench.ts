// npm run bench:http-layers: event-loop CPU per request of the HTTP and GraphQL layers alone, each in its own
// process under 32 autocannon clients sending the sentiment benchmark's one-headline requests: Node's HTTP server
// with a hand-written answer, Express with its JSON body parser, Apollo Server on a trivial schema behind Express and
// on node:http directly, then the gateway itself (with its model) for comparison. The method behind the README's
// case for serving POST /graphql without Express. Linux only (thread CPU from /proc). Writes bench/results/http-layers.json.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { REPO_ROOT } from '../src/platform/config.js';
import {
  GENEROUS_RATE_LIMIT,
  headlineBodies,
  loadRotating,
  startGatewayProcess,
  threadCpuMs,
} from './gateway-process.js';

const LAYERS = ['node:http', 'express + json', 'express + apollo', 'node:http + apollo'] as const;
type Layer = (typeof LAYERS)[number];
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);

/** The answer every layer gives: what the gateway answers for one text, without a model. */
const answer = (texts: readonly string[]) => texts.map(() => ({ label: 'POSITIVE', score: 0.9 }));

async function apollo() {
  const server = new ApolloServer({
    typeDefs: 'type S { label: String! score: Float! } type Query { sentiment(texts: [String!]!): [S!]! }',
    resolvers: { Query: { sentiment: async (_: unknown, args: { texts: string[] }) => answer(args.texts) } },
  });
  await server.start();
  return server;
}

async function serve(layer: Layer): Promise<http.Server> {
  if (layer === 'node:http' || layer === 'node:http + apollo') {
    const graphql = layer === 'node:http + apollo' ? await apollo() : undefined;
    return http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', async () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables: { t: string[] } };
          if (!graphql) {
            const text = JSON.stringify({ data: { sentiment: answer(body.variables.t) } });
            res
              .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
              .end(text);
            return;
          }
          const headers = new HeaderMap();
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
          const r = await graphql.executeHTTPGraphQLRequest({
            httpGraphQLRequest: { method: 'POST', headers, search: '', body },
            context: async () => ({}),
          });
          for (const [k, v] of r.headers) res.setHeader(k, v);
          res.statusCode = r.status ?? 200;
          res.end(r.body.kind === 'complete' ? r.body.string : '');
        });
    });
  }
  const app = express();
  if (layer === 'express + json') {
    app.use('/graphql', express.json(), (req, res) => {
      res.json({ data: { sentiment: answer((req.body as { variables: { t: string[] } }).variables.t) } });
    });
  } else {
    app.use('/graphql', express.json(), expressMiddleware(await apollo()));
  }
  return http.createServer(app);
}

if (process.argv[2] === 'serve') {
  process.env.NODE_ENV = 'production';
  const server = await serve(process.argv[3] as Layer);
  server.listen(0, '127.0.0.1', () =>
    console.log(`http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`),
  );
  process.on('SIGTERM', () => process.exit(0));
} else {
  const bodies = headlineBodies();
  const load = (url: string, connections: number, durationS: number) =>
    loadRotating(url, bodies, connections, durationS);
  /** Requests/s and event-loop CPU per request of the process `pid` at 32 clients, after a warm-up. */
  const measure = async (url: string, pid: number) => {
    await load(url, 8, 2);
    const before = threadCpuMs(pid)!;
    const result = await load(url, 32, DURATION_S);
    const after = threadCpuMs(pid)!;
    return {
      requestsPerSecond: Math.round(result.requests.average),
      eventLoopMsPerRequest: Math.round(((after.eventLoop - before.eventLoop) / result.requests.total) * 1000) / 1000,
      errors: result.errors + result.non2xx,
    };
  };
  const rows: Array<{ layer: string; requestsPerSecond: number; eventLoopMsPerRequest: number; errors: number }> = [];
  for (const layer of LAYERS) {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', layer], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve) =>
      child.stdout.setEncoding('utf8').once('data', (line: string) => resolve(line.trim())),
    );
    rows.push({ layer, ...(await measure(url, child.pid!)) });
    child.kill('SIGTERM');
  }
  const gw = await startGatewayProcess({ MODELS: 'sentiment-bert', ...GENEROUS_RATE_LIMIT });
  rows.push({ layer: 'the gateway (with its model)', ...(await measure(gw.url, gw.pid)) });
  await gw.stop();
  console.log('| layer | requests/s at 32 clients | event-loop CPU per request, ms |\n|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.layer} | ${r.requestsPerSecond} | ${r.eventLoopMsPerRequest} |${r.errors ? ` ${r.errors} errors` : ''}`,
    );
  mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    path.join(REPO_ROOT, 'bench', 'results', 'http-layers.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: `${os.cpus().length} x ${os.cpus()[0]?.model}`,
        durationS: DURATION_S,
        rows,
      },
      null,
      1,
    )}\n`,
  );
  process.exit(0);
}
