import { GraphQLScalarType } from 'graphql';
import { GraphQLLocalDate } from 'graphql-scalars';
import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'The model (and its version) that produced an answer.' })
export class ModelRef {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  version!: string;
}

/** Complexity cost of one item sent to a model, by how heavy its inference is. */
export const ITEM_COST = { sentiment: 10, credit: 1, forecast: 20 } as const;

/** A list field's complexity: its children once, plus a cost per item it sends to a model. */
export function perItemComplexity(argName: string, itemCost: number) {
  return ({ args, childComplexity }: { args: Record<string, unknown>; childComplexity: number }): number => {
    const list = args[argName];
    return childComplexity + (Array.isArray(list) ? list.length : 1) * itemCost;
  };
}

/** Calendar date as YYYY-MM-DD (kept as a string: no time zone to get wrong). */
export const DateScalar = new GraphQLScalarType({
  ...GraphQLLocalDate.toConfig(),
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD.',
});
