/**
 * The one conversion between a stored instant and the CRM's wall clock (`plugin/access/wall-clock.ts`):
 * what a record page shows, what a form's `datetime-local` box holds and how what is typed there
 * is read. The edges of a change of clocks in Rome, zones far from UTC, and the server's own zone
 * having no say.
 */
import { expect } from 'chai';
import { instantOf, searchedSpans, wallClockOf, wallClockWithOffset } from '../../plugin/access/wall-clock.js';
import { formatDateTime } from '../../plugin/i18n/field-values.js';
import { formControl } from '../../plugin/portal/pages/field-display.js';

const ROME = 'Europe/Rome';

describe('the CRM’s wall clock (wall-clock.ts)', () => {
  let before: string | undefined;
  beforeEach(() => {
    before = process.env.TZ;
    // The server's own zone is neither the CRM's nor UTC: it must not matter.
    process.env.TZ = 'America/New_York';
  });
  afterEach(() => {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  });

  it('reads a wall-clock time in the CRM’s zone, winter and summer, and back', () => {
    expect(instantOf('2026-03-01T10:00', ROME)).to.deep.equal({ ok: true, instant: '2026-03-01T09:00:00.000Z' });
    expect(instantOf('2026-07-01T10:00', ROME)).to.deep.equal({ ok: true, instant: '2026-07-01T08:00:00.000Z' });
    expect(instantOf('2026-03-01T10:00:30', ROME)).to.deep.equal({ ok: true, instant: '2026-03-01T09:00:30.000Z' });
    expect(instantOf('2026-03-01T10:00:30.250', ROME)).to.deep.equal({ ok: true, instant: '2026-03-01T09:00:30.250Z' });
    // 23:30 UTC on 31 January is already 1 February in Rome.
    expect(wallClockOf('2026-01-31T23:30:00.000Z', ROME)).to.equal('2026-02-01T00:30');
    expect(wallClockOf('2026-07-01T08:00:00.000Z', ROME)).to.equal('2026-07-01T10:00');
    // Seconds are shown when there are some; an offset other than Z is the same instant.
    expect(wallClockOf('2026-03-01T09:00:30.000Z', ROME)).to.equal('2026-03-01T10:00:30');
    expect(wallClockOf('2026-03-01T10:00:00+01:00', ROME)).to.equal('2026-03-01T10:00');
    expect(wallClockOf('not a time', ROME)).to.equal(null);
  });

  it('refuses the 02:30 that does not exist on the last Sunday of March in Rome (the clocks skip from 02:00 to 03:00)', () => {
    for (const local of ['2026-03-29T02:00', '2026-03-29T02:30', '2026-03-29T02:59:59']) expect(instantOf(local, ROME), local).to.deep.equal({ ok: false, reason: 'nonexistent' });
    expect(instantOf('2026-03-29T01:59', ROME)).to.deep.equal({ ok: true, instant: '2026-03-29T00:59:00.000Z' });
    expect(instantOf('2026-03-29T03:00', ROME)).to.deep.equal({ ok: true, instant: '2026-03-29T01:00:00.000Z' });
  });

  it('reads the 02:30 that happens twice on the last Sunday of October in Rome as the first one (summer time)', () => {
    expect(instantOf('2026-10-25T02:30', ROME)).to.deep.equal({ ok: true, instant: '2026-10-25T00:30:00.000Z' });
    // Both instants read 02:30 on the wall.
    expect(wallClockOf('2026-10-25T00:30:00.000Z', ROME)).to.equal('2026-10-25T02:30');
    expect(wallClockOf('2026-10-25T01:30:00.000Z', ROME)).to.equal('2026-10-25T02:30');
    expect(instantOf('2026-10-25T01:59', ROME)).to.deep.equal({ ok: true, instant: '2026-10-24T23:59:00.000Z' });
    expect(instantOf('2026-10-25T03:00', ROME)).to.deep.equal({ ok: true, instant: '2026-10-25T02:00:00.000Z' });
    // With the offset in force (what a rule's editor shows), the two read apart and name their own instant.
    expect(wallClockWithOffset('2026-10-25T00:30:00.000Z', ROME)).to.equal('2026-10-25T02:30+02:00');
    expect(wallClockWithOffset('2026-10-25T01:30:00.000Z', ROME)).to.equal('2026-10-25T02:30+01:00');
    expect(new Date('2026-10-25T02:30+01:00').toISOString()).to.equal('2026-10-25T01:30:00.000Z');
    expect(wallClockWithOffset('2026-03-01T20:00:00.000Z', 'Pacific/Honolulu')).to.equal('2026-03-01T10:00-10:00');
    // Where that text would name another instant, none: milliseconds, and a local mean time's seconds (Rome, 1890: +00:49:56).
    expect(wallClockWithOffset('2026-10-25T00:30:00.250Z', ROME)).to.equal(null);
    expect(wallClockWithOffset('1890-01-01T12:00:00.000Z', ROME)).to.equal(null);
  });

  it('works in zones far from UTC and near the ends of the calendar', () => {
    expect(instantOf('2026-03-01T10:00', 'Pacific/Honolulu')).to.deep.equal({ ok: true, instant: '2026-03-01T20:00:00.000Z' });
    expect(instantOf('2026-03-01T10:00', 'Pacific/Kiritimati')).to.deep.equal({ ok: true, instant: '2026-02-28T20:00:00.000Z' });
    expect(wallClockOf('2026-02-28T20:00:00.000Z', 'Pacific/Kiritimati')).to.equal('2026-03-01T10:00');
    expect(instantOf('2026-03-01T10:00', 'UTC')).to.deep.equal({ ok: true, instant: '2026-03-01T10:00:00.000Z' });
    expect(instantOf('0050-06-01T10:00', 'UTC')).to.deep.equal({ ok: true, instant: '0050-06-01T10:00:00.000Z' });
    expect(wallClockOf('0050-06-01T10:00:00.000Z', 'UTC')).to.equal('0050-06-01T10:00');
    expect(instantOf('9999-12-31T23:59', 'UTC')).to.deep.equal({ ok: true, instant: '9999-12-31T23:59:00.000Z' });
    // Samoa skipped 30 December 2011 whole; Lord Howe moves its clocks by half an hour.
    expect(instantOf('2011-12-30T12:00', 'Pacific/Apia')).to.deep.equal({ ok: false, reason: 'nonexistent' });
    expect(instantOf('2011-12-31T12:00', 'Pacific/Apia')).to.deep.equal({ ok: true, instant: '2011-12-30T22:00:00.000Z' });
    expect(instantOf('2026-10-04T02:15', 'Australia/Lord_Howe')).to.deep.equal({ ok: false, reason: 'nonexistent' });
    expect(instantOf('2026-04-05T01:45', 'Australia/Lord_Howe')).to.deep.equal({ ok: true, instant: '2026-04-04T14:45:00.000Z' });
  });

  it('begins a day where the clocks skip its midnight at the change, in zones east and west of UTC', () => {
    // Santiago (UTC-4 → UTC-3), Havana (UTC-5 → UTC-4) and Asunción skip from 00:00 to 01:00: the day
    // begins at 01:00 after the change, not at the instant that was 23:00 of the day before.
    expect(searchedSpans('2026-09-06', 'America/Santiago', { wallClock: false })).to.deep.equal([{ from: '2026-09-06T04:00:00.000Z', to: '2026-09-07T03:00:00.000Z' }]);
    expect(searchedSpans('2026-09-05', 'America/Santiago', { wallClock: false })).to.deep.equal([{ from: '2026-09-05T04:00:00.000Z', to: '2026-09-06T04:00:00.000Z' }]);
    expect(searchedSpans('2026-03-08', 'America/Havana', { wallClock: false })).to.deep.equal([{ from: '2026-03-08T05:00:00.000Z', to: '2026-03-09T04:00:00.000Z' }]);
    expect(searchedSpans('2024-10-06', 'America/Asuncion', { wallClock: false })).to.deep.equal([{ from: '2024-10-06T04:00:00.000Z', to: '2024-10-07T03:00:00.000Z' }]);
    // Cairo and Beirut (east of UTC) skip their midnight too; the day begins at 01:00.
    expect(searchedSpans('2026-04-24', 'Africa/Cairo', { wallClock: false })).to.deep.equal([{ from: '2026-04-23T22:00:00.000Z', to: '2026-04-24T21:00:00.000Z' }]);
    expect(searchedSpans('2026-03-29', 'Asia/Beirut', { wallClock: false })).to.deep.equal([{ from: '2026-03-28T22:00:00.000Z', to: '2026-03-29T21:00:00.000Z' }]);
    // Santiago going back (00:00 → 23:00 of the day before): 5 April begins at its one midnight, after the repeated hour.
    expect(searchedSpans('2026-04-05', 'America/Santiago', { wallClock: false })).to.deep.equal([{ from: '2026-04-05T04:00:00.000Z', to: '2026-04-06T04:00:00.000Z' }]);
    // Rome's 23- and 25-hour days.
    expect(searchedSpans('2026-03-29', ROME, { wallClock: false })).to.deep.equal([{ from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z' }]);
    expect(searchedSpans('2026-10-25', ROME, { wallClock: false })).to.deep.equal([{ from: '2026-10-24T22:00:00.000Z', to: '2026-10-25T23:00:00.000Z' }]);
  });

  it('refuses what is no time of any calendar', () => {
    for (const local of ['2026-02-30T10:00', '2026-03-01T24:00', '2026-03-01T10:60', '2026-03-01T10:00:60', '2026-03-01 10:00', '2026-03-01T10:00Z', 'soon', '']) {
      expect(instantOf(local, ROME), local).to.deep.equal({ ok: false, reason: 'invalid' });
    }
  });

  it('fills a datetime-local box with the time the record page shows (the CRM’s zone), seconds included', () => {
    const field = { name: 'visited_at', label: 'Visited at', type: 'datetime', mandatory: false, access: 'readwrite' } as const;
    const control = (value: string) => formControl(field as never, value, { text: '', empty: true }, undefined, undefined, ROME);
    expect(formatDateTime('2026-03-01T09:00:00.000Z', 'en', ROME)).to.match(/^Mar 1, 2026, 10:00\sAM$/);
    expect(control('2026-03-01T09:00:00.000Z')).to.include({ inputType: 'datetime-local', value: '2026-03-01T10:00' });
    expect(control('2026-03-01T09:00:30.000Z')).to.include({ value: '2026-03-01T10:00:30', step: '1' });
    // What was typed and is shown again (a refused save) stays as typed.
    expect(control('2026-03-29T02:30')).to.include({ value: '2026-03-29T02:30' });
  });
});
