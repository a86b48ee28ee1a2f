import { defineDomain } from '../../graphql/domain-module.js';
import {
  FORECAST_ITEM_COST,
  FORECAST_TASK,
  type ForecastingRequest,
  type ForecastingServices,
} from './forecast.context.js';
import { createForecastLoaders } from './forecast.loaders.js';
import { ForecastResolver, TickerResolver } from './forecast.resolver.js';
import { ForecastService } from './forecast.service.js';
import { CachedPriceStore } from './cached-price-store.js';
import { openPriceStore } from './price-store.js';
import { VolatilityPool } from './volatility-pool.js';

/** Price series: the price store, interval forecasts and their volatility (GARCH fits in a worker pool). */
export const forecastingDomain = defineDomain<ForecastingServices, ForecastingRequest>({
  name: 'forecasting',
  resolvers: [ForecastResolver, TickerResolver],
  tasks: (config) => ({
    [FORECAST_TASK]: {
      input: 'rows',
      scope: 'forecast:read',
      itemCost: FORECAST_ITEM_COST,
      shadow: false,
      maxItems: config.limits.forecastMaxSeries,
    },
  }),
  async start({ config, registry, resources, postgres, answers }) {
    const database = config.priceDatabaseUrl ? postgres.pool(config.priceDatabaseUrl) : undefined;
    const prices = new CachedPriceStore(
      resources.use('price store', await openPriceStore({ postgres: database, file: config.priceDbPath }), (p) =>
        p.close(),
      ),
      answers,
    );
    const volatility = resources.use('volatility pool', new VolatilityPool(config.cpu.volatilityThreads), (v) =>
      v.close(),
    );
    const forecast = new ForecastService(
      () => registry.rowsModel(registry.nameForTask(FORECAST_TASK) ?? FORECAST_TASK),
      prices,
      config.limits.forecastMaxSeries,
      volatility.estimate,
      answers,
    );
    return { services: { forecast, prices } };
  },
  request(services, { submission }) {
    return { ...services, loaders: createForecastLoaders(services, submission) };
  },
});
