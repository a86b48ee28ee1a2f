import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import type { GatewayContext } from '../graphql/context.js';
import type { ApiKeyRing, Caller } from '../platform/api-keys.js';
import { GatewayErrorCode } from '../platform/errors.js';
import type { GatewayMetrics } from '../platform/metrics.js';
import type { RateLimiter } from '../platform/rate-limiter.js';

/** Who a request is, for auth and rate limits; set on `res.locals` by `admission`. */
export interface Admitted {
  readonly caller: Caller | undefined;
  /** Whom rate limits count against: the key's name, else the client address. */
  readonly rateKey: string;
}

/** Characters of query text per rate-limit unit charged before parsing. */
export const ADMISSION_CHARS_PER_UNIT = 100;

/** Units a request pays before it is parsed: 1, plus 1 per 100 characters of its query text. */
export function admissionCost(queryLength: number): number {
  return 1 + Math.floor(queryLength / ADMISSION_CHARS_PER_UNIT);
}

/**
 * Identifies the caller and charges every request, before its query is parsed or validated, for the
 * size of its query text: requests that then fail parsing, validation or auth have still paid, so a
 * caller cannot spend the gateway's CPU on rejected documents for free. The query's complexity is
 * charged on top once it is known (limits plugin).
 */
export function admission(keys: ApiKeyRing, limiter: RateLimiter | undefined, metrics: GatewayMetrics): RequestHandler {
  return async (req, res, next) => {
    const caller = keys.authenticate(req.header('authorization'), req.header('x-api-key'));
    const admitted: Admitted = { caller, rateKey: caller ? `key:${caller.name}` : `ip:${req.ip}` };
    res.locals.admitted = admitted;
    if (limiter) {
      const body = req.body as { query?: unknown } | undefined;
      const query = typeof body?.query === 'string' ? body.query : typeof req.query.query === 'string' ? req.query.query : '';
      const cost = admissionCost(query.length);
      let decision;
      try {
        decision = await limiter.take(admitted.rateKey, cost);
      } catch (error) {
        next(error);
        return;
      }
      if (!decision.allowed) {
        metrics.observeOperation(undefined, GatewayErrorCode.RATE_LIMITED, 0);
        res.status(429).setHeader('retry-after', String(decision.retryAfterSeconds)).json({
          errors: [{
            message: `rate limit: this request's query text costs ${cost} units before parsing and ${admitted.rateKey}'s budget refills at ${limiter.perSecond} units/s; retry in ${decision.retryAfterSeconds} s`,
            extensions: { code: GatewayErrorCode.RATE_LIMITED, retryAfterSeconds: decision.retryAfterSeconds },
          }],
        });
        return;
      }
    }
    next();
  };
}

/**
 * Admission control: beyond `max` GraphQL requests in progress, a new one is refused at once with
 * 503 and Retry-After (before its body is read), so an overloaded gateway says so instead of letting
 * callers time out in its queues.
 */
export function concurrencyLimit(max: number, metrics: GatewayMetrics): RequestHandler {
  let inFlight = 0;
  return (_req, res, next) => {
    if (inFlight >= max) {
      metrics.observeOperation(undefined, GatewayErrorCode.OVERLOADED, 0);
      res.status(503).setHeader('retry-after', '1').json({
        errors: [{ message: `the gateway is at its limit of ${max} requests in progress (MAX_CONCURRENT_REQUESTS); retry later`, extensions: { code: GatewayErrorCode.OVERLOADED, retryable: true } }],
      });
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    next();
  };
}

/** A response whose errors include OVERLOADED goes out as 503 with Retry-After, which proxies and clients understand. */
export function overloadStatusPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (errors?.some((e) => e.extensions?.code === GatewayErrorCode.OVERLOADED)) {
            response.http.status = 503;
            response.http.headers.set('retry-after', '1');
          }
        },
      };
    },
  };
}
