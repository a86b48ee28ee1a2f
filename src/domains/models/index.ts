export { ModelsResolver } from './models.resolver.js';
