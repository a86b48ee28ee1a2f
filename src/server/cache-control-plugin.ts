import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * Root fields whose answers depend only on their arguments, the model version and the stored prices: a query made
 * of these alone may be kept by an HTTP cache. Credit is never among them (each decision is recorded), nor
 * newsSentiment (it records mentions), nor anything answering with live state (models, monitoring, ticker's news).
 */
export const CACHEABLE_ROOT_FIELDS: ReadonlySet<string> = new Set([
  'sentiment',
  'targetedSentiment',
  'marketForecast',
  'marketForecasts',
  'prices',
  'symbols',
  '__typename',
]);

/**
 * Cache-Control from the root fields that ran, set once per response: Apollo's cache-control plugin would wrap
 * every field's resolver to read `@cacheControl` hints. A query of cacheable fields only, answered without errors,
 * gets `max-age` (private when API keys are configured: an HTTP cache shared by callers would hand the answer to
 * a caller without the scope); every other response gets `no-store`. With `maxAgeS` 0 every response is `no-store`:
 * an HTTP cache cannot see a model version being activated, the gateway's own answer cache can.
 */
export function cacheControlPlugin(options: { maxAgeS: number; perCaller: boolean }): ApolloServerPlugin {
  const cacheable =
    options.maxAgeS > 0 ? `${options.perCaller ? 'private' : 'public'}, max-age=${options.maxAgeS}` : 'no-store';
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, document }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const ok =
            !errors?.length &&
            operation?.operation === 'query' &&
            document !== undefined &&
            onlyCacheable(operation, document);
          response.http.headers.set('cache-control', ok ? cacheable : 'no-store');
        },
      };
    },
  };
}

/** True when every root field of the operation, through fragments, is in CACHEABLE_ROOT_FIELDS. */
function onlyCacheable(operation: OperationDefinitionNode, document: DocumentNode): boolean {
  const visit = (set: SelectionSetNode, seen: Set<string>): boolean =>
    set.selections.every((s) => {
      if (s.kind === Kind.FIELD) return CACHEABLE_ROOT_FIELDS.has(s.name.value);
      if (s.kind === Kind.INLINE_FRAGMENT) return visit(s.selectionSet, seen);
      const name = s.name.value;
      if (seen.has(name)) return true;
      const fragment = document.definitions.find(
        (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name,
      );
      return fragment !== undefined && visit(fragment.selectionSet, seen.add(name));
    });
  return visit(operation.selectionSet, new Set());
}
