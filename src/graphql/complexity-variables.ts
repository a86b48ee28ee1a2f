import {
  Kind,
  isInputObjectType,
  isListType,
  isNonNullType,
  typeFromAST,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type TypeNode,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * The document and variables that the complexity estimate is computed on. graphql-query-complexity coerces
 * every variable before it estimates, and execution coerces them all again: for 1,000 credit accounts that is
 * tens of milliseconds paid twice. The estimators read only how long a list argument is and the value of a
 * scalar argument (`perItemComplexity`, `rowsComplexity`), never what is inside an input object, so here each
 * input object in a variable stands as `true` (its variable declared Boolean in a copy of the document, every
 * level nullable), and lists keep their length. Scalars and enums are coerced as before. A valid request gets
 * the same complexity as with its full variables; an invalid one is refused by execution's coercion
 * (BAD_USER_INPUT) after it is charged. Variables with a default value keep their declared type.
 */
export interface ComplexityInput {
  readonly document: DocumentNode;
  readonly variables: Record<string, unknown>;
}

interface Shape {
  /** Per operation (by name; '' when unnamed): variables whose input objects are replaced, with their declared types. */
  readonly shaped: ReadonlyMap<string, ReadonlyMap<string, GraphQLInputType>>;
  readonly document: DocumentNode;
}

const shapes = new WeakMap<DocumentNode, Shape>();

function holdsInputObject(type: GraphQLInputType): boolean {
  if (isNonNullType(type) || isListType(type)) return holdsInputObject(type.ofType as GraphQLInputType);
  return isInputObjectType(type);
}

/** The declared type with input objects as Boolean and nothing non-null, so `true` and null coerce anywhere. */
function shapedTypeNode(type: GraphQLInputType): TypeNode {
  if (isNonNullType(type)) return shapedTypeNode(type.ofType as GraphQLInputType);
  if (isListType(type)) return { kind: Kind.LIST_TYPE, type: shapedTypeNode(type.ofType as GraphQLInputType) };
  if (isInputObjectType(type)) return { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'Boolean' } };
  return { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: type.name } };
}

/** A value as its shaped type reads it: input objects become `true`, lists keep their items' shapes. */
function shapedValue(type: GraphQLInputType, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (isNonNullType(type)) return shapedValue(type.ofType as GraphQLInputType, value);
  if (isListType(type)) {
    const itemType = type.ofType as GraphQLInputType;
    // GraphQL coerces a single value to a list of one; the shape does the same.
    return Array.isArray(value) ? value.map((item) => shapedValue(itemType, item)) : [shapedValue(itemType, value)];
  }
  if (isInputObjectType(type)) return true;
  return value;
}

function shapeOf(schema: GraphQLSchema, document: DocumentNode): Shape {
  const cached = shapes.get(document);
  if (cached) return cached;
  const shaped = new Map<string, Map<string, GraphQLInputType>>();
  const definitions = document.definitions.map((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION || !definition.variableDefinitions?.length) return definition;
    const variables = new Map<string, GraphQLInputType>();
    const variableDefinitions = definition.variableDefinitions.map((node: VariableDefinitionNode) => {
      const type = typeFromAST(schema, node.type) as GraphQLInputType | undefined;
      if (!type || node.defaultValue || !holdsInputObject(type)) return node;
      variables.set(node.variable.name.value, type);
      return { ...node, type: shapedTypeNode(type) };
    });
    if (!variables.size) return definition;
    shaped.set(definition.name?.value ?? '', variables);
    return { ...definition, variableDefinitions };
  });
  const shape = { shaped, document: shaped.size ? { ...document, definitions } : document };
  shapes.set(document, shape);
  return shape;
}

/** `operationName` as the request gives it; a document with one operation needs none. */
export function complexityInput(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): ComplexityInput {
  const { shaped, document: shapedDocument } = shapeOf(schema, document);
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const name = operationName ?? (operations.length === 1 ? (operations[0]!.name?.value ?? '') : undefined);
  const types = name === undefined ? undefined : shaped.get(name);
  if (!types) return { document, variables };
  const shapedVariables: Record<string, unknown> = { ...variables };
  for (const [variable, type] of types) {
    if (Object.hasOwn(variables, variable)) shapedVariables[variable] = shapedValue(type, variables[variable]);
  }
  return { document: shapedDocument, variables: shapedVariables };
}
