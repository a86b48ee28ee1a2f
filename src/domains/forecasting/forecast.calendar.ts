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

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(s: string): boolean {
  if (!ISO_DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
