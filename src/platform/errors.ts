/** Stable `extensions.code` values that clients may branch on. */
export enum GatewayErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  /** The credit decision record cannot be written (disk full, database down): no decision is returned. */
  AUDIT_UNAVAILABLE = 'AUDIT_UNAVAILABLE',
  OVERLOADED = 'OVERLOADED',
  /** The instance is draining for shutdown: retry on another one. */
  SHUTTING_DOWN = 'SHUTTING_DOWN',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  QUERY_TOO_DEEP = 'QUERY_TOO_DEEP',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  RATE_LIMITED = 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/**
 * An error whose message is safe to show to callers, with a stable code. Domains and runtimes throw
 * these (they know nothing of GraphQL); the GraphQL layer turns them into `extensions.code`.
 * Any other error is masked as INTERNAL_SERVER_ERROR.
 */
export class GatewayError extends Error {
  constructor(message: string, readonly code: GatewayErrorCode, readonly details: Record<string, unknown> = {}) {
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
