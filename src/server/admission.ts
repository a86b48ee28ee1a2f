import type { ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../graphql/context.js';
import { rateKeyOf, type Caller, type CallerSource } from '../platform/api-keys.js';
import { GatewayError, GatewayErrorCode, httpStatusOf } from '../platform/errors.js';

/** Who a request is, for auth and rate limits (request-pipeline.ts). */
export interface Admitted {
  readonly caller: Caller | undefined;
  /** Whom rate limits count against: the key's name, else the client address. */
  readonly rateKey: string;
}

/**
 * The caller a request's key or bearer JWT names, else its client address: whom limits count against. A JWT that
 * fails verification is a refusal (401, or 503 when the issuer's keys cannot be had), never an anonymous caller.
 */
export async function identify(
  keys: CallerSource,
  authorization: string | undefined,
  apiKey: string | undefined,
  clientAddress: string,
): Promise<Admitted | { refusal: Refusal }> {
  let caller: Caller | undefined;
  try {
    caller = await keys.authenticate(authorization, apiKey);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return {
      refusal: refusalOf(
        error,
        error.code === GatewayErrorCode.UNAUTHENTICATED
          ? { 'www-authenticate': 'Bearer error="invalid_token"' }
          : { 'retry-after': '5' },
      ),
    };
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
export function refusal(
  status: number,
  message: string,
  extensions: Record<string, unknown>,
  headers: Record<string, string> = {},
): Refusal {
  return { status, headers, body: { errors: [{ message, extensions }] } };
}

/** A GatewayError as a refusal: its status from the code's, its code and details as extensions. */
export function refusalOf(error: GatewayError, headers: Record<string, string> = {}): Refusal {
  return refusal(httpStatusOf(error.code), error.message, { code: error.code, ...error.details }, headers);
}

/** Answers a refusal on a plain or an Express response; `body`: another shape of it (the v2 protocol's). */
export function sendRefusal(res: ServerResponse, answer: Refusal, body: unknown = answer.body): void {
  const text = JSON.stringify(body);
  res.writeHead(answer.status, {
    ...answer.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Trusted documents' verdict on a request's document for its caller: a refusal, or undefined to let it run. */
export type TrustedDocumentCheck = (
  caller: Caller | undefined,
  query: string,
  persistedQueryHash: string | undefined,
) => Refusal | undefined;

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
