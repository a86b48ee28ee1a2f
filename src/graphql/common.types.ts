import { GraphQLScalarType } from 'graphql';
import { GraphQLLocalDate } from 'graphql-scalars';
import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'The model (and its version) that produced an answer.' })
export class ModelRef {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  version!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'SHA-256 of the artefact(s) that computed this answer (as `sha256sum` prints a single file); null for a remote model or the built-in GARCH method.',
  })
  sha256!: string | null;
}

export { perItemComplexity, ROWS_PER_UNIT, rowsComplexity } from './cost-rules.js';

/** Calendar date as YYYY-MM-DD (kept as a string: no time zone to get wrong). */
export const DateScalar = new GraphQLScalarType({
  ...GraphQLLocalDate.toConfig(),
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD.',
});
