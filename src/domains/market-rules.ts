/**
 * The domain's input rules, written once: the GraphQL input classes (through decorators), the services' list
 * and cross-field checks, the v2 protocol and the CSV importer all call these, so every entry refuses the same
 * values with the same words. A rule returns undefined when the value is fine, else a problem: where (relative
 * to the value checked: '' for the value itself, '[3].close' inside a list) and the sentence that follows the
 * path ("must be ..., got ..."). Pure functions: no GraphQL, no class-validator, no I/O.
 */
import { InvalidInputError } from '../platform/errors.js';

/** A value's problem: `at` is appended to the value's own path; `message` reads after it. */
export interface RuleProblem {
  readonly at: string;
  readonly message: string;
}

/**
 * Throws a rule's problem as BAD_USER_INPUT naming `field` (plus the problem's own sub-path), for the checks
 * that run outside the GraphQL input classes.
 * @example refuse('input.horizon', intRangeProblem(90, 1, 60)) // throws "input.horizon must be 1..60, got 90"
 */
export function refuse(field: string, problem: string | RuleProblem | undefined): void {
  if (problem === undefined) return;
  const { at, message } = typeof problem === 'string' ? { at: '', message: problem } : problem;
  throw new InvalidInputError(`${field}${at} ${message}`, `${field}${at}`);
}

/** A value as it is shown in a message: strings quoted and cut, numbers as JavaScript writes them. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'number' || value === null || value === undefined) return String(value);
  return JSON.stringify(value)?.slice(0, 40) ?? String(value);
}

/** "must hold min..max items, got n" (or "at most max" where none is fine), the one wording of every list bound. */
export function listSizeProblem(length: number, max: number, min = 1): string | undefined {
  if (length >= min && length <= max) return undefined;
  return min === 0 ? `must hold at most ${max} items, got ${length}` : `must hold ${min}..${max} items, got ${length}`;
}

/** An integer in [min, max]. */
export function intRangeProblem(value: unknown, min: number, max: number): string | undefined {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? undefined
    : `must be ${min}..${max}, got ${shown(value)}`;
}

/**
 * Text a model reads or a name: a string, not blank, at most `maxLength` characters.
 * @example textProblem(' ', 10) === 'must be non-empty text, got only whitespace'
 */
export function textProblem(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string') return `must be non-empty text, got ${shown(value)}`;
  if (value.trim().length === 0)
    return `must be non-empty text, got ${value.length ? 'only whitespace' : 'an empty string'}`;
  return value.length > maxLength ? `must be at most ${maxLength} characters, got ${value.length}` : undefined;
}

/** A name within text (an entity, a target): 1..maxLength characters, not blank. */
export function nameProblem(value: string, maxLength: number): string | undefined {
  return value.trim().length === 0 || value.length > maxLength
    ? `must be 1..${maxLength} characters of text, got ${value.trim().length ? value.length : 'only whitespace'}`
    : undefined;
}

/** A list of min..max names, each by the name rule. */
export function nameListProblem(
  names: readonly string[],
  min: number,
  max: number,
  maxLength: number,
): RuleProblem | undefined {
  const size = listSizeProblem(names.length, max, min);
  if (size) return { at: '', message: size };
  for (let i = 0; i < names.length; i++) {
    const problem = nameProblem(names[i]!, maxLength);
    if (problem) return { at: `[${i}]`, message: problem };
  }
  return undefined;
}

/**
 * The one symbol (ticker) rule of the gateway, after trimming and upper-casing: 1..20 characters, the first a
 * letter or digit, then letters, digits or . - = ^ _ (AAPL, BRK.B, BF-B, EURUSD=X, DEMO_1).
 */
export const SYMBOL = /^[A-Z0-9][A-Z0-9.\-=^_]{0,19}$/;
/** @example normalizeSymbol(' brk.b ') === 'BRK.B' */
export function normalizeSymbol(raw: string): string {
  return raw.trim().toUpperCase();
}

export function symbolProblem(raw: string): string | undefined {
  return SYMBOL.test(normalizeSymbol(raw))
    ? undefined
    : `must be a ticker symbol such as AAPL or BRK.B (1..20 letters, digits or . - = ^ _), got ${shown(raw)}`;
}

/** A list of symbols: at most `max`, each by the symbol rule. */
export function symbolListProblem(symbols: readonly string[], max: number): RuleProblem | undefined {
  const size = listSizeProblem(symbols.length, max, 0);
  if (size) return { at: '', message: size };
  for (let i = 0; i < symbols.length; i++) {
    const problem = symbolProblem(symbols[i]!);
    if (problem) return { at: `[${i}]`, message: problem };
  }
  return undefined;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * True for a real calendar date written YYYY-MM-DD (proleptic Gregorian, as Date reads it). From the digits,
 * not through a Date: a request's 6,400 price points spent 9 % of the event loop building Dates here.
 */
export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

export function isoDateProblem(value: unknown): string | undefined {
  return typeof value === 'string' && isIsoDate(value)
    ? undefined
    : `must be a date as YYYY-MM-DD, got ${shown(value)}`;
}

/** Above any quoted instrument; keeps every derived figure (means, intervals) finite. */
export const MAX_PRICE = 1e12;

/** A price: finite, > 0, at most MAX_PRICE. */
export function priceProblem(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_PRICE
    ? undefined
    : `must be a positive price up to ${MAX_PRICE.toExponential()}, got ${shown(value)}`;
}

/** A price that may be absent (null or undefined). */
export function optionalPriceProblem(value: unknown): string | undefined {
  return value == null ? undefined : priceProblem(value);
}

export function highLowProblem(high: number | null | undefined, low: number | null | undefined): string | undefined {
  return high != null && low != null && high < low ? `must be >= low (${low}), got ${high}` : undefined;
}

export function volumeProblem(value: unknown): string | undefined {
  return value == null || (typeof value === 'number' && Number.isFinite(value) && value >= 0)
    ? undefined
    : `must be >= 0, got ${shown(value)}`;
}

/** One daily price, as the API, the store and the importer take it. */
export interface PriceRowLike {
  readonly date: string;
  readonly close: number;
  readonly open?: number | null;
  readonly high?: number | null;
  readonly low?: number | null;
  readonly volume?: number | null;
}

/** The first problem of one price row, in field order: date, close, open, high, low, high >= low, volume. */
export function priceRowProblem(row: PriceRowLike): RuleProblem | undefined {
  const date = isoDateProblem(row.date);
  if (date) return { at: '.date', message: date };
  for (const key of ['close', 'open', 'high', 'low'] as const) {
    const problem = key === 'close' ? priceProblem(row.close) : optionalPriceProblem(row[key]);
    if (problem) return { at: `.${key}`, message: problem };
  }
  const highLow = highLowProblem(row.high, row.low);
  if (highLow) return { at: '.high', message: highLow };
  const volume = volumeProblem(row.volume);
  return volume ? { at: '.volume', message: volume } : undefined;
}

/** A row's date after the previous row's (dates strictly increasing); rows without a real date are another rule's. */
export function dateOrderProblem(date: string, previous: string | undefined): string | undefined {
  return previous !== undefined && date <= previous
    ? `must be after ${previous} (dates strictly increasing), got ${date}`
    : undefined;
}

/**
 * The first problem of a price series: each row by the price-row rule, each date after the previous row's.
 * First only, in one pass, as the importer reads a file: a 10,000-row series with one bad row costs one pass.
 */
export function seriesProblem(series: readonly PriceRowLike[]): RuleProblem | undefined {
  for (let i = 0; i < series.length; i++) {
    const row = series[i]!;
    const problem = priceRowProblem(row);
    if (problem) return { at: `[${i}]${problem.at}`, message: problem.message };
    const order = i > 0 ? dateOrderProblem(row.date, series[i - 1]!.date) : undefined;
    if (order) return { at: `[${i}].date`, message: order };
  }
  return undefined;
}

/** Interval levels: 1..max of them, each strictly between 0 and 1. */
export function levelsProblem(levels: readonly number[], max: number): RuleProblem | undefined {
  const size = listSizeProblem(levels.length, max);
  if (size) return { at: '', message: size };
  const i = levels.findIndex((l) => !(l > 0 && l < 1));
  return i < 0 ? undefined : { at: `[${i}]`, message: `must be in (0, 1), got ${levels[i]}` };
}
