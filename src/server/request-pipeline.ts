import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerSource } from '../platform/api-keys.js';
import { GatewayError, GatewayErrorCode, httpStatusOf, UnauthenticatedError } from '../platform/errors.js';
import type { GatewayMetrics } from '../platform/metrics.js';
import { PRIORITY_HEADER, requestPriority } from '../platform/priority.js';
import type { RateLimiter } from '../platform/rate-limiter.js';
import { identify, refusal, refusalOf, type Admitted, type Refusal } from './admission.js';
import type { FairInFlightLimit } from './fair-admission.js';
import type { RequestScheduling, Scheduling } from './request-scheduling.js';

/**
 * The one request pipeline of every HTTP entry (GraphQL on node:http, GraphQL on Express, the v2 protocol):
 * request ids -> the caller (a token that fails is refused) -> the fair in-flight limit -> the body -> admission
 * (the rate charge, then the entry's check: trusted documents, a model's scope) -> scheduling (priority, deadline,
 * abort signal) -> the entry's handler. Framework-neutral: it reads a `PipelineRequest` and answers on Node's
 * ServerResponse; an entry says how its body is read, what it is charged and in which shape a refusal goes out.
 */
export class RequestPipeline {
  constructor(
    private readonly deps: {
      readonly keys: CallerSource;
      readonly inFlight: FairInFlightLimit;
      readonly limiter: RateLimiter | undefined;
      /** The request's priority, deadline and abort signal (request-scheduling.ts). */
      readonly schedule: Scheduling;
      readonly metrics: GatewayMetrics;
    },
  ) {}

  /** Runs every step; answers a refusal itself (and resolves undefined), else resolves what the handler needs. */
  async run<B>(request: PipelineRequest, res: ServerResponse, entry: PipelineEntry<B>): Promise<Passed<B> | undefined> {
    const refuse = (answer: Refusal) => {
      this.deps.metrics.observeOperation(entry.operation, String(answer.body.errors[0]!.extensions.code), 0);
      entry.send(res, answer);
      return undefined;
    };
    const ids = assignRequestIds(request.header('x-request-id'), res);
    // A bearer token that fails verification is refused before its body is read.
    const identified = await identify(
      this.deps.keys,
      request.header('authorization'),
      request.header('x-api-key'),
      request.clientAddress,
    );
    if ('refusal' in identified) return refuse(identified.refusal);
    if (entry.requireCaller && !this.deps.keys.open && !identified.caller) {
      return refuse(
        refusalOf(
          new UnauthenticatedError('a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key>'),
        ),
      );
    }
    // The in-flight limit counts its own refusals.
    const full = this.deps.inFlight.enter(
      res,
      identified.rateKey,
      requestPriority(identified.caller, request.header(PRIORITY_HEADER)),
    );
    if (full) return void entry.send(res, full);
    let body: B;
    let charge: Charge;
    try {
      const read = await entry.readBody(request.raw, res);
      // After the answer, Node's HTTP server reads and discards the rest of an over-long body, so that the
      // caller, still sending, gets the 413 rather than a reset connection.
      if ('refusal' in read) return refuse(read.refusal);
      body = read.body;
      charge = await entry.admission(body, identified, request);
    } catch (error) {
      if (error instanceof GatewayError) return refuse(refusalOf(error));
      throw error;
    }
    const refused = await this.charge(identified.rateKey, charge);
    if (refused) return refuse(refused);
    const scheduled = this.deps.schedule(request.header, res, identified.caller, entry.explainPriority ?? true);
    if ('refusal' in scheduled) return refuse(scheduled.refusal);
    return { ...ids, ...identified, scheduling: scheduled.scheduling, body };
  }

  /**
   * Charges every request before its content is validated, so that a caller cannot spend the gateway's CPU on
   * rejected requests for free; then the entry's check, after the charge, so that refused requests pay like any other.
   */
  private async charge(rateKey: string, charge: Charge): Promise<Refusal | undefined> {
    const { limiter } = this.deps;
    if (limiter && charge.units > 0) {
      const decision = await limiter.take(rateKey, charge.units);
      if (!decision.allowed) {
        return refusal(
          httpStatusOf(GatewayErrorCode.RATE_LIMITED),
          `rate limit: ${charge.what} and ${rateKey}'s budget refills at ${limiter.perSecond} units/s; retry in ${decision.retryAfterSeconds} s`,
          { code: GatewayErrorCode.RATE_LIMITED, retryAfterSeconds: decision.retryAfterSeconds },
          { 'retry-after': String(decision.retryAfterSeconds) },
        );
      }
    }
    return charge.check?.();
  }
}

/** What the pipeline reads of a request, whichever server received it. */
export interface PipelineRequest {
  /** The request itself, for its body. */
  readonly raw: IncomingMessage;
  header(name: string): string | undefined;
  /** The client's address (TRUST_PROXY_HOPS back in X-Forwarded-For): whom an anonymous caller's limits count against. */
  readonly clientAddress: string;
}

/** A request that passed every step: its ids, caller, scheduling and body, for the entry's handler. */
export interface Passed<B> extends Admitted {
  readonly requestId: string;
  readonly clientRequestId?: string;
  readonly scheduling: RequestScheduling;
  readonly body: B;
}

/** What admission charges a request, and what it checks once the request has paid. */
export interface Charge {
  /** Rate-limit units; 0 charges nothing. */
  readonly units: number;
  /** The charge in words, for the refusal: "this request costs 11 units". */
  readonly what: string;
  readonly check?: () => Refusal | undefined;
}

/** A request that is not charged. */
export const FREE: Charge = { units: 0, what: 'this request costs nothing' };

/** One HTTP entry's part in the pipeline. */
export interface PipelineEntry<B> {
  /** The metrics' operation label of its refusals (undefined: GraphQL's "anonymous"). */
  readonly operation?: string;
  /** Refuse callers without a credential (401) when credentials are configured; GraphQL leaves that to each field's scope. */
  readonly requireCaller?: boolean;
  /** Whether a malformed x-priority's message explains that a request may only lower its key's priority (default true). */
  readonly explainPriority?: boolean;
  /** The body, or the refusal of one that cannot be read; may throw a GatewayError. */
  readBody(req: IncomingMessage, res: ServerResponse): Promise<{ body: B } | { refusal: Refusal }>;
  /** The charge for this body; may throw a GatewayError (refused before the charge). */
  admission(body: B, admitted: Admitted, request: PipelineRequest): Charge | Promise<Charge>;
  /** Answers a refusal in the entry's shape. */
  send(res: ServerResponse, answer: Refusal): void;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Every request gets the gateway's own unique id (logs, the decision record) in x-gateway-request-id.
 * x-request-id echoes the caller's, when well-formed, for their correlation, else carries the gateway's:
 * callers may reuse theirs, so it never identifies a decision on its own.
 */
export function assignRequestIds(
  given: string | undefined,
  res: ServerResponse,
): { requestId: string; clientRequestId?: string } {
  const requestId = randomUUID();
  const clientRequestId = given && REQUEST_ID.test(given) ? given : undefined;
  res.setHeader('x-request-id', clientRequestId ?? requestId);
  res.setHeader('x-gateway-request-id', requestId);
  return clientRequestId ? { requestId, clientRequestId } : { requestId };
}

/** The answers to a body that cannot be read, the same on every entry. */
export const bodyRefusals = {
  tooLarge: (limit: number, length: number | undefined) =>
    refusal(
      httpStatusOf(GatewayErrorCode.PAYLOAD_TOO_LARGE),
      `request body must be at most ${limit} bytes, got ${length}`,
      { code: GatewayErrorCode.PAYLOAD_TOO_LARGE },
    ),
  notJson: () =>
    refusal(httpStatusOf(GatewayErrorCode.BAD_REQUEST), 'request body must be valid JSON', {
      code: GatewayErrorCode.BAD_REQUEST,
    }),
  incomplete: () =>
    refusal(httpStatusOf(GatewayErrorCode.BAD_REQUEST), 'request body was not received in full', {
      code: GatewayErrorCode.BAD_REQUEST,
    }),
  internal: () =>
    refusal(httpStatusOf(GatewayErrorCode.INTERNAL_SERVER_ERROR), 'Internal server error', {
      code: GatewayErrorCode.INTERNAL_SERVER_ERROR,
    }),
};

/** No body to read (GET). */
export const noBody = (): Promise<{ body: undefined }> => Promise.resolve({ body: undefined });

/** The body as JSON, with body-parser's limits and answers: 413 past `limit`, 400 when not a JSON object or array. */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<{ body: unknown } | { refusal: Refusal }> {
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
