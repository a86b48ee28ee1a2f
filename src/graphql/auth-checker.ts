import type { AuthChecker } from 'type-graphql';
import { callerLabel, hasScope, type CallerSource, type Scope } from '../platform/api-keys.js';
import { ForbiddenError, UnauthenticatedError } from '../platform/errors.js';
import type { GatewayContext } from './context.js';

/** Scopes that change what the gateway serves or read what it recorded: never open by accident. */
const GUARDED_SCOPES: ReadonlySet<Scope> = new Set(['admin', 'audit:read']);

/**
 * type-graphql's authChecker for `@Authorized(scope)`. With keys configured, a valid key is
 * UNAUTHENTICATED's cure and the scope FORBIDDEN's. With none (the open default), reading fields are
 * open but admin mutations and the audit trail stay FORBIDDEN unless `allowOpenAdmin`.
 */
export function createAuthChecker(keys: CallerSource, allowOpenAdmin: boolean): AuthChecker<GatewayContext, Scope> {
  return ({ context }, scopes) => {
    if (keys.open) {
      const guarded = scopes.filter((s) => GUARDED_SCOPES.has(s));
      if (guarded.length && !allowOpenAdmin) {
        throw new ForbiddenError(
          `this field needs the scope ${guarded.join(', ')}: configure API_KEYS, or set ALLOW_OPEN_ADMIN=true to let anonymous callers use it`,
        );
      }
      return true;
    }
    const caller = context.caller;
    if (!caller)
      throw new UnauthenticatedError(
        'a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key>',
      );
    const missing = scopes.filter((s) => !hasScope(caller, s));
    if (missing.length)
      throw new ForbiddenError(
        `${caller.via === 'jwt' ? 'bearer token of' : 'API key'} ${callerLabel(caller)} lacks the scope ${missing.join(', ')} that this field needs`,
      );
    return true;
  };
}
