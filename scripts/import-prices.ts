// npm run import-prices -- SYMBOL path/to/file.csv [--skip-bad]
// Validates every row; a file with bad rows imports nothing unless --skip-bad. Upserts in one transaction.
import { readFileSync } from 'node:fs';
import { inferFrequency } from '../src/domains/forecasting/forecast.calendar.js';
import { normalizeSymbol, symbolProblem } from '../src/domains/market-rules.js';
import { openPriceStore } from '../src/domains/forecasting/price-store.js';
import { parsePriceCsv } from '../src/domains/forecasting/price-import.js';
import { type ConfigError, loadConfig } from '../src/platform/config.js';
import { PostgresPools } from '../src/platform/databases.js';

const args = process.argv.slice(2);
const skipBad = args.includes('--skip-bad');
const [symbolArg, file] = args.filter((a) => !a.startsWith('--'));
const fail = (message: string, code = 1): never => {
  process.stderr.write(`${message}\n`);
  process.exit(code);
};

if (!symbolArg || !file) fail('usage: npm run import-prices -- SYMBOL path/to/file.csv [--skip-bad]', 2);
const badSymbol = symbolProblem(symbolArg!);
if (badSymbol) fail(`SYMBOL ${badSymbol}`, 2);
const symbol = normalizeSymbol(symbolArg!);

let config: ReturnType<typeof loadConfig> | undefined;
try {
  config = loadConfig();
} catch (error) {
  fail((error as ConfigError).message, 2);
}

let parsed: ReturnType<typeof parsePriceCsv> | undefined;
try {
  parsed = parsePriceCsv(readFileSync(file!, 'utf8'));
} catch (error) {
  fail(`${file}: ${(error as Error).message}`);
}
const { rows, bad } = parsed!;
for (const b of bad.slice(0, 50)) process.stderr.write(`${file}:${b.line}: ${b.reason}\n`);
if (bad.length > 50) process.stderr.write(`... and ${bad.length - 50} more bad rows\n`);
if (bad.length && !skipBad)
  fail(`${bad.length} bad row(s): nothing imported (use --skip-bad to import the ${rows.length} good rows)`);
if (rows.length === 0) fail('no rows to import');

const postgres = new PostgresPools(1);
const store = await openPriceStore({
  postgres: config!.priceDatabaseUrl ? postgres.pool(config!.priceDatabaseUrl) : undefined,
  file: config!.priceDbPath,
});
await store.upsert(symbol, rows);
const summary = (await store.symbols()).find((s) => s.symbol === symbol)!;
await store.close();
await postgres.close();
const { frequency, medianGapDays } = inferFrequency(rows.map((r) => r.date).sort());
if (frequency !== 'daily')
  process.stderr.write(
    `warning: these prices look ${frequency} (median gap ${medianGapDays} days); forecasts need daily closes and will refuse ${symbol}\n`,
  );
console.log(
  `imported ${rows.length} rows for ${symbol}${bad.length ? ` (skipped ${bad.length} bad)` : ''}: ${summary.rows} rows from ${summary.firstDate} to ${summary.lastDate} in ${config!.priceDatabaseUrl ? 'PostgreSQL' : config!.priceDbPath}`,
);
