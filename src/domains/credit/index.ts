export { CreditAccountResolver, CreditResolver } from './credit.resolver.js';
export { CreditService } from './credit.service.js';
export { createCreditLoaders, type CreditLoaders } from './credit.loaders.js';
