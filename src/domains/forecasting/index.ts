export { ForecastResolver, TickerResolver } from './forecast.resolver.js';
export { ForecastService } from './forecast.service.js';
export { createForecastLoaders, type ForecastLoaders } from './forecast.loaders.js';
export { openPriceStore, type PriceStore } from './price-store.js';
