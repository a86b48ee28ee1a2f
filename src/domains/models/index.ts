export { modelsDomain } from './models.module.js';
