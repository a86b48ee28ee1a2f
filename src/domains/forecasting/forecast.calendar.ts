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

// The date rule is shared with the API's inputs and the importer.
export { isIsoDate } from '../market-rules.js';

export type SeriesFrequency = 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'annual' | 'irregular';

const DAY_MS = 86_400_000;

/**
 * The sampling frequency of a date series, read from the median gap in calendar days between its
 * latest (up to 500) consecutive dates: robust to holidays, weekends and a few missing rows.
 * @example inferFrequency(['2026-01-30', '2026-02-27', '2026-03-31']) // { frequency: 'monthly', medianGapDays: 30 }
 */
export function inferFrequency(dates: readonly string[]): { frequency: SeriesFrequency; medianGapDays: number } {
  const recent = dates.slice(-501).map((d) => Date.parse(`${d}T00:00:00Z`));
  const gaps = recent
    .slice(1)
    .map((t, i) => Math.round((t - recent[i]!) / DAY_MS))
    .sort((a, b) => a - b);
  if (gaps.length === 0) return { frequency: 'irregular', medianGapDays: 0 };
  const mid = gaps.length >> 1;
  const median = gaps.length % 2 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
  const frequency: SeriesFrequency =
    median <= 4
      ? 'daily'
      : median >= 5 && median <= 10
        ? 'weekly'
        : median >= 25 && median <= 35
          ? 'monthly'
          : median >= 80 && median <= 100
            ? 'quarterly'
            : median >= 350 && median <= 380
              ? 'annual'
              : 'irregular';
  return { frequency, medianGapDays: median };
}
