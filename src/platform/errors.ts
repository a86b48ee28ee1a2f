/** Stable `extensions.code` values that clients may branch on: every code the gateway answers with. */
export enum GatewayErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  /** The HTTP request itself: a body that is not JSON, an unsupported charset or encoding, CSRF prevention. */
  BAD_REQUEST = 'BAD_REQUEST',
  GRAPHQL_PARSE_FAILED = 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED',
  /** An operationName that names no operation of the document (Apollo Server's code). */
  OPERATION_RESOLUTION_FAILURE = 'OPERATION_RESOLUTION_FAILURE',
  PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED = 'PERSISTED_QUERY_NOT_SUPPORTED',
  /** Trusted documents are enforced and the free-form document sent is not in the manifest. */
  OPERATION_NOT_ALLOWED = 'OPERATION_NOT_ALLOWED',
  /** The trusted documents' file or table cannot be read now (the operations loaded before still apply). */
  TRUSTED_DOCUMENTS_UNAVAILABLE = 'TRUSTED_DOCUMENTS_UNAVAILABLE',
  NOT_FOUND = 'NOT_FOUND',
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  /** The credit decision record cannot be written (disk full, database down): no decision is returned. */
  AUDIT_UNAVAILABLE = 'AUDIT_UNAVAILABLE',
  OVERLOADED = 'OVERLOADED',
  /** The instance is draining for shutdown: retry on another one. */
  SHUTTING_DOWN = 'SHUTTING_DOWN',
  /** Items a model runtime failed (metrics only: the caller gets MODEL_UNAVAILABLE or the item's own error). */
  INFERENCE_FAILED = 'INFERENCE_FAILED',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  QUERY_TOO_DEEP = 'QUERY_TOO_DEEP',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  /** Bearer JWTs cannot be verified now: the issuer's key set cannot be fetched. */
  AUTH_UNAVAILABLE = 'AUTH_UNAVAILABLE',
  RATE_LIMITED = 'RATE_LIMITED',
  /** The request's deadline (x-request-timeout) passed while its items waited for a model. */
  DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED',
  /** The client closed its connection before the answer: its queued items were dropped (metrics and logs only). */
  REQUEST_CANCELLED = 'REQUEST_CANCELLED',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

const HTTP_STATUS: Readonly<Record<GatewayErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  OPERATION_RESOLUTION_FAILURE: 400,
  PERSISTED_QUERY_NOT_FOUND: 200,
  PERSISTED_QUERY_NOT_SUPPORTED: 200, // as Apollo answers them: APQ clients read the body
  OPERATION_NOT_ALLOWED: 400,
  AUTH_UNAVAILABLE: 503,
  TRUSTED_DOCUMENTS_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  MODEL_UNAVAILABLE: 503,
  AUDIT_UNAVAILABLE: 503,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
  INFERENCE_FAILED: 500,
  QUERY_TOO_COMPLEX: 400,
  QUERY_TOO_DEEP: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
  DEADLINE_EXCEEDED: 504,
  REQUEST_CANCELLED: 499, // nginx's 'client closed request': nobody reads it
};

/**
 * The HTTP status a code answers with when the whole request fails with it (the v2 protocol, refusals before
 * GraphQL, limits). A GraphQL response whose data is partly there stays 200, as GraphQL over HTTP has it.
 */
export function httpStatusOf(code: GatewayErrorCode): number {
  return HTTP_STATUS[code];
}

/**
 * An error whose message is safe to show to callers, with a stable code. Domains and runtimes throw
 * these (they know nothing of GraphQL); the GraphQL layer turns them into `extensions.code`.
 * Any other error is masked as INTERNAL_SERVER_ERROR.
 */
export class GatewayError extends Error {
  constructor(
    message: string,
    readonly code: GatewayErrorCode,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The caller sent something outside the documented bounds; the message says expected vs actual. */
export class InvalidInputError extends GatewayError {
  constructor(message: string, field?: string) {
    super(message, GatewayErrorCode.BAD_USER_INPUT, field === undefined ? {} : { field });
  }
}

export class NotFoundError extends GatewayError {
  constructor(message: string) {
    super(message, GatewayErrorCode.NOT_FOUND);
  }
}

/** The model is not loaded (an optional model that failed, or one disposed during shutdown). */
export class ModelUnavailableError extends GatewayError {
  constructor(model: string, reason: string) {
    super(`model ${model} is unavailable: ${reason}`, GatewayErrorCode.MODEL_UNAVAILABLE, { model });
  }
}

/** The model's queue is full: the caller should back off and retry. */
export class OverloadedError extends GatewayError {
  constructor(model: string, maxQueue: number, why = `its queue is at its maximum of ${maxQueue} items`) {
    super(`model ${model} is overloaded: ${why}; retry later`, GatewayErrorCode.OVERLOADED, { model, retryable: true });
  }
}

/** Bound check for list arguments, with the message every list bound uses. */
export function assertListSize(field: string, length: number, max: number, min = 1): void {
  if (length < min || length > max) {
    throw new InvalidInputError(`${field} must hold ${min}..${max} items, got ${length}`, field);
  }
}

/** No valid API key, while keys are configured. */
export class UnauthenticatedError extends GatewayError {
  constructor(message: string) {
    super(message, GatewayErrorCode.UNAUTHENTICATED);
  }
}

/** A valid key without the scope the field needs. */
export class ForbiddenError extends GatewayError {
  constructor(message: string) {
    super(message, GatewayErrorCode.FORBIDDEN);
  }
}

/** The request's deadline passed while its item waited for a batch. */
export class DeadlineExceededError extends GatewayError {
  constructor(model: string, timeoutMs: number, waitedMs: number) {
    super(
      `model ${model}: the request's deadline of ${timeoutMs} ms (x-request-timeout) passed after ${waitedMs} ms in the queue, before its batch ran`,
      GatewayErrorCode.DEADLINE_EXCEEDED,
      { model, timeoutMs },
    );
  }
}

/** The client went away: its queued items are dropped before inference. */
export class RequestCancelledError extends GatewayError {
  constructor(model: string) {
    super(
      `model ${model}: the client closed the request before its items were inferred`,
      GatewayErrorCode.REQUEST_CANCELLED,
      { model },
    );
  }
}
