import DataLoader from 'dataloader';
import type { SubmitAs } from '../../runtime/dynamic-batcher.js';
import type { PendingDecisions } from './credit-audit.js';
import type { CardAccount } from './credit.features.js';
import type { CreditAssessmentResult, CreditService } from './credit.service.js';

export interface CreditLoaders {
  /** Every `creditAssessment` field of one operation (aliases included) goes out as one batch. */
  readonly creditAssessment: DataLoader<CardAccount, CreditAssessmentResult>;
}

export function createCreditLoaders(
  deps: { credit: CreditService },
  pending: PendingDecisions,
  caller: SubmitAs,
): CreditLoaders {
  // Accounts are objects without identity across fields: batch them, do not cache them.
  return {
    creditAssessment: new DataLoader((accounts) => deps.credit.assessMany(accounts, pending, caller), { cache: false }),
  };
}
