import type { AuthChecker } from 'type-graphql';
import { hasScope, type ApiKeyRing, type Scope } from '../platform/api-keys.js';
import { ForbiddenError, UnauthenticatedError } from '../platform/errors.js';
import type { GatewayContext } from './context.js';

/**
 * type-graphql's authChecker for `@Authorized(scope)`: open when no keys are configured; otherwise a
 * valid key is UNAUTHENTICATED's cure and the scope FORBIDDEN's.
 */
export function createAuthChecker(keys: ApiKeyRing): AuthChecker<GatewayContext, Scope> {
  return ({ context }, scopes) => {
    if (keys.open) return true;
    const caller = context.caller;
    if (!caller) throw new UnauthenticatedError('a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key>');
    const missing = scopes.filter((s) => !hasScope(caller, s));
    if (missing.length) throw new ForbiddenError(`API key ${caller.name} lacks the scope ${missing.join(', ')} that this field needs`);
    return true;
  };
}
