import type { PricePointInput } from '../generated/graphql.js';

/** Weekday dates ending on Friday 2021-12-31, one per close, oldest first. */
export function weekdaySeries(closes: readonly number[]): PricePointInput[] {
  const dates: string[] = [];
  const d = new Date('2021-12-31T00:00:00Z');
  while (dates.length < closes.length) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) dates.unshift(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() - 1);
  }
  return closes.map((close, i) => ({ date: dates[i]!, close }));
}
