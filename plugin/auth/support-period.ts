/**
 * Support periods are calendar days in the CRM's time zone (`HostRegional.timeZone()`), both
 * ends inclusive: a contact whose support ends on 2026-03-31 may sign in until midnight of that
 * day in Rome, whatever the server's own zone.
 */

/** `YYYY-MM-DD`. */
export type DateOnly = string;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** One formatter per time zone: building an Intl.DateTimeFormat costs more than a page's SQL (every portal request checks the day). */
const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** The last answer per time zone, with the minute (since the epoch) it is for. */
const lastDay = new Map<string, { readonly minute: number; readonly day: DateOnly }>();

/** Today in `timeZone` as `YYYY-MM-DD`. */
export function todayIn(timeZone: string, now: Date = new Date()): DateOnly {
  // Every signed-in request asks; days change on minute boundaries in every time zone, so the
  // answer for this zone and minute is kept (formatToParts costs more than the rest of the check).
  const minute = Math.floor(now.getTime() / 60_000);
  const last = lastDay.get(timeZone);
  if (last && last.minute === minute) return last.day;
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    if (dayFormats.size < 100) dayFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  const day = `${part('year')}-${part('month')}-${part('day')}`;
  if (dayFormats.has(timeZone)) lastDay.set(timeZone, { minute, day });
  return day;
}

/** The same day `years` later (29 February becomes 1 March in a common year). */
export function addYears(day: DateOnly, years: number): DateOnly {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y + years, m - 1, d)).toISOString().slice(0, 10);
}

/** A DATEONLY column as read back from any dialect (a string, or a Date at UTC midnight), or null. */
export function toDateOnly(value: unknown): DateOnly | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  const text = String(value).slice(0, 10);
  return DATE_ONLY.test(text) ? text : null;
}

/** Whether `today` lies in [start, end]; a missing end leaves that side open. */
export function withinSupport(today: DateOnly, start: DateOnly | null, end: DateOnly | null): boolean {
  return (start === null || start <= today) && (end === null || today <= end);
}

