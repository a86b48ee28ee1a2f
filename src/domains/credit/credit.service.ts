import { assertListSize } from '../../platform/errors.js';
import type { InferenceModel } from '../../runtime/model-registry.js';
import type { TabularOutputs } from '../../runtime/onnx-runtime.js';
import type { AuditContext, CreditAuditStore } from './credit-audit.js';
import { creditFeatureSpec, type CardAccount } from './credit.features.js';
import {
  creditDecision, creditGrade, creditScore, topReasons,
  type CreditDecisionName, type CreditGradeName, type CreditReasonResult, type DecisionThresholds,
} from './credit.scoring.js';

export interface CreditAssessmentResult {
  readonly accountId: string | null;
  readonly probabilityOfDefault: number;
  readonly score: number;
  readonly grade: CreditGradeName;
  readonly decision: CreditDecisionName;
  readonly reasons: readonly CreditReasonResult[];
  readonly model: { name: string; version: string };
}

export interface CreditSettings {
  readonly thresholds: DecisionThresholds;
  readonly maxAccounts: number;
}

/** Card-account risk: features, one batched inference, score/grade/decision and adverse-action reasons. */
export class CreditService {
  constructor(
    private readonly model: () => InferenceModel<Float32Array, TabularOutputs>,
    readonly settings: CreditSettings,
    /** Where every decision is recorded before it is returned (none: not recorded). */
    readonly audit?: CreditAuditStore,
  ) {}

  validateAccounts(accounts: readonly CardAccount[]): void {
    assertListSize('accounts', accounts.length, this.settings.maxAccounts);
  }

  /** One entry per account: its assessment or its own Error; decisions are on record before this resolves. */
  async assessMany(accounts: readonly CardAccount[], context: AuditContext): Promise<Array<CreditAssessmentResult | Error>> {
    // Features, reasons and inference all come from the same version, even across a hot swap.
    const model = this.model();
    const spec = creditFeatureSpec(model);
    const rows = accounts.map((a) => spec.build(a));
    const outputs = await model.inferMany(rows);
    const results = outputs.map((out, i): CreditAssessmentResult | Error => {
      if (out instanceof Error) return out;
      const pd = out.probability![0]!;
      model.observe(rows[i]!, pd);
      return {
        accountId: accounts[i]!.accountId ?? null,
        probabilityOfDefault: pd,
        score: creditScore(pd),
        grade: creditGrade(pd),
        decision: creditDecision(pd, this.settings.thresholds),
        reasons: topReasons(out.contributions!, spec.features),
        model: { name: model.name, version: model.version },
      };
    });
    // A failed write fails the request: no decision leaves the gateway unrecorded.
    await this.audit?.record(context, accounts, results);
    return results;
  }
}
