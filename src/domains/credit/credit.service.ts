import type { ModelIdentity } from '../../runtime/model-identity.js';
import { assertListSize } from '../../platform/errors.js';
import type { SubmitAs } from '../../runtime/dynamic-batcher.js';
import type { InferenceModel, ShadowModel } from '../../runtime/model-registry.js';
import type { TabularOutputs } from '../../runtime/onnx-runtime.js';
import type { CreditAuditStore, PendingDecisions } from './credit-audit.js';
import { readCreditFeatureSpec, type CardAccount, type CreditFeatureSpec } from './credit.features.js';
import {
  creditDecision,
  creditGrade,
  creditScore,
  topReasons,
  type CreditDecisionName,
  type CreditGradeName,
  type CreditReasonResult,
  type DecisionThresholds,
} from './credit.scoring.js';

export interface CreditAssessmentResult {
  readonly accountId: string | null;
  readonly probabilityOfDefault: number;
  readonly score: number;
  readonly grade: CreditGradeName;
  readonly decision: CreditDecisionName;
  readonly reasons: readonly CreditReasonResult[];
  readonly model: ModelIdentity;
}

export interface CreditSettings {
  readonly thresholds: DecisionThresholds;
  readonly maxAccounts: number;
}

/** Card-account risk: features, one batched inference, score/grade/decision and adverse-action reasons. */
export class CreditService {
  /** Each model version's features.json, read once (a version retrained in place comes back under a new number). */
  private readonly specs = new Map<string, CreditFeatureSpec>();

  constructor(
    private readonly model: () => InferenceModel<Float32Array, TabularOutputs>,
    readonly settings: CreditSettings,
    /** Where every returned decision is recorded, by the request that returns it (none: not recorded). */
    readonly audit?: CreditAuditStore,
  ) {}

  validateAccounts(accounts: readonly CardAccount[]): void {
    assertListSize('accounts', accounts.length, this.settings.maxAccounts);
  }

  /**
   * One entry per account: its assessment or its own Error. The decisions join the request's pending
   * record, written once the response is known to carry them (and before it is sent).
   */
  async assessMany(
    accounts: readonly CardAccount[],
    pending: PendingDecisions,
    caller: SubmitAs = '',
  ): Promise<Array<CreditAssessmentResult | Error>> {
    // Features, reasons and inference all come from the same version, even across a hot swap.
    const model = this.model();
    const spec = this.featureSpec(model);
    const rows = spec.buildMany(accounts);
    const outputs = await model.inferMany(rows, caller);
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
        model: model.identity,
      };
    });
    pending.add(accounts, results);
    if (model.shadow) void this.compareShadow(model.shadow, accounts, results);
    return results;
  }

  /**
   * The shadow version assesses the same accounts after the response is on its way; only how its
   * PDs and decisions compare is kept. It has its own bounded queue: when that is full, the accounts
   * count as failed for the shadow and the active version never waits for it.
   */
  private async compareShadow(
    shadow: ShadowModel<Float32Array, TabularOutputs>,
    accounts: readonly CardAccount[],
    results: ReadonlyArray<CreditAssessmentResult | Error>,
  ) {
    const answered = accounts.filter((_, i) => !(results[i] instanceof Error));
    const primary = results.filter((r): r is CreditAssessmentResult => !(r instanceof Error));
    try {
      const spec = this.featureSpec(shadow);
      const outputs = await shadow.inferMany(spec.buildMany(answered));
      shadow.record(
        outputs.map((out, i) => {
          if (out instanceof Error) return out;
          const pd = out.probability![0]!;
          return {
            agreed: creditDecision(pd, this.settings.thresholds) === primary[i]!.decision,
            difference: Math.abs(pd - primary[i]!.probabilityOfDefault),
          };
        }),
      );
    } catch (error) {
      shadow.record(answered.map(() => error as Error));
    }
  }

  private featureSpec(model: { readonly dir: string; readonly version: string }): CreditFeatureSpec {
    const key = `${model.dir}\0${model.version}`;
    let spec = this.specs.get(key);
    if (!spec) this.specs.set(key, (spec = readCreditFeatureSpec(model.dir)));
    return spec;
  }
}
