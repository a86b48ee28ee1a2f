import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isInputObjectType,
  isListType,
  isObjectType,
  Kind,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type InputValueDefinitionNode,
} from 'graphql';
import { costRuleOf, ROWS_PER_UNIT, type CostRule } from './cost-rules.js';

/** What the subgraph imports from Federation 2.9 for demand control. */
export const COST_DIRECTIVE_IMPORTS = ['@cost', '@listSize'] as const;

const name = (value: string) => ({ kind: Kind.NAME, value }) as const;
const int = (value: number) => ({ kind: Kind.INT, value: String(value) }) as const;
const cost = (weight: number): ConstDirectiveNode => ({
  kind: Kind.DIRECTIVE,
  name: name('cost'),
  arguments: [{ kind: Kind.ARGUMENT, name: name('weight'), value: int(weight) }],
});
/** Every list is sized 1: the gateway charges a list's selection once, whatever its length (a router's default list size would multiply it). */
const listSizeOne: ConstDirectiveNode = {
  kind: Kind.DIRECTIVE,
  name: name('listSize'),
  arguments: [{ kind: Kind.ARGUMENT, name: name('assumedSize'), value: int(1) }],
};

const isList = (type: GraphQLInputType | GraphQLField<unknown, unknown>['type']) => isListType(getNullableType(type));

/**
 * The field's weight under the IBM cost spec as Apollo Router and Hive Router compute it: a field costs
 * max(0, its `@cost` + its arguments' `@cost`) + instances × (1 for an object, 0 for a leaf, + its selection).
 * Lists are sized 1, so the weight is what the gateway charges beyond "1 + selection" for an object:
 * - no rule: 1 + selection (a leaf says `@cost(weight: 1)`);
 * - fixed w: w + selection;
 * - rows: the rows of the default limit (integer weights cannot say "one per 10 rows of the argument");
 * - per item: `itemCost` on the argument, which the spec charges once for the list and once per item, so the field
 *   takes back one `itemCost` (and the object's 1): items × itemCost + selection. A router cannot multiply the
 *   selection by a list argument's length, so the per-item charge of an explanation is charged once.
 */
function fieldWeight(rule: CostRule | undefined, field: GraphQLField<unknown, unknown>): number {
  const instance = isCompositeType(getNamedType(field.type)) ? 1 : 0;
  if (!rule) return 1 - instance;
  switch (rule.kind) {
    case 'fixed':
      return rule.weight - instance;
    case 'rows':
      return Math.ceil(rule.defaultLimit / ROWS_PER_UNIT) - instance;
    case 'perItem': {
      const arg = field.args.find((a) => a.name === rule.arg);
      if (!arg) throw new Error(`${field.name}: its cost rule names argument ${rule.arg}, which it does not have`);
      return -instance - (isList(arg.type) ? rule.itemCost : 0);
    }
    default: {
      const unknown: never = rule;
      throw new Error(`unknown cost rule ${JSON.stringify(unknown)}`);
    }
  }
}

/** An input value's directive: a per-item argument carries its item cost; input objects cost nothing of themselves (the spec's default is 1). */
function inputValueWithCost(
  node: InputValueDefinitionNode,
  type: GraphQLInputType,
  itemCost: number | undefined,
): InputValueDefinitionNode {
  const weight = itemCost ?? (isInputObjectType(getNamedType(type)) ? 0 : undefined);
  return weight === undefined ? node : { ...node, directives: [...(node.directives ?? []), cost(weight)] };
}

/**
 * The SDL of `schema` (as `typeDefs`) with `@cost` and `@listSize` on its fields, arguments and input fields, read
 * from each field's cost rule: a router that implements the IBM cost spec then estimates what the gateway charges.
 */
export function withCostDirectives(typeDefs: DocumentNode, schema: GraphQLSchema): DocumentNode {
  const definitions = typeDefs.definitions.map((definition): DefinitionNode => {
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const type = schema.getType(definition.name.value);
      if (!isObjectType(type)) return definition;
      return {
        ...definition,
        fields: definition.fields?.map((node): FieldDefinitionNode => {
          const field = type.getFields()[node.name.value]!;
          const rule = costRuleOf(field.extensions?.complexity, `${type.name}.${field.name}`);
          const weight = fieldWeight(rule, field);
          const directives = [
            ...(node.directives ?? []),
            ...(weight !== 0 ? [cost(weight)] : []),
            ...(isList(field.type) ? [listSizeOne] : []),
          ];
          const args = node.arguments?.map((arg) => {
            const definitionArg = field.args.find((a) => a.name === arg.name.value)!;
            return inputValueWithCost(
              arg,
              definitionArg.type,
              rule?.kind === 'perItem' && rule.arg === arg.name.value ? rule.itemCost : undefined,
            );
          });
          return { ...node, directives, ...(args ? { arguments: args } : {}) };
        }),
      };
    }
    if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      const type = schema.getType(definition.name.value);
      if (!isInputObjectType(type)) return definition;
      return {
        ...definition,
        fields: definition.fields?.map((node) =>
          inputValueWithCost(node, type.getFields()[node.name.value]!.type, undefined),
        ),
      };
    }
    return definition;
  });
  return { ...typeDefs, definitions };
}
