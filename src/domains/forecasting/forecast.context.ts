import type { DomainContext } from '../../graphql/domain-module.js';
import type { ForecastLoaders } from './forecast.loaders.js';
import type { ForecastService } from './forecast.service.js';
import type { PriceStore } from './price-store.js';

/** The model task this domain serves, and its complexity units per series. */
export const FORECAST_TASK = 'forecast';
export const FORECAST_ITEM_COST = 20;

export interface ForecastingServices {
  readonly forecast: ForecastService;
  readonly prices: PriceStore;
}

/** What a forecasting resolver finds at `ctx.forecasting`. */
export interface ForecastingRequest extends ForecastingServices {
  readonly loaders: ForecastLoaders;
}

export type ForecastingContext = DomainContext<'forecasting', ForecastingRequest>;
