export { forecastingDomain } from './forecast.module.js';
export { FORECAST_TASK, type ForecastingContext } from './forecast.context.js';
export { ForecastService } from './forecast.service.js';
export { Ticker } from './forecast.types.js';
export { openPriceStore, type PriceStore } from './price-store.js';
