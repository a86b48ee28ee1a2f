import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import bytes from 'bytes';
import proxyaddr from 'proxy-addr';
import type { GatewayContext } from '../graphql/context.js';
import type { Logger } from '../platform/logger.js';
import { traceServerRequest } from '../platform/tracing.js';
import { admissionCost, persistedQueryHashOf, sendRefusal, type TrustedDocumentCheck } from './admission.js';
import {
  bodyRefusals,
  readJsonBody,
  type Passed,
  type PipelineEntry,
  type RequestPipeline,
} from './request-pipeline.js';

/**
 * GraphQL's part in the request pipeline, on either server: `readBody` reads the body; admission charges the query
 * text's size before it is parsed (its complexity is charged on top once known, by the limits plugin), then checks
 * trusted documents when they are enforced.
 */
export function graphqlEntry(
  readBody: PipelineEntry<unknown>['readBody'],
  trusted: TrustedDocumentCheck | undefined,
): PipelineEntry<unknown> {
  return {
    readBody,
    admission: (body, { caller }, { raw }) => {
      const { query, persistedQueryHash } = graphqlDocument(raw, body);
      const units = admissionCost(query.length);
      return {
        units,
        what: `this request's query text costs ${units} units before parsing`,
        check: trusted && (() => trusted(caller, query, persistedQueryHash)),
      };
    },
    send: sendRefusal,
  };
}

/** The query text and APQ hash Apollo will read: on GET the first parameter of each name, else the JSON body's. */
function graphqlDocument(req: IncomingMessage, body: unknown): { query: string; persistedQueryHash?: string } {
  const params = req.method === 'GET' ? new URLSearchParams(req.url?.split('?')[1] ?? '') : undefined;
  if (params)
    return {
      query: params.get('query') ?? '',
      persistedQueryHash: persistedQueryHashOf(params.get('extensions') ?? undefined),
    };
  const json = body as { query?: unknown; extensions?: unknown } | null | undefined;
  return {
    query: typeof json?.query === 'string' ? json.query : '',
    persistedQueryHash: persistedQueryHashOf(json?.extensions),
  };
}

export interface DirectGraphqlOptions {
  readonly apollo: ApolloServer<GatewayContext>;
  readonly context: (request: Passed<unknown>) => Promise<GatewayContext>;
  readonly pipeline: RequestPipeline;
  /** Trusted documents' check, when they are enforced. */
  readonly trusted: TrustedDocumentCheck | undefined;
  /** BODY_LIMIT, as Express's body parser reads it ("8mb"). */
  readonly bodyLimit: string;
  readonly trustProxyHops: number;
  /** CORS is configured: requests with an Origin header then go through Express, which answers CORS. */
  readonly cors: boolean;
  /** Tracing is on: each request gets its server span, as on the Express routes. */
  readonly traced: boolean;
  readonly logger: Logger;
}

/**
 * POST /graphql with an uncompressed UTF-8 JSON body, the API's everyday request, served on node:http
 * directly: the same request pipeline as the Express route (request-pipeline.ts), Apollo, and the server span
 * when tracing is on, without Express's per-request work (README: the HTTP layers' benchmark). Returns false for
 * anything else (GET, other paths and content types, compressed or non-UTF-8 bodies, cross-origin requests when
 * CORS is configured), which Express then serves.
 */
export function directGraphqlPath(
  options: DirectGraphqlOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limit = bytes.parse(options.bodyLimit) ?? 8 * 2 ** 20;
  const entry = graphqlEntry((req) => readJsonBody(req, limit), options.trusted);
  // Express's 'trust proxy' with a hop count: the address that many proxies back in X-Forwarded-For.
  const trusted = (_address: string, hop: number) => hop < options.trustProxyHops;
  return (req, res) => {
    if (!takesDirectPath(req, options.cors)) return false;
    const run = () =>
      void serve(req, res).catch((error: unknown) => {
        options.logger.error({ err: error }, 'unhandled HTTP error');
        if (!res.headersSent) sendRefusal(res, bodyRefusals.internal());
        else res.destroy();
      });
    if (options.traced) traceServerRequest(req, res, { name: '/graphql', url: req.url ?? '' }, run);
    else run();
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const passed = await options.pipeline.run(
      { raw: req, header: (name) => header(req, name), clientAddress: proxyaddr(req, trusted) },
      res,
      entry,
    );
    if (!passed) return;
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const response = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: 'POST',
        headers,
        search: url.includes('?') ? url.slice(url.indexOf('?')) : '',
        body: passed.body,
      },
      context: () => options.context(passed),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.setHeader('content-length', Buffer.byteLength(response.body.string));
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

function takesDirectPath(req: IncomingMessage, cors: boolean): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  if (url !== '/graphql' && !url.startsWith('/graphql?')) return false;
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') return false;
  if (cors && req.headers.origin !== undefined) return false;
  return /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i.test(req.headers['content-type'] ?? '');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
