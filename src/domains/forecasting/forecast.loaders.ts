import DataLoader from 'dataloader';
import type { SubmitAs } from '../../runtime/dynamic-batcher.js';
import type { ForecastRequest, ForecastResult, ForecastService } from './forecast.service.js';

export interface ForecastLoaders {
  /** Every `marketForecast` field of one operation (aliases included) goes out as one batch. */
  readonly marketForecast: DataLoader<ForecastRequest, ForecastResult>;
}

export function createForecastLoaders(deps: { forecast: ForecastService }, caller: SubmitAs): ForecastLoaders {
  return {
    marketForecast: new DataLoader((inputs) => deps.forecast.forecastMany(inputs, 'input', caller), { cache: false }),
  };
}
