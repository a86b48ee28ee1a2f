import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * The depth of each operation of a document, as graphql-depth-limit counts it (a field with a selection set is
 * one level; introspection fields and leaves count 0; fragments add no level), in time linear in the document:
 * each fragment's depth is computed once. graphql-depth-limit walks every path a fragment spread expands to, so
 * a 2 kB document of 8 fragments spreading the next 10 times each held the event loop for seconds.
 */
export function operationDepths(document: DocumentNode): Map<string, number> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  // A fragment in progress counts 0: validation refuses fragment cycles before this runs, this keeps the walk finite anyway.
  const fragmentDepth = new Map<string, number>();
  const depthOf = (set: SelectionSetNode): number => {
    let deepest = 0;
    for (const selection of set.selections) {
      let depth = 0;
      if (selection.kind === Kind.FIELD) {
        if (selection.selectionSet && !selection.name.value.startsWith('__'))
          depth = 1 + depthOf(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        depth = depthOf(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const known = fragmentDepth.get(name);
        if (known !== undefined) depth = known;
        else {
          const fragment = fragments.get(name);
          fragmentDepth.set(name, 0);
          depth = fragment ? depthOf(fragment.selectionSet) : 0;
          fragmentDepth.set(name, depth);
        }
      }
      if (depth > deepest) deepest = depth;
    }
    return deepest;
  };
  const depths = new Map<string, number>();
  for (const d of document.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) depths.set(d.name?.value ?? '', depthOf(d.selectionSet));
  }
  return depths;
}
