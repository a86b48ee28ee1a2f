import { hash } from 'node:crypto';
import type { ModelIdentity } from '../../runtime/model-identity.js';
import { MONTHS, type CardAccount, type EducationLevelName } from './credit.features.js';
import { GRADE_BANDS, type CreditDecisionName, type CreditGradeName } from './credit.scoring.js';
import type { CreditAssessmentResult } from './credit.service.js';

/** Who made the request whose decisions are recorded. */
export interface AuditContext {
  readonly requestId: string;
  /** API key name, or "anonymous" when the gateway runs open. */
  readonly caller: string;
}

/** One row of the decision record, as the stores bind it. */
export interface AuditRow {
  readonly at: string;
  readonly requestId: string;
  readonly caller: string;
  readonly accountId: string | null;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly modelSha256: string | null;
  readonly inputsHash: string;
  readonly pd: number;
  readonly score: number;
  readonly grade: string;
  readonly decision: string;
  /** The reason codes as a JSON list. */
  readonly reasonCodes: string;
}

const EDUCATION: readonly EducationLevelName[] = ['GRADUATE_SCHOOL', 'UNIVERSITY', 'HIGH_SCHOOL', 'OTHER', 'UNKNOWN'];
const GRADES: readonly CreditGradeName[] = GRADE_BANDS.map(([grade]) => grade);
const DECISIONS: readonly CreditDecisionName[] = ['APPROVE', 'REVIEW', 'DECLINE'];
/** Numbers of one account in `inputs`: credit limit, age, then the statuses, bills and payments of MONTHS months. */
const INPUT_WIDTH = 2 + 3 * MONTHS;

/**
 * A request's successful decisions as columns: typed arrays and a few string lists instead of one object per
 * decision. The event loop only copies numbers into them; the typed arrays are transferred to the decision
 * record's writer thread, not cloned, and that thread computes the inputs' hashes and the rows (decisionRows).
 */
export interface DecisionColumns {
  readonly at: string;
  readonly requestId: string;
  readonly caller: string;
  readonly count: number;
  readonly accountIds: ReadonlyArray<string | null>;
  /** INPUT_WIDTH numbers per decision. */
  readonly inputs: Float64Array;
  /** Index in EDUCATION per decision. */
  readonly education: Uint8Array;
  /** The inputs' hash, computed here, of the decisions whose account does not fit `inputs` (never for a validated one). */
  readonly hashes: Readonly<Record<number, string>>;
  readonly pd: Float64Array;
  readonly score: Float64Array;
  /** Indexes in GRADES and DECISIONS. */
  readonly grade: Uint8Array;
  readonly decision: Uint8Array;
  /** `reasonSlots` indexes in `reasonCodes` per decision, -1 past its last reason. */
  readonly reasons: Int32Array;
  readonly reasonSlots: number;
  readonly reasonCodes: readonly string[];
  /** The models that decided, and the index of each decision's. */
  readonly models: readonly ModelIdentity[];
  readonly model: Uint16Array;
}

/** Whether an account's inputs are numbers and lists of MONTHS numbers, as `inputs` holds them, and its id is its result's. */
function fits(a: CardAccount, r: CreditAssessmentResult): boolean {
  if (r.accountId !== (a.accountId ?? null)) return false;
  if (typeof a.creditLimit !== 'number' || typeof a.age !== 'number' || !EDUCATION.includes(a.education)) return false;
  for (const list of [a.repaymentStatus, a.billAmounts, a.paymentAmounts]) {
    if (!Array.isArray(list) || list.length !== MONTHS) return false;
    for (const x of list) if (typeof x !== 'number') return false;
  }
  return true;
}

/** The columns of the successful results among `results` (one per account, in order); errors are not recorded. */
export function decisionColumns(
  context: AuditContext,
  accounts: readonly CardAccount[],
  results: ReadonlyArray<CreditAssessmentResult | Error>,
): DecisionColumns {
  let count = 0;
  let reasonSlots = 0;
  for (const r of results) {
    if (r instanceof Error) continue;
    count++;
    reasonSlots = Math.max(reasonSlots, r.reasons.length);
  }
  const columns = {
    at: new Date().toISOString(),
    requestId: context.requestId,
    caller: context.caller,
    count,
    accountIds: new Array<string | null>(count),
    inputs: new Float64Array(count * INPUT_WIDTH),
    education: new Uint8Array(count),
    hashes: {} as Record<number, string>,
    pd: new Float64Array(count),
    score: new Float64Array(count),
    grade: new Uint8Array(count),
    decision: new Uint8Array(count),
    reasons: new Int32Array(count * reasonSlots).fill(-1),
    reasonSlots,
    reasonCodes: [] as string[],
    models: [] as ModelIdentity[],
    model: new Uint16Array(count),
  };
  const codeIndex = new Map<string, number>();
  let d = 0;
  results.forEach((r, i) => {
    if (r instanceof Error) return;
    const a = accounts[i]!;
    columns.accountIds[d] = r.accountId;
    if (fits(a, r)) {
      const at = d * INPUT_WIDTH;
      columns.inputs[at] = a.creditLimit;
      columns.inputs[at + 1] = a.age;
      for (let k = 0; k < MONTHS; k++) {
        columns.inputs[at + 2 + k] = a.repaymentStatus[k]!;
        columns.inputs[at + 2 + MONTHS + k] = a.billAmounts[k]!;
        columns.inputs[at + 2 + 2 * MONTHS + k] = a.paymentAmounts[k]!;
      }
      columns.education[d] = EDUCATION.indexOf(a.education);
    } else {
      columns.hashes[d] = inputsHash(a);
    }
    columns.pd[d] = r.probabilityOfDefault;
    columns.score[d] = r.score;
    columns.grade[d] = GRADES.indexOf(r.grade);
    columns.decision[d] = DECISIONS.indexOf(r.decision);
    r.reasons.forEach((reason, k) => {
      let code = codeIndex.get(reason.code);
      if (code === undefined) codeIndex.set(reason.code, (code = columns.reasonCodes.push(reason.code) - 1));
      columns.reasons[d * reasonSlots + k] = code;
    });
    let model = columns.models.indexOf(r.model);
    if (model < 0) model = columns.models.push(r.model) - 1;
    columns.model[d] = model;
    d++;
  });
  return columns;
}

/** The buffers of `columns` that postMessage can transfer instead of copying. */
export function transferables(c: DecisionColumns): ArrayBuffer[] {
  return [c.inputs, c.education, c.pd, c.score, c.grade, c.decision, c.reasons, c.model].map(
    (a) => a.buffer as ArrayBuffer,
  );
}

/** The rows to write, one per decision of `columns`, in order. */
export function decisionRows(c: DecisionColumns): AuditRow[] {
  const rows = new Array<AuditRow>(c.count);
  for (let d = 0; d < c.count; d++) {
    const model = c.models[c.model[d]!]!;
    const codes: string[] = [];
    for (let k = 0; k < c.reasonSlots; k++) {
      const code = c.reasons[d * c.reasonSlots + k]!;
      if (code >= 0) codes.push(c.reasonCodes[code]!);
    }
    rows[d] = {
      at: c.at,
      requestId: c.requestId,
      caller: c.caller,
      accountId: c.accountIds[d]!,
      modelName: model.name,
      modelVersion: model.version,
      modelSha256: model.sha256,
      inputsHash: c.hashes[d] ?? columnsInputsHash(c, d),
      pd: c.pd[d]!,
      score: c.score[d]!,
      grade: GRADES[c.grade[d]!]!,
      decision: DECISIONS[c.decision[d]!]!,
      reasonCodes: JSON.stringify(codes),
    };
  }
  return rows;
}

/** The rows to write for a request's successful decisions (the columns expanded where the store is written). */
export function auditRows(
  context: AuditContext,
  accounts: readonly CardAccount[],
  results: ReadonlyArray<CreditAssessmentResult | Error>,
): AuditRow[] {
  return decisionRows(decisionColumns(context, accounts, results));
}

/** SHA-256 of the account's fields in a fixed order: proves which inputs a decision saw without storing them. */
export function inputsHash(a: CardAccount): string {
  return hash(
    'sha256',
    JSON.stringify([
      a.accountId ?? null,
      a.creditLimit,
      a.age,
      a.education,
      a.repaymentStatus,
      a.billAmounts,
      a.paymentAmounts,
    ]),
  );
}

/** inputsHash of decision `d`'s account, from its columns: the same JSON, so the same hash. */
function columnsInputsHash(c: DecisionColumns, d: number): string {
  const at = d * INPUT_WIDTH;
  const list = (from: number) => Array.from(c.inputs.subarray(at + from, at + from + MONTHS));
  return hash(
    'sha256',
    JSON.stringify([
      c.accountIds[d] ?? null,
      c.inputs[at],
      c.inputs[at + 1],
      EDUCATION[c.education[d]!],
      list(2),
      list(2 + MONTHS),
      list(2 + 2 * MONTHS),
    ]),
  );
}
