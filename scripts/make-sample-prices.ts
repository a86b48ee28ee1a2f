// Writes examples/data/DEMO.csv and examples/forecast.variables.json: 320 synthetic business-day
// closes from a seeded GARCH(1,1) simulation, so the examples need no data from outside the repository.
// Deterministic: the same files on every run (npm run examples:prices).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { nextBusinessDays } from '../src/domains/forecasting/forecast.calendar.js';
import { REPO_ROOT } from '../src/platform/config.js';
import { seededRandom } from '../src/platform/seeded-random.js';

const COUNT = 320;
const START = '2025-08-29'; // the first close falls on the next weekday

const random = seededRandom(20261124);
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
// Daily GARCH(1,1) with the persistence typical of large-cap equities: about 1.3 % daily volatility.
const omega = 2e-6;
const alpha = 0.08;
const beta = 0.9;
let variance = omega / (1 - alpha - beta);
let close = 100;
const dates = nextBusinessDays(START, COUNT);
const rows = dates.map((date) => {
  const r = 0.0003 + Math.sqrt(variance) * normal();
  variance = omega + alpha * r * r + beta * variance;
  close *= Math.exp(r);
  return { date, close: Math.round(close * 100) / 100 };
});

const csv = path.join(REPO_ROOT, 'examples', 'data', 'DEMO.csv');
writeFileSync(csv, `date,close\n${rows.map((r) => `${r.date},${r.close}`).join('\n')}\n`);
const variables = path.join(REPO_ROOT, 'examples', 'forecast.variables.json');
// One price a line: readable in GraphiQL's variables editor.
const series = rows.map((r) => `      ${JSON.stringify(r)}`).join(',\n');
writeFileSync(
  variables,
  `{\n  "input": {\n    "horizon": 5,\n    "levels": [0.8, 0.95],\n    "series": [\n${series}\n    ]\n  }\n}\n`,
);
console.log(
  `wrote ${COUNT} closes (${rows[0]!.date} .. ${rows[COUNT - 1]!.date}) to ${path.relative(REPO_ROOT, csv)} and ${path.relative(REPO_ROOT, variables)}`,
);
