import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../../graphql/context.js';
import { callerLabel } from '../../platform/api-keys.js';
import { GatewayErrorCode, httpStatusOf } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { CreditAuditStore } from './credit-audit.js';
import type { CreditContext } from './credit.context.js';

/**
 * Writes a request's credit decisions once its response is final and before it is sent, in one
 * transaction, and only when the response carries them (`data` present: credit fields are non-null, so
 * a failed one nulls the whole response). A failed write turns the response into an error: no decision
 * leaves the gateway unrecorded, and none is recorded that the caller never saw.
 */
/** The store is probed every second once a write fails; a few seconds is a fair first wait for a caller. */
const AUDIT_RETRY_AFTER_SECONDS = 5;

export function creditAuditPlugin(audit: CreditAuditStore, logger: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          const ctx = contextValue as CreditContext;
          const pending = ctx.credit.pendingDecisions;
          if (pending.size === 0 || response.body.kind !== 'single' || response.body.singleResult.data == null) return;
          try {
            await audit.record(
              { requestId: ctx.requestId, caller: ctx.caller ? callerLabel(ctx.caller) : 'anonymous' },
              pending.accounts,
              pending.results,
            );
          } catch (error) {
            logger.error({ err: error, requestId: contextValue.requestId }, 'credit decisions could not be recorded');
            response.http.status = httpStatusOf(GatewayErrorCode.AUDIT_UNAVAILABLE);
            response.http.headers.set('retry-after', String(AUDIT_RETRY_AFTER_SECONDS));
            response.body.singleResult = {
              data: null,
              errors: [
                {
                  message: 'the decision record could not be written, so no decision is returned; retry later',
                  extensions: {
                    code: GatewayErrorCode.AUDIT_UNAVAILABLE,
                    retryable: true,
                    retryAfterSeconds: AUDIT_RETRY_AFTER_SECONDS,
                  },
                },
              ],
            };
          }
        },
      };
    },
  };
}
