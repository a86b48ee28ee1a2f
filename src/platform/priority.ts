import type { Caller } from './api-keys.js';

/**
 * Request priorities: a level per API key (API_KEYS' `priority`), which a request may lower but never raise
 * with `x-priority`. Ordered from the most to the least urgent; the index is the batcher's queue level.
 */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The header a request lowers its priority with. */
export const PRIORITY_HEADER = 'x-priority';

/** Queue level of a priority: 0 is served first. */
export function priorityLevel(priority: Priority): number {
  return PRIORITIES.indexOf(priority);
}

/**
 * Weight of a caller in the fair in-flight limit's shares: a high-priority caller's share of a full gateway
 * is four times a low-priority one's, and every caller keeps a share (so none starves).
 */
export const PRIORITY_WEIGHT: Readonly<Record<Priority, number>> = { high: 4, normal: 2, low: 1 };

/** True when `value` names a priority. */
export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);
}

/**
 * The priority a request runs at: its key's, or the lower one its header asks for (a header may never raise it).
 * @example effectivePriority('high', 'low') // 'low'; effectivePriority('low', 'high') // 'low'
 */
export function effectivePriority(granted: Priority, asked: Priority | undefined): Priority {
  return asked !== undefined && priorityLevel(asked) > priorityLevel(granted) ? asked : granted;
}

/** The priority of a request: its key's, or the lower one x-priority asks for. Lenient (an unknown value is ignored): the in-flight limit uses it before the request is checked. */
export function requestPriority(caller: Pick<Caller, 'priority'> | undefined, header: string | undefined): Priority {
  const asked = header?.trim().toLowerCase();
  return effectivePriority(caller?.priority ?? 'normal', isPriority(asked) ? asked : undefined);
}
