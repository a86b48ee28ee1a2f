/**
 * The per-field cost rules: one declaration per field that both the gateway's estimator (graphql-query-complexity
 * reads the function a rule becomes) and the subgraph SDL's `@cost`/`@listSize` directives (cost-directives.ts reads
 * the rule attached to that function) come from, so what a router is told and what the gateway charges cannot drift.
 * A field with no rule costs 1 plus its selection; a number is a `fixed` rule.
 */
export type CostRule =
  /** Sends each item of list argument `arg` to a model: `itemCost` per item (see perItemComplexity). */
  | { readonly kind: 'perItem'; readonly arg: string; readonly itemCost: number; readonly perItemChildCost?: number }
  /** Returns up to `arg` rows (default `defaultLimit`): one unit per ROWS_PER_UNIT rows of the limit. */
  | { readonly kind: 'rows'; readonly arg: string; readonly defaultLimit: number }
  /** Costs `weight` plus its selection. */
  | { readonly kind: 'fixed'; readonly weight: number };

export interface EstimatorArgs {
  readonly args: Record<string, unknown>;
  readonly childComplexity: number;
}

/** A field's `complexity` extension that carries the rule it computes. */
export type RuledComplexity = ((options: EstimatorArgs) => number) & { readonly costRule: CostRule };

/** Rows a list field may return per complexity unit: what it returns costs as much as what it sends. */
export const ROWS_PER_UNIT = 10;

/** What a rule charges, given the field's arguments and its selection's cost. */
export function chargeOf(rule: CostRule, { args, childComplexity }: EstimatorArgs): number {
  switch (rule.kind) {
    case 'perItem': {
      const list = args[rule.arg];
      const items = Array.isArray(list) ? list.length : 1;
      const unit = rule.perItemChildCost;
      const perItemChildren = unit ? Math.floor(childComplexity / unit) * unit : 0;
      return childComplexity + items * rule.itemCost + Math.max(0, items - 1) * perItemChildren;
    }
    case 'rows': {
      const value = args[rule.arg];
      const limit = typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : rule.defaultLimit;
      return childComplexity + Math.ceil(limit / ROWS_PER_UNIT);
    }
    case 'fixed':
      return childComplexity + rule.weight;
    default: {
      const unknown: never = rule;
      throw new Error(`unknown cost rule ${JSON.stringify(unknown)}`);
    }
  }
}

/** The `complexity` option for a field that follows `rule`. */
export function ruled(rule: CostRule): RuledComplexity {
  return Object.assign((options: EstimatorArgs) => chargeOf(rule, options), { costRule: rule });
}

/**
 * A list field's complexity: its children once, plus a cost per item it sends to a model. With
 * `perItemChildCost`, children that run inference for every item (sentiment's explanation, whose complexity is
 * that unit) are charged once per item: each whole unit in the children's complexity counts `items` times, so
 * aliases and fragments are charged too.
 */
export function perItemComplexity(
  argName: string,
  itemCost: number,
  options: { perItemChildCost?: number } = {},
): RuledComplexity {
  return ruled({
    kind: 'perItem',
    arg: argName,
    itemCost,
    ...(options.perItemChildCost ? { perItemChildCost: options.perItemChildCost } : {}),
  });
}

/**
 * A row-returning field's complexity: its children once, plus one unit per 10 rows of its `limit`
 * argument (the bound, since the count is not known before execution).
 * @example rowsComplexity('limit', 1000)({ args: {}, childComplexity: 2 }) === 102
 */
export function rowsComplexity(argName: string, defaultLimit: number): RuledComplexity {
  return ruled({ kind: 'rows', arg: argName, defaultLimit });
}

/** The rule a field's `complexity` extension follows; `undefined` when it has none (1 plus its selection). */
export function costRuleOf(complexity: unknown, where: string): CostRule | undefined {
  if (complexity === undefined) return undefined;
  if (typeof complexity === 'number') return { kind: 'fixed', weight: complexity };
  const rule = (complexity as Partial<RuledComplexity> | null)?.costRule;
  // A bare function could charge anything: the SDL could not say what, so every cost must be declared as a rule.
  if (!rule)
    throw new Error(
      `${where}: its complexity must be a number or a cost rule (cost-rules.ts), so the subgraph SDL can state it`,
    );
  return rule;
}
