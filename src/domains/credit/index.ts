export { creditDomain } from './credit.module.js';
export { CREDIT_TASK, type CreditContext } from './credit.context.js';
export { CreditService } from './credit.service.js';
