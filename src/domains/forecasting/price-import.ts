import { parse } from 'csv-parse/sync';
import { isIsoDate } from './forecast.calendar.js';
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
 * Reads `date,open,high,low,close,volume` or `date,close` CSV (header required) and checks every row:
 * a real YYYY-MM-DD date, after the previous good row's date, positive finite prices, high >= low,
 * volume >= 0. Good rows and bad rows (with their line numbers) come back separately.
 */
export function parsePriceCsv(text: string): ParsedPrices {
  const records = parse(text, { skip_empty_lines: true, relax_column_count: true, trim: true, info: true }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  if (records.length === 0) throw new Error('the file is empty: expected a header date,close or date,open,high,low,close,volume');
  const header = records[0]!.record.map((h) => h.toLowerCase());
  const valid = (header.length === 2 && header[0] === 'date' && header[1] === 'close') || header.join(',') === OHLCV.join(',');
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
    const reason = checkRow(cell.date!, num('close'), num('open'), num('high'), num('low'), num('volume'), lastDate, header.length > 2);
    if (reason) {
      bad.push({ line, reason });
      continue;
    }
    rows.push({ date: cell.date!, close: num('close')!, open: num('open'), high: num('high'), low: num('low'), volume: num('volume') });
    lastDate = cell.date!;
  }
  return { rows, bad };
}

function checkRow(date: string, close: number | null, open: number | null, high: number | null, low: number | null,
  volume: number | null, lastDate: string, ohlcv: boolean): string | undefined {
  if (!isIsoDate(date)) return `date must be YYYY-MM-DD, got "${date.slice(0, 20)}"`;
  if (lastDate && date <= lastDate) return `date ${date} is not after the previous row's ${lastDate}`;
  if (!(close !== null && Number.isFinite(close) && close > 0)) return `close must be a positive number, got ${close}`;
  if (ohlcv) {
    for (const [k, v] of [['open', open], ['high', high], ['low', low]] as const) {
      if (v !== null && !(Number.isFinite(v) && v > 0)) return `${k} must be a positive number, got ${v}`;
    }
    if (high !== null && low !== null && high < low) return `high (${high}) must be >= low (${low})`;
    if (volume !== null && !(Number.isFinite(volume) && volume >= 0)) return `volume must be >= 0, got ${volume}`;
  }
  return undefined;
}
