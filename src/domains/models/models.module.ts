import { defineDomain } from '../../graphql/domain-module.js';
import { ModelsResolver } from './models.resolver.js';

/** The models themselves: their state, versions, shadows and monitoring, from the registry every context carries. */
export const modelsDomain = defineDomain<undefined, undefined>({
  name: 'models',
  resolvers: [ModelsResolver],
  start: () => Promise.resolve({ services: undefined }),
});
