import type { ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import type { GatewayContext } from '../graphql/context.js';
import { rateKeyOf, type Caller, type CallerSource } from '../platform/api-keys.js';
import { GatewayError, GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { GatewayMetrics } from '../platform/metrics.js';
import type { RateLimiter } from '../platform/rate-limiter.js';
import type { FairInFlightLimit } from './fair-admission.js';
import { PRIORITY_HEADER, requestPriority } from '../platform/priority.js';

/** Who a request is, for auth and rate limits; set on `res.locals` by `admission`. */
export interface Admitted {
  readonly caller: Caller | undefined;
  /** Whom rate limits count against: the key's name, else the client address. */
  readonly rateKey: string;
}

/**
 * The caller a request's key or bearer JWT names, else its client address: whom limits count against. A JWT that
 * fails verification is a refusal (401, or 503 when the issuer's keys cannot be had), never an anonymous caller.
 */
export async function identify(keys: CallerSource, authorization: string | undefined, apiKey: string | undefined, clientAddress: string): Promise<Admitted | { refusal: Refusal }> {
  let caller: Caller | undefined;
  try {
    caller = await keys.authenticate(authorization, apiKey);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { refusal: refusal(httpStatusOf(error.code), error.message, { code: error.code, ...error.details }, error.code === GatewayErrorCode.UNAUTHENTICATED ? { 'www-authenticate': 'Bearer error="invalid_token"' } : { 'retry-after': '5' }) };
  }
  return { caller, rateKey: caller ? rateKeyOf(caller) : `ip:${clientAddress}` };
}

/** Characters of query text per rate-limit unit charged before parsing. */
export const ADMISSION_CHARS_PER_UNIT = 100;

/** Units a request pays before it is parsed: 1, plus 1 per 100 characters of its query text. */
export function admissionCost(queryLength: number): number {
  return 1 + Math.floor(queryLength / ADMISSION_CHARS_PER_UNIT);
}

/** A request refused before it reaches GraphQL: the status, headers and GraphQL-shaped body to answer with. */
export interface Refusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
}

/** A refusal with one error. */
export function refusal(status: number, message: string, extensions: Record<string, unknown>, headers: Record<string, string> = {}): Refusal {
  return { status, headers, body: { errors: [{ message, extensions }] } };
}

/** Answers a refusal on a plain or an Express response. */
export function sendRefusal(res: ServerResponse, answer: Refusal): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Identifies the caller and charges every request, before its query is parsed or validated, for the
 * size of its query text: requests that then fail parsing, validation or auth have still paid, so a
 * caller cannot spend the gateway's CPU on rejected documents for free. The query's complexity is
 * charged on top once it is known (limits plugin). Framework-neutral: Express and the direct POST path
 * (graphql-http.ts) both call it.
 */
export function createAdmission(keys: CallerSource, limiter: RateLimiter | undefined, metrics: GatewayMetrics, trusted?: TrustedDocumentCheck) {
  return async (request: AdmissionRequest): Promise<{ admitted: Admitted; refusal?: Refusal }> => {
    const identified = await identify(keys, request.authorization, request.apiKey, request.clientAddress);
    if ('refusal' in identified) {
      metrics.observeOperation(undefined, identified.refusal.body.errors[0]!.extensions.code as GatewayErrorCode, 0);
      return { admitted: { caller: undefined, rateKey: `ip:${request.clientAddress}` }, refusal: identified.refusal };
    }
    const admitted = identified;
    // After the charge, so that refused documents are paid for like any other.
    const checkDocument = () => {
      const refused = trusted?.(admitted.caller, request.query, request.persistedQueryHash);
      if (refused) metrics.observeOperation(undefined, refused.body.errors[0]!.extensions.code as GatewayErrorCode, 0);
      return refused ? { admitted, refusal: refused } : { admitted };
    };
    if (!limiter) return checkDocument();
    const cost = admissionCost(request.query.length);
    const decision = await limiter.take(admitted.rateKey, cost);
    if (decision.allowed) return checkDocument();
    metrics.observeOperation(undefined, GatewayErrorCode.RATE_LIMITED, 0);
    return {
      admitted,
      refusal: refusal(httpStatusOf(GatewayErrorCode.RATE_LIMITED),
        `rate limit: this request's query text costs ${cost} units before parsing and ${admitted.rateKey}'s budget refills at ${limiter.perSecond} units/s; retry in ${decision.retryAfterSeconds} s`,
        { code: GatewayErrorCode.RATE_LIMITED, retryAfterSeconds: decision.retryAfterSeconds }, { 'retry-after': String(decision.retryAfterSeconds) }),
    };
  };
}

export type Admission = ReturnType<typeof createAdmission>;

/** What admission reads of a request: its credentials, address, query text and APQ hash (`extensions.persistedQuery.sha256Hash`). */
export interface AdmissionRequest {
  authorization?: string;
  apiKey?: string;
  clientAddress: string;
  query: string;
  persistedQueryHash?: string;
}

/** Trusted documents' verdict on a request's document for its caller: a refusal, or undefined to let it run. */
export type TrustedDocumentCheck = (caller: Caller | undefined, query: string, persistedQueryHash: string | undefined) => Refusal | undefined;

/** The APQ hash of a request body or GET parameters (`extensions` is a JSON string on GET); undefined when absent or malformed. */
export function persistedQueryHashOf(extensions: unknown): string | undefined {
  let value = extensions;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const hash = (value as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery?.sha256Hash;
  return typeof hash === 'string' ? hash : undefined;
}

/** `admission` as Express middleware: sets `res.locals.admitted`, or answers the refusal. */
export function admission(admit: Admission): RequestHandler {
  return async (req, res, next) => {
    const body = req.body as { query?: unknown; extensions?: unknown } | undefined;
    // On GET, the parameters Apollo reads: the first of each name (Express would make a repeated one an array).
    const params = req.method === 'GET' ? new URLSearchParams(req.originalUrl.split('?')[1] ?? '') : undefined;
    const query = params ? params.get('query') ?? '' : typeof body?.query === 'string' ? body.query : '';
    const persistedQueryHash = persistedQueryHashOf(params ? params.get('extensions') ?? undefined : body?.extensions);
    let result;
    try {
      result = await admit({ authorization: req.header('authorization'), apiKey: req.header('x-api-key'), clientAddress: req.ip ?? '', query, persistedQueryHash });
    } catch (error) {
      next(error);
      return;
    }
    res.locals.admitted = result.admitted;
    if (result.refusal) sendRefusal(res, result.refusal);
    else next();
  };
}

/** The fair in-flight limit as Express middleware, for the caller the request's key, token or address names. */
export function inFlightMiddleware(limit: FairInFlightLimit, keys: CallerSource): RequestHandler {
  return async (req, res, next) => {
    let identified;
    try {
      identified = await identify(keys, req.header('authorization'), req.header('x-api-key'), req.ip ?? '');
    } catch (error) {
      next(error);
      return;
    }
    // A token that fails is refused by the route's own authentication, in its protocol's shape; meanwhile it counts as its address.
    const refused = 'refusal' in identified ? limit.enter(res, `ip:${req.ip ?? ''}`, requestPriority(undefined, req.header(PRIORITY_HEADER)))
      : limit.enter(res, identified.rateKey, requestPriority(identified.caller, req.header(PRIORITY_HEADER)));
    if (refused) sendRefusal(res, refused);
    else next();
  };
}

/** A response whose errors include OVERLOADED goes out as 503 with Retry-After, and one past its deadline as 504, which proxies and clients understand. */
export function overloadStatusPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (errors?.some((e) => e.extensions?.code === GatewayErrorCode.OVERLOADED)) {
            response.http.status = httpStatusOf(GatewayErrorCode.OVERLOADED);
            response.http.headers.set('retry-after', '1');
          } else if (errors?.some((e) => e.extensions?.code === GatewayErrorCode.DEADLINE_EXCEEDED)) {
            response.http.status = httpStatusOf(GatewayErrorCode.DEADLINE_EXCEEDED);
          }
        },
      };
    },
  };
}
