/**
 * The next `count` weekdays after an ISO date (YYYY-MM-DD); no holiday calendar.
 * @example nextBusinessDays('2026-11-20', 2) // ['2026-11-23', '2026-11-24'] (20th is a Friday)
 */
export function nextBusinessDays(lastDate: string, count: number): string[] {
  const out: string[] = [];
  const d = new Date(`${lastDate}T00:00:00Z`);
  while (out.length < count) {
    d.setUTCDate(d.getUTCDate() + 1);
    const day = d.getUTCDay();
    if (day !== 0 && day !== 6) out.push(d.toISOString().slice(0, 10));
  }
  return out;
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

export type SeriesFrequency = 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'annual' | 'irregular';

const DAY_MS = 86_400_000;

/**
 * The sampling frequency of a date series, read from the median gap in calendar days between its
 * latest (up to 500) consecutive dates: robust to holidays, weekends and a few missing rows.
 * @example inferFrequency(['2026-01-30', '2026-02-27', '2026-03-31']) // { frequency: 'monthly', medianGapDays: 30 }
 */
export function inferFrequency(dates: readonly string[]): { frequency: SeriesFrequency; medianGapDays: number } {
  const recent = dates.slice(-501).map((d) => Date.parse(`${d}T00:00:00Z`));
  const gaps = recent.slice(1).map((t, i) => Math.round((t - recent[i]!) / DAY_MS)).sort((a, b) => a - b);
  if (gaps.length === 0) return { frequency: 'irregular', medianGapDays: 0 };
  const mid = gaps.length >> 1;
  const median = gaps.length % 2 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
  const frequency: SeriesFrequency = median <= 4 ? 'daily' : median >= 5 && median <= 10 ? 'weekly'
    : median >= 25 && median <= 35 ? 'monthly' : median >= 80 && median <= 100 ? 'quarterly'
      : median >= 350 && median <= 380 ? 'annual' : 'irregular';
  return { frequency, medianGapDays: median };
}
