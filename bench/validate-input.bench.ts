// node dist/bench/validate-input.bench.js [DIST]: the input validation alone, in-process, on a build (default:
// this one; pass another checkout's dist/ to compare): validateInput (type-graphql's validateFn) on 1,000 valid
// credit accounts, on one 10,000-row forecast series, valid and with one bad row, and the forecast service's own
// series check. Prints the median ms of 15 rounds of each.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import 'reflect-metadata';
import { GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLString } from 'graphql';
import type { ResolverData, ValidatorFn } from 'type-graphql';

const dist = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
const load = <T>(file: string) => import(pathToFileURL(path.join(dist, file)).href) as Promise<T>;
type Ctor = new () => object;
const { validateInput } = await load<{ validateInput: ValidatorFn<object> }>('src/graphql/validate-input.js');
const { CardAccountInput } = await load<{ CardAccountInput: Ctor }>('src/domains/credit/credit.inputs.js');
const { ForecastInput, PricePointInput } = await load<{ ForecastInput: Ctor; PricePointInput: Ctor }>(
  'src/domains/forecasting/forecast.inputs.js',
);
const { validateSeries } = await load<{ validateSeries: (series: unknown[], at: string) => void }>(
  'src/domains/forecasting/forecast.service.js',
);
const { sampleAccount } = await load<{ sampleAccount: (i: number) => object }>('test/support/accounts.js');

/** What validateInput reads of a field: its input-object argument, and the arguments sent. */
function fieldData(field: string, arg: string, list: boolean, value: unknown): ResolverData<object> {
  const type = new GraphQLInputObjectType({ name: 'Input', fields: { x: { type: GraphQLString } } });
  const args = [{ name: arg, type: list ? new GraphQLList(new GraphQLNonNull(type)) : type }];
  return {
    args: { [arg]: value },
    info: { fieldName: field, parentType: { getFields: () => ({ [field]: { args } }) } },
  } as unknown as ResolverData<object>;
}

function medianMs(run: () => void, perRound: number): number {
  for (let i = 0; i < perRound * 5; i++) run();
  const rounds: number[] = [];
  for (let r = 0; r < 15; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) run();
    rounds.push(Number(process.hrtime.bigint() - started) / 1e6 / perRound);
  }
  return Math.round(rounds.sort((a, b) => a - b)[7]! * 1000) / 1000;
}

const validate = (value: unknown, data: ResolverData<object>) => () => {
  try {
    void validateInput(value, undefined as never, data);
  } catch {
    // A refused input is what is being timed.
  }
};

const accounts = Array.from({ length: 1000 }, (_, i) => Object.assign(new CardAccountInput(), sampleAccount(i)));
const day = new Date('2000-01-03T00:00:00Z');
const rows = Array.from({ length: 10_000 }, (_, i) => {
  day.setUTCDate(day.getUTCDate() + 1);
  return Object.assign(new PricePointInput(), {
    date: day.toISOString().slice(0, 10),
    close: 100 + (i % 7),
    high: 110,
    low: 90,
    volume: 5,
  });
});
const badRows = rows.map((p, i) => (i === 5000 ? Object.assign(new PricePointInput(), p, { close: 0 }) : p));
const series = Object.assign(new ForecastInput(), { series: rows, horizon: 5, levels: [0.8, 0.95] });
const badSeries = Object.assign(new ForecastInput(), { series: badRows, horizon: 5, levels: [0.8, 0.95] });

console.log(
  JSON.stringify({
    dist,
    creditAccounts1000Ms: medianMs(validate(accounts, fieldData('creditAssessments', 'accounts', true, accounts)), 20),
    series10000ValidMs: medianMs(validate(series, fieldData('marketForecast', 'input', false, series)), 20),
    series10000OneBadRowMs: medianMs(validate(badSeries, fieldData('marketForecast', 'input', false, badSeries)), 5),
    serviceValidateSeries10000Ms: medianMs(() => validateSeries(rows, 'input.series'), 20),
  }),
);
