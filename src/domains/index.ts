import type { DomainModule } from '../graphql/domain-module.js';
import { creditDomain } from './credit/index.js';
import { forecastingDomain } from './forecasting/index.js';
import { modelsDomain } from './models/index.js';
import { sentimentDomain } from './sentiment/index.js';

/**
 * Every domain the gateway serves: the schema, the per-request context, the tasks models may declare and the
 * server's start-up loop over this list. A new domain is a folder under src/domains/ and one line here.
 */
// Each module keeps its own service and request types; the list only needs what every module has.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const DOMAINS: ReadonlyArray<DomainModule<any, any>> = [
  modelsDomain,
  creditDomain,
  forecastingDomain,
  sentimentDomain,
];
