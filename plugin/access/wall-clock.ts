/**
 * The CRM's wall clock: the one conversion between a stored instant (ISO 8601, any offset) and
 * the date and time a clock on the wall reads in the CRM's time zone (`HostRegional.timeZone()`),
 * whatever the server's own zone. A record page shows a datetime with `Intl` in that zone; a
 * form's `datetime-local` box holds `wallClockOf` of it, and what is typed there is read back with
 * `instantOf`. Days (support periods, a searched day) begin at `startOfDayIn`, built on `zoneOffset`.
 *
 * A change of clocks makes some wall times twice and some never. Decisions (README):
 * - a time the clocks skip (02:30 on the last Sunday of March in Rome) is no time there: refused;
 * - a time the clocks repeat (02:30 on the last Sunday of October) is the first, the one before
 *   the clocks go back (summer time), as JavaScript's `Date`, Temporal and java.time read it.
 */

/** One formatter per time zone (wall-clock parts of an instant); building one costs more than using it. */
const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** `Date.UTC`, except that years 0–99 are those years (`Date.UTC` reads them as 1900–1999). */
export function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): number {
  const date = new Date(Date.UTC(2000, 0, 1, hour, minute, second, millisecond));
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
}

/** The wall clock of `timeZone` at `instant`, to the second, as if it were UTC (milliseconds since the epoch). */
function wallAt(instant: number, timeZone: string): number {
  let format = clockFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', era: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    if (clockFormats.size < 100) clockFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  const number = (type: string) => Number(parts[type]);
  // Year 0 is 1 BC on the calendar the formatter writes.
  const year = parts.era === 'BC' ? 1 - number('year') : number('year');
  return utc(year, number('month'), number('day'), number('hour'), number('minute'), number('second'));
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in milliseconds. */
export function zoneOffset(instant: number, timeZone: string): number {
  return wallAt(instant, timeZone) - (instant - (((instant % 1000) + 1000) % 1000));
}

/** The instant a day begins in `timeZone` (its midnight; the first instant of the day where a change of clocks skips midnight). */
export function startOfDayIn(day: string, timeZone: string): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const midnightUtc = utc(y, m, d);
  let instant = midnightUtc - zoneOffset(midnightUtc, timeZone);
  // Once more with the offset in force at that instant (the day a clock change happens).
  instant = midnightUtc - zoneOffset(instant, timeZone);
  // West of UTC, a zone whose clocks skip from 00:00 to 01:00 (Santiago, Havana, Asunción) leaves
  // the instant above an hour early, at 23:00 of the day before: the day begins where the clocks
  // jump, the first second whose wall clock reads this day (found by halving; only on such days).
  if (wallAt(instant, timeZone) < midnightUtc) {
    let [before, after] = [instant, instant + 24 * HOUR];
    while (after - before > 1000) {
      const middle = before + Math.floor((after - before) / 2000) * 1000;
      if (wallAt(middle, timeZone) < midnightUtc) before = middle;
      else after = middle;
    }
    instant = after;
  }
  return new Date(instant);
}

/** The day after `day` (`YYYY-MM-DD`; after 9999-12-31 it is `10000-01-01`, which `startOfDayIn` reads too). */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const next = new Date(utc(y, m, d + 1));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(next.getUTCFullYear()).padStart(4, '0')}-${two(next.getUTCMonth() + 1)}-${two(next.getUTCDate())}`;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const HOUR = 3_600_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A wall time written as a `datetime-local` box sends it, as milliseconds since the epoch as if UTC; null for no such time. */
export function wallTime(text: string): number | null {
  const match = LOCAL.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? 0)) as [number, number, number, number, number, number];
  const millisecond = Number((match[7] ?? '').padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const wall = utc(year, month, day, hour, minute, second, millisecond);
  const date = new Date(wall);
  // 30 February is no day (Date.UTC would make it 2 March).
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? wall : null;
}

export type InstantOf = { readonly ok: true; readonly instant: string } | { readonly ok: false; readonly reason: 'invalid' | 'nonexistent' };

/**
 * Every instant a wall time (`YYYY-MM-DDTHH:MM[:SS[.mmm]]`, no offset) names in `timeZone`, as
 * milliseconds since the epoch, earliest first: none for a time the clocks skip there, two for one
 * they repeat. Null for what is no wall time.
 */
export function instantsOf(text: string, timeZone: string): number[] | null {
  const wall = wallTime(text);
  if (wall === null) return null;
  // The offsets in force around that wall time: a change of clocks within a day either side is
  // among them (zones change their clocks at most once in two days).
  const offsets = new Set([zoneOffset(wall - 24 * HOUR, timeZone), zoneOffset(wall, timeZone), zoneOffset(wall + 24 * HOUR, timeZone)]);
  return [...offsets].map((offset) => wall - offset).filter((instant) => wallAt(instant, timeZone) === wall - (((wall % 1000) + 1000) % 1000)).sort((a, b) => a - b);
}

/**
 * The instant a wall time (`YYYY-MM-DDTHH:MM[:SS[.mmm]]`, no offset) names in `timeZone`: ISO 8601
 * in UTC; `nonexistent` for a time the clocks skip there, the first of two for one they repeat.
 */
export function instantOf(text: string, timeZone: string): InstantOf {
  const instants = instantsOf(text, timeZone);
  if (instants === null) return { ok: false, reason: 'invalid' };
  if (instants.length === 0) return { ok: false, reason: 'nonexistent' };
  return { ok: true, instant: new Date(instants[0]!).toISOString() };
}

/**
 * A stored instant as a `datetime-local` box holds it in `timeZone`: `YYYY-MM-DDTHH:MM`, with `:SS`
 * when it has seconds (milliseconds are not shown: a form saved unchanged keeps them, see
 * `RecordPages`). Null for what is not a date-time with an offset.
 */
export function wallClockOf(value: string, timeZone: string): string | null {
  if (!INSTANT.test(value)) return null;
  const instant = Date.parse(value);
  if (Number.isNaN(instant)) return null;
  const wall = new Date(wallAt(instant, timeZone));
  const year = wall.getUTCFullYear();
  if (year < 1 || year > 9999) return null;
  const iso = wall.toISOString();
  return iso.slice(17, 19) === '00' ? iso.slice(0, 16) : iso.slice(0, 19);
}

/**
 * A stored instant on `timeZone`'s clock with the offset then in force (`2026-10-25T02:30+02:00`,
 * `2026-10-25T02:30+01:00` an hour later): what an editor shows so that the value saved unchanged
 * names the same instant, the repeated hour's second time too. Null where that text would not
 * (milliseconds, an offset of seconds of a zone's old local mean time) or `wallClockOf` gives none.
 */
export function wallClockWithOffset(value: string, timeZone: string): string | null {
  const wall = wallClockOf(value, timeZone);
  const instant = Date.parse(value);
  if (wall === null || instant % 1000 !== 0) return null;
  const offset = zoneOffset(instant, timeZone);
  if (offset % 60_000 !== 0) return null;
  const minutes = Math.abs(offset / 60_000);
  return `${wall}${offset < 0 ? '-' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const OFFSET = /(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * A date and time split from the UTC offset written at its end (`Z`, `+02:00`): the text before it
 * and the offset in minutes, null when none is written. Null for an offset that is none (`+24:00`).
 */
export function splitOffset(text: string): { readonly local: string; readonly offsetMinutes: number | null } | null {
  const offset = OFFSET.exec(text);
  if (!offset) return { local: text, offsetMinutes: null };
  const [hours, minutes] = [Number(offset[2] ?? 0), Number(offset[3] ?? 0)];
  if (hours > 23 || minutes > 59) return null;
  return { local: text.slice(0, offset.index), offsetMinutes: (offset[1] === '-' ? -1 : 1) * (hours * 60 + minutes) };
}

/** A stretch of time, `from` included, `to` not: ISO 8601 in UTC. */
export interface TimeSpan {
  readonly from: string;
  readonly to: string;
}

/**
 * The stretches of time a day or a date and time searched for stands for, as precisely as it is
 * written: a day (`2026-10-25`), every time of it in `timeZone` (23 or 25 hours on a night the
 * clocks change); to the minute, the whole minute (a list shows minutes, and a value may have
 * seconds); to the second, that second; with milliseconds, that millisecond. A time with an offset
 * (or `Z`) is that time; one without, a wall clock of `timeZone` when `wallClock` (both times of
 * one its clocks repeat, none of one they skip: nothing has that time), else null (an offset is
 * required). Null for what is no day or date and time.
 */
export function searchedSpans(text: string, timeZone: string, { wallClock }: { readonly wallClock: boolean }): TimeSpan[] | null {
  if (DAY.test(text) && wallTime(`${text}T00:00`) !== null) {
    return [{ from: startOfDayIn(text, timeZone).toISOString(), to: startOfDayIn(nextDay(text), timeZone).toISOString() }];
  }
  const written = splitOffset(text);
  if (written === null) return null;
  const { local, offsetMinutes } = written;
  const match = LOCAL.exec(local);
  const wall = wallTime(local);
  if (!match || wall === null) return null;
  const length = match[7] !== undefined ? 1 : match[6] !== undefined ? 1000 : 60_000;
  let instants: number[] | null;
  if (offsetMinutes !== null) instants = [wall - offsetMinutes * 60_000];
  else instants = wallClock ? instantsOf(local, timeZone) : null;
  if (instants === null) return null;
  return instants.map((instant) => ({ from: new Date(instant).toISOString(), to: new Date(instant + length).toISOString() }));
}
