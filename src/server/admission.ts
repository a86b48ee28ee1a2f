import type { ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import type { GatewayContext } from '../graphql/context.js';
import type { ApiKeyRing, Caller } from '../platform/api-keys.js';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
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

/** The caller a request's key names, else its client address: whom limits count against. */
export function identify(keys: ApiKeyRing, authorization: string | undefined, apiKey: string | undefined, clientAddress: string): Admitted {
  const caller = keys.authenticate(authorization, apiKey);
  return { caller, rateKey: caller ? `key:${caller.name}` : `ip:${clientAddress}` };
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
export function createAdmission(keys: ApiKeyRing, limiter: RateLimiter | undefined, metrics: GatewayMetrics) {
  return async (request: { authorization?: string; apiKey?: string; clientAddress: string; query: string }): Promise<{ admitted: Admitted; refusal?: Refusal }> => {
    const admitted = identify(keys, request.authorization, request.apiKey, request.clientAddress);
    if (!limiter) return { admitted };
    const cost = admissionCost(request.query.length);
    const decision = await limiter.take(admitted.rateKey, cost);
    if (decision.allowed) return { admitted };
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

/** `admission` as Express middleware: sets `res.locals.admitted`, or answers the refusal. */
export function admission(admit: Admission): RequestHandler {
  return async (req, res, next) => {
    const body = req.body as { query?: unknown } | undefined;
    const query = typeof body?.query === 'string' ? body.query : typeof req.query.query === 'string' ? req.query.query : '';
    let result;
    try {
      result = await admit({ authorization: req.header('authorization'), apiKey: req.header('x-api-key'), clientAddress: req.ip ?? '', query });
    } catch (error) {
      next(error);
      return;
    }
    res.locals.admitted = result.admitted;
    if (result.refusal) sendRefusal(res, result.refusal);
    else next();
  };
}

/** The fair in-flight limit as Express middleware, for the caller the request's key or address names. */
export function inFlightMiddleware(limit: FairInFlightLimit, keys: ApiKeyRing): RequestHandler {
  return (req, res, next) => {
    const { caller, rateKey } = identify(keys, req.header('authorization'), req.header('x-api-key'), req.ip ?? '');
    const refused = limit.enter(res, rateKey, requestPriority(caller, req.header(PRIORITY_HEADER)));
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
