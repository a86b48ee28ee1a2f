import type { ServerResponse } from 'node:http';
import type { Caller } from '../platform/api-keys.js';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import { effectivePriority, isPriority, PRIORITIES, PRIORITY_HEADER } from '../platform/priority.js';
import type { SchedulingMetrics } from '../platform/scheduling-metrics.js';
import type { Submission } from '../runtime/dynamic-batcher.js';
import { refusal, type Refusal } from './admission.js';

/** The header that sets a request's deadline, in milliseconds from its arrival. */
export const REQUEST_TIMEOUT_HEADER = 'x-request-timeout';

/** How a request's model items are scheduled: its priority, deadline and abort signal. */
export type RequestScheduling = Required<Pick<Submission, 'priority' | 'signal'>> & Pick<Submission, 'deadline'>;

/**
 * Reads a request's x-priority and x-request-timeout (a malformed one is refused with 400 BAD_REQUEST) and ties an
 * AbortSignal to its response: when the client closes the connection before the answer is finished, the signal
 * fires and the batchers drop the request's queued items before inference. The request pipeline's scheduling step
 * (request-pipeline.ts); `explain`: whether a malformed x-priority's message says a request may only lower its key's.
 */
export function createScheduling(maxTimeoutMs: number, metrics: SchedulingMetrics) {
  return (
    header: (name: string) => string | undefined,
    res: ServerResponse,
    caller: Caller | undefined,
    explain = true,
  ): { scheduling: RequestScheduling } | { refusal: Refusal } => {
    const arrived = performance.now();
    const asked = header(PRIORITY_HEADER)?.trim().toLowerCase();
    if (asked !== undefined && !isPriority(asked)) {
      const rule = explain ? " (a request may lower its key's priority, not raise it)" : '';
      return {
        refusal: badHeader(
          `${PRIORITY_HEADER} must be one of ${PRIORITIES.join(', ')}${rule}, got "${asked.slice(0, 32)}"`,
        ),
      };
    }
    const timeout = header(REQUEST_TIMEOUT_HEADER)?.trim();
    let deadline: Submission['deadline'];
    if (timeout !== undefined) {
      const ms = /^\d{1,9}$/.test(timeout) ? Number(timeout) : NaN;
      if (!(ms >= 1 && ms <= maxTimeoutMs)) {
        return {
          refusal: badHeader(
            `${REQUEST_TIMEOUT_HEADER} must be a whole number of milliseconds in 1..${maxTimeoutMs} (REQUEST_TIMEOUT_MAX_MS), got "${timeout.slice(0, 32)}"`,
          ),
        };
      }
      deadline = { at: arrived + ms, timeoutMs: ms };
    }
    const controller = new AbortController();
    const cancel = () => {
      metrics.observeCancelledRequest();
      controller.abort();
    };
    // 'close' before the response has finished: the client went away (a finished response closes too).
    if (res.destroyed) cancel();
    else res.once('close', () => !res.writableFinished && cancel());
    return {
      scheduling: {
        priority: effectivePriority(caller?.priority ?? 'normal', asked),
        deadline,
        signal: controller.signal,
      },
    };
  };
}

export type Scheduling = ReturnType<typeof createScheduling>;

function badHeader(message: string): Refusal {
  return refusal(httpStatusOf(GatewayErrorCode.BAD_REQUEST), message, { code: GatewayErrorCode.BAD_REQUEST });
}
