import { parse } from 'csv-parse/sync';
import { dateOrderProblem, priceRowProblem } from '../market-rules.js';
import type { PriceRow } from './price-store.js';

export interface BadRow {
  readonly line: number;
  readonly reason: string;
}

export interface ParsedPrices {
  readonly rows: PriceRow[];
  readonly bad: BadRow[];
}

const OHLCV = ['date', 'open', 'high', 'low', 'close', 'volume'];

/**
 * Reads `date,open,high,low,close,volume` or `date,close` CSV (header required) and checks every row by the
 * API's own price-row rule (market-rules.ts: a real YYYY-MM-DD date, prices finite, > 0 and at most MAX_PRICE,
 * high >= low, volume >= 0) and its date after the previous good row's, so the store never holds a series the
 * API would refuse. Good rows and bad rows (with their line numbers) come back separately.
 */
export function parsePriceCsv(text: string): ParsedPrices {
  const records = parse(text, {
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
    info: true,
  }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  if (records.length === 0)
    throw new Error('the file is empty: expected a header date,close or date,open,high,low,close,volume');
  const header = records[0]!.record.map((h) => h.toLowerCase());
  const valid =
    (header.length === 2 && header[0] === 'date' && header[1] === 'close') || header.join(',') === OHLCV.join(',');
  if (!valid) throw new Error(`line 1: header must be date,close or ${OHLCV.join(',')}, got ${header.join(',')}`);
  const rows: PriceRow[] = [];
  const bad: BadRow[] = [];
  let lastDate = '';
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    if (record.length !== header.length) {
      bad.push({ line, reason: `expected ${header.length} columns, got ${record.length}` });
      continue;
    }
    const cell = Object.fromEntries(header.map((h, i) => [h, record[i]!]));
    const num = (k: string) => (cell[k] === undefined || cell[k] === '' ? null : Number(cell[k]));
    const row: PriceRow = {
      date: cell.date!,
      close: num('close')!,
      open: num('open'),
      high: num('high'),
      low: num('low'),
      volume: num('volume'),
    };
    // Said as the API says it, without the request path: "close must be a positive price up to 1e+12, got -1".
    const problem = priceRowProblem(row);
    const order = problem ? undefined : dateOrderProblem(row.date, lastDate || undefined);
    if (problem || order) {
      bad.push({ line, reason: problem ? `${problem.at.slice(1)} ${problem.message}` : `date ${order}` });
      continue;
    }
    rows.push(row);
    lastDate = cell.date!;
  }
  return { rows, bad };
}
