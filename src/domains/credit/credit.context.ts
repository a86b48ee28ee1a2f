import type { DomainContext } from '../../graphql/domain-module.js';
import type { PendingDecisions } from './credit-audit.js';
import type { CreditLoaders } from './credit.loaders.js';
import type { CreditService } from './credit.service.js';

/** The model task this domain serves, and its complexity units per account. */
export const CREDIT_TASK = 'credit';
export const CREDIT_ITEM_COST = 1;

/** What a credit resolver finds at `ctx.credit`. */
export interface CreditRequest {
  readonly service: CreditService;
  readonly loaders: CreditLoaders;
  /** Credit decisions made by this request, recorded when its response carries them. */
  readonly pendingDecisions: PendingDecisions;
}

export type CreditContext = DomainContext<'credit', CreditRequest>;
