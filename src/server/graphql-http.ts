import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import bytes from 'bytes';
import proxyaddr from 'proxy-addr';
import type { GatewayContext } from '../graphql/context.js';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { traceServerRequest } from '../platform/tracing.js';
import { identify, persistedQueryHashOf, refusal, sendRefusal, type Admission, type Admitted, type Refusal } from './admission.js';
import type { FairInFlightLimit } from './fair-admission.js';
import type { CallerSource } from '../platform/api-keys.js';
import { PRIORITY_HEADER, requestPriority } from '../platform/priority.js';
import type { RequestScheduling, Scheduling } from './request-scheduling.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Every request gets the gateway's own unique id (logs, the decision record) in x-gateway-request-id.
 * x-request-id echoes the caller's, when well-formed, for their correlation, else carries the gateway's:
 * callers may reuse theirs, so it never identifies a decision on its own.
 */
export function assignRequestIds(given: string | undefined, res: ServerResponse): { requestId: string; clientRequestId?: string } {
  const requestId = randomUUID();
  const clientRequestId = given && REQUEST_ID.test(given) ? given : undefined;
  res.setHeader('x-request-id', clientRequestId ?? requestId);
  res.setHeader('x-gateway-request-id', requestId);
  return clientRequestId ? { requestId, clientRequestId } : { requestId };
}

/** The answers to a body that cannot be read, the same on the direct path and on Express's. */
export const bodyRefusals = {
  tooLarge: (limit: number, length: number | undefined) => refusal(httpStatusOf(GatewayErrorCode.PAYLOAD_TOO_LARGE), `request body must be at most ${limit} bytes, got ${length}`, { code: GatewayErrorCode.PAYLOAD_TOO_LARGE }),
  notJson: () => refusal(httpStatusOf(GatewayErrorCode.BAD_REQUEST), 'request body must be valid JSON', { code: GatewayErrorCode.BAD_REQUEST }),
  incomplete: () => refusal(httpStatusOf(GatewayErrorCode.BAD_REQUEST), 'request body was not received in full', { code: GatewayErrorCode.BAD_REQUEST }),
  internal: () => refusal(httpStatusOf(GatewayErrorCode.INTERNAL_SERVER_ERROR), 'Internal server error', { code: GatewayErrorCode.INTERNAL_SERVER_ERROR }),
};

export interface DirectGraphqlOptions {
  readonly apollo: ApolloServer<GatewayContext>;
  readonly context: (request: { requestId: string; clientRequestId?: string; scheduling?: RequestScheduling } & Admitted) => Promise<GatewayContext>;
  readonly admit: Admission;
  /** The request's priority, deadline and abort signal (request-scheduling.ts). */
  readonly schedule: Scheduling;
  readonly inFlight: FairInFlightLimit;
  /** Who the in-flight limit counts a request against (before its body is read). */
  readonly keys: CallerSource;
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
 * directly: the same steps as the Express route (request ids, the in-flight limit, the body limit, JSON
 * errors, admission, Apollo, the server span when tracing is on) without Express's per-request work: Express
 * with its body parser measured 0.19 ms of event-loop CPU per request on the benchmark machine, Node's HTTP
 * alone 0.04 ms (npm run bench:http-layers). Returns false for anything else (GET, other paths and content
 * types, compressed or non-UTF-8 bodies, cross-origin requests when CORS is configured), which Express then
 * serves unchanged.
 */
export function directGraphqlPath(options: DirectGraphqlOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limit = bytes.parse(options.bodyLimit) ?? 8 * 2 ** 20;
  // Express's 'trust proxy' with a hop count: the address that many proxies back in X-Forwarded-For.
  const trusted = (_address: string, hop: number) => hop < options.trustProxyHops;
  return (req, res) => {
    if (!takesDirectPath(req, options.cors)) return false;
    const run = () => void serve(req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, 'unhandled HTTP error');
      if (!res.headersSent) sendRefusal(res, bodyRefusals.internal());
      else res.destroy();
    });
    if (options.traced) traceServerRequest(req, res, { name: '/graphql', url: req.url ?? '' }, run);
    else run();
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ids = assignRequestIds(header(req, 'x-request-id'), res);
    const clientAddress = proxyaddr(req, trusted);
    const authorization = header(req, 'authorization');
    const apiKey = header(req, 'x-api-key');
    // A bearer token that fails verification is refused before its body is read.
    const identified = await identify(options.keys, authorization, apiKey, clientAddress);
    if ('refusal' in identified) return sendRefusal(res, identified.refusal);
    const full = options.inFlight.enter(res, identified.rateKey, requestPriority(identified.caller, header(req, PRIORITY_HEADER)));
    if (full) return sendRefusal(res, full);
    const read = await readJsonBody(req, limit);
    // After the answer, Node's HTTP server reads and discards the rest of an over-long body, so that the
    // caller, still sending, gets the 413 rather than a reset connection (as on the Express route).
    if ('refusal' in read) return sendRefusal(res, read.refusal);
    const body = read.body as { query?: unknown; extensions?: unknown } | null;
    const { admitted, refusal: refused } = await options.admit({
      authorization, apiKey, clientAddress, query: typeof body?.query === 'string' ? body.query : '', persistedQueryHash: persistedQueryHashOf(body?.extensions),
    });
    if (refused) return sendRefusal(res, refused);
    const scheduled = options.schedule((name) => header(req, name), res, admitted.caller);
    if ('refusal' in scheduled) return sendRefusal(res, scheduled.refusal);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const response = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: url.includes('?') ? url.slice(url.indexOf('?')) : '', body: read.body },
      context: () => options.context({ ...ids, ...admitted, scheduling: scheduled.scheduling }),
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

/** The body as JSON, with the Express route's limits and answers: 413 past `limit`, 400 when not a JSON object or array. */
function readJsonBody(req: IncomingMessage, limit: number): Promise<{ body: unknown } | { refusal: Refusal }> {
  const tooLarge = (length: number) => ({ refusal: bodyRefusals.tooLarge(limit, length) });
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.resolve(tooLarge(declared));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        req.off('data', onData).off('end', onEnd);
        req.pause();
        resolve(tooLarge(received));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      // As body-parser's strict JSON: an empty body is {}, and only an object or an array is accepted.
      if (text.trim() === '') return resolve({ body: {} });
      const first = /^[\s\uFEFF]*(.)/.exec(text)?.[1];
      try {
        if (first !== '{' && first !== '[') throw new SyntaxError('not an object or array');
        resolve({ body: JSON.parse(text) as unknown });
      } catch {
        resolve({ refusal: bodyRefusals.notJson() });
      }
    };
    // The caller went away before sending all of it (as body-parser: 400; nobody is left to read it).
    const onError = () => resolve({ refusal: bodyRefusals.incomplete() });
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
