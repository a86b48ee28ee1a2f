// A router's static cost estimate of one subgraph operation, from the @cost/@listSize directives of an SDL, as the IBM
// cost spec defines it and Apollo Router's demand control computes it (field cost = max(0, field @cost + argument
// costs) + instances × (type cost + selection); objects 1, leaves 0; a list argument's @cost counts for the list and
// for each item; an input object costs 1 unless its argument says otherwise; mutations add 10). Test code only: it is
// the other side the subgraph SDL must agree with.
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isInputObjectType,
  isListType,
  isObjectType,
  Kind,
  parse,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLInputField,
  type GraphQLObjectType,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

type InputDefinition = GraphQLArgument | GraphQLInputField;

function directive(
  definition: { astNode?: { directives?: readonly ConstDirectiveNode[] } | null | undefined },
  name: string,
): Record<string, unknown> | undefined {
  const node = definition.astNode?.directives?.find((d) => d.name.value === name);
  return node
    ? Object.fromEntries((node.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]))
    : undefined;
}

const weightOf = (definition: { astNode?: { directives?: readonly ConstDirectiveNode[] } | null | undefined }) =>
  directive(definition, 'cost')?.weight as number | undefined;

/** Returns a function that estimates `document`'s cost as a router would, with `defaultListSize` for unsized lists. */
export function routerCostModel(subgraphSdl: string, defaultListSize = 10) {
  const schema = buildSubgraphSchema({ typeDefs: parse(subgraphSdl) });

  function scoreInput(value: unknown, definition: InputDefinition): number {
    const named = getNamedType(definition.type);
    if (value === null || value === undefined) return 0;
    if (Array.isArray(value))
      return (weightOf(definition) ?? 0) + value.reduce((sum: number, item) => sum + scoreInput(item, definition), 0);
    if (typeof value === 'object' && isInputObjectType(named)) {
      let cost = weightOf(definition) ?? 1;
      for (const [key, inner] of Object.entries(value)) cost += scoreInput(inner, named.getFields()[key]!);
      return cost;
    }
    return weightOf(definition) ?? 0;
  }

  return (document: DocumentNode, variables: Record<string, unknown> = {}): number => {
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((f) => [f.name.value, f]),
    );
    const literalValue = (node: ValueNode): unknown => valueFromASTUntyped(node, variables);

    function scoreSelections(selectionSet: SelectionSetNode | undefined, parent: GraphQLObjectType): number {
      let cost = 0;
      for (const selection of selectionSet?.selections ?? []) {
        if (selection.kind === Kind.FIELD) {
          if (selection.name.value === '__typename') continue;
          const field = parent.getFields()[selection.name.value];
          if (!field) throw new Error(`no field ${parent.name}.${selection.name.value}`);
          const listSize = directive(field, 'listSize');
          const slicing = (listSize?.slicingArguments as string[] | undefined) ?? [];
          const sliced = slicing
            .map((name) => {
              const given = selection.arguments?.find((a) => a.name.value === name);
              return given ? literalValue(given.value) : field.args.find((a) => a.name === name)?.defaultValue;
            })
            .filter((v): v is number => typeof v === 'number');
          const expected = sliced.length ? Math.max(...sliced) : (listSize?.assumedSize as number | undefined);
          const count = isListType(getNullableType(field.type)) ? (expected ?? defaultListSize) : 1;
          let argumentsCost = 0;
          for (const argument of selection.arguments ?? [])
            argumentsCost += scoreInput(
              literalValue(argument.value),
              field.args.find((a) => a.name === argument.name.value)!,
            );
          const named = getNamedType(field.type);
          const child = isObjectType(named) ? scoreSelections(selection.selectionSet, named) : 0;
          cost +=
            Math.max(0, (weightOf(field) ?? 0) + argumentsCost) + count * ((isCompositeType(named) ? 1 : 0) + child);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          cost += scoreSelections(
            selection.selectionSet,
            selection.typeCondition
              ? (schema.getType(selection.typeCondition.name.value) as GraphQLObjectType)
              : parent,
          );
        } else {
          const fragment = fragments.get(selection.name.value)!;
          cost += scoreSelections(
            fragment.selectionSet,
            schema.getType(fragment.typeCondition.name.value) as GraphQLObjectType,
          );
        }
      }
      return cost;
    }

    let total = 0;
    for (const operation of document.definitions) {
      if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
      const root = operation.operation === 'mutation' ? schema.getMutationType()! : schema.getQueryType()!;
      total += (operation.operation === 'mutation' ? 10 : 0) + scoreSelections(operation.selectionSet, root);
    }
    return total;
  };
}
