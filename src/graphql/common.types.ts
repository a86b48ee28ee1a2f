import { GraphQLScalarType } from 'graphql';
import { GraphQLLocalDate } from 'graphql-scalars';
import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'The model (and its version) that produced an answer.' })
export class ModelRef {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  version!: string;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the artefact(s) that computed this answer (as `sha256sum` prints a single file); null for a remote model or the built-in GARCH method.' })
  sha256!: string | null;
}

/**
 * A list field's complexity: its children once, plus a cost per item it sends to a model. With
 * `perItemChildCost`, children that run inference for every item (sentiment's explanation, whose complexity is
 * that unit) are charged once per item: each whole unit in the children's complexity counts `items` times, so
 * aliases and fragments are charged too.
 */
export function perItemComplexity(argName: string, itemCost: number, options: { perItemChildCost?: number } = {}) {
  return ({ args, childComplexity }: { args: Record<string, unknown>; childComplexity: number }): number => {
    const list = args[argName];
    const items = Array.isArray(list) ? list.length : 1;
    const unit = options.perItemChildCost;
    const perItemChildren = unit ? Math.floor(childComplexity / unit) * unit : 0;
    return childComplexity + items * itemCost + Math.max(0, items - 1) * perItemChildren;
  };
}

/** Rows a list field may return per complexity unit: what it returns costs as much as what it sends. */
export const ROWS_PER_UNIT = 10;

/**
 * A row-returning field's complexity: its children once, plus one unit per 10 rows of its `limit`
 * argument (the bound, since the count is not known before execution).
 * @example rowsComplexity('limit', 1000)({ args: {}, childComplexity: 2 }) === 102
 */
export function rowsComplexity(argName: string, defaultLimit: number) {
  return ({ args, childComplexity }: { args: Record<string, unknown>; childComplexity: number }): number => {
    const limit = typeof args[argName] === 'number' && Number.isFinite(args[argName]) ? Math.max(0, args[argName]) : defaultLimit;
    return childComplexity + Math.ceil(limit / ROWS_PER_UNIT);
  };
}

/** Calendar date as YYYY-MM-DD (kept as a string: no time zone to get wrong). */
export const DateScalar = new GraphQLScalarType({
  ...GraphQLLocalDate.toConfig(),
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD.',
});
