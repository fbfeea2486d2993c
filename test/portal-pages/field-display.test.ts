import { expect } from 'chai';
import { clipped, coerceFieldValue, longerThan } from '../../plugin/access/field-input.js';
import { safeFileName } from '../../plugin/access/upload-checks.js';
import { formatCount, formatDate, formatDateTime, showValue, type DisplayOptions } from '../../plugin/i18n/field-values.js';
import { formattingLocale } from '../../plugin/i18n/request-language.js';

const options = (language: 'en' | 'it', timeZone = 'Europe/Rome', locale: string = language): DisplayOptions => ({
  language,
  locale,
  timeZone,
  yes: 'Yes',
  no: 'No',
  recordHref: (module, id) => `/portal/m/${module}/${id}`,
  opens: () => true,
});

describe('portal pages: field display', () => {
  it('formats dates, datetimes and numbers in the page language and the CRM time zone, the same on every call', () => {
    for (let i = 0; i < 2; i += 1) {
      expect(formatDate('2026-03-01', 'en')).to.equal('Mar 1, 2026');
      expect(formatDate('2026-03-01', 'it')).to.equal('1 mar 2026');
      // 23:30 UTC is already the next day in Rome (UTC+1 in winter).
      expect(formatDateTime('2026-01-31T23:30:00.000Z', 'en', 'Europe/Rome')).to.match(/^Feb 1, 2026, 12:30\sAM$/);
      expect(formatDateTime('2026-01-31T23:30:00.000Z', 'en', 'UTC')).to.match(/^Jan 31, 2026, 11:30\sPM$/);
      expect(showValue({ name: 'n', type: 'integer' }, 1234567, null, options('en')).text).to.equal('1,234,567');
      expect(showValue({ name: 'n', type: 'integer' }, 1234567, null, options('it')).text).to.equal('1.234.567');
      // Italian amounts group thousands from four digits too (CLDR's Italian data would print 1234,50).
      expect(showValue({ name: 'amount', type: 'currency' }, 1234.5, null, options('it')).text).to.equal('1.234,50');
      expect(showValue({ name: 'amount', type: 'currency' }, 12345.5, null, options('it')).text).to.equal('12.345,50');
      expect(showValue({ name: 'n', type: 'integer' }, 3800, null, options('it')).text).to.equal('3.800');
      expect(showValue({ name: 'ratio', type: 'decimal' }, 1234.25, null, options('it')).text).to.equal('1.234,25');
      expect(showValue({ name: 'amount', type: 'currency' }, 1234.5, null, options('en')).text).to.equal('1,234.50');
      expect(showValue({ name: 'ratio', type: 'decimal' }, 0.1234567, null, options('en')).text).to.equal('0.123457');
    }
  });

  it('writes dates in the region the browser names for the page’s language, else in the language’s own way', () => {
    expect(formattingLocale('en-GB,en;q=0.9', 'en')).to.equal('en-GB');
    expect(formattingLocale('en-us', 'en')).to.equal('en-US');
    // A customer who reads English on a Swiss-Italian browser: the English region it names further down.
    expect(formattingLocale('it-CH,it;q=0.9,en-GB;q=0.8', 'en')).to.equal('en-GB');
    expect(formattingLocale('it-CH,it;q=0.9,en-GB;q=0.8', 'it')).to.equal('it-CH');
    expect(formattingLocale('en;q=0.9,en-AU;q=0.8', 'en')).to.equal('en-AU');
    expect(formattingLocale('es-419', 'es')).to.equal('es-419');
    // No region of the page's language, a header that is not one, or none at all: the language itself.
    expect(formattingLocale('it-CH,it;q=0.9', 'en')).to.equal('en');
    expect(formattingLocale('en-GB;q=0', 'en')).to.equal('en');
    expect(formattingLocale('en-"GB', 'en')).to.equal('en');
    expect(formattingLocale(undefined, 'it')).to.equal('it');

    const day = { name: 'd', type: 'date' } as const;
    const at = { name: 'at', type: 'datetime' } as const;
    expect(showValue(day, '2026-12-06', null, options('en', 'Europe/Rome', 'en-GB')).text).to.equal('6 Dec 2026');
    expect(showValue(day, '2026-12-06', null, options('en', 'Europe/Rome', 'en-US')).text).to.equal('Dec 6, 2026');
    expect(showValue(at, '2026-12-06T10:00:00.000Z', null, options('en', 'Europe/Rome', 'en-GB')).text).to.equal('6 Dec 2026, 11:00');
    expect(showValue(at, '2026-12-06T10:00:00.000Z', null, options('it', 'Europe/Rome', 'it-CH')).text).to.equal('6 dic 2026, 11:00');
    // The same formatter kind, two regions one after the other: each keeps its own (the cache is per locale).
    expect(formatDate('2026-12-06', 'en-GB')).to.equal('6 Dec 2026');
    expect(formatDate('2026-12-06', 'en')).to.equal('Dec 6, 2026');
    // Numbers stay the language's (a region's grouping would not read back in the list's search boxes).
    expect(showValue({ name: 'n', type: 'integer' }, 1234567, null, options('it', 'Europe/Rome', 'it-CH')).text).to.equal('1.234.567');
  });

  it('writes counts and positions (list and comment summaries, limits) as numbers of the page language', () => {
    expect(formatCount(500_000, 'it')).to.equal('500.000');
    expect(formatCount(500_000, 'en')).to.equal('500,000');
    expect(formatCount(1_000, 'it')).to.equal('1.000');
    expect(formatCount(7, 'it')).to.equal('7');
  });

  it('reads a datetime without a UTC offset as UTC, whatever the server’s own time zone', () => {
    const before = process.env.TZ;
    try {
      process.env.TZ = 'America/New_York';
      const field = { name: 'visited_at', label: { en: 'Visited at' }, type: 'datetime', mandatory: false } as const;
      // What a datetime-local input sends when its value has seconds, and what an API client may send.
      expect(coerceFieldValue(field, '2026-03-01T10:00:30')).to.deep.equal({ ok: true, value: '2026-03-01T10:00:30.000Z' });
      expect(coerceFieldValue(field, '2026-03-01T10:00')).to.deep.equal({ ok: true, value: '2026-03-01T10:00:00.000Z' });
      expect(coerceFieldValue(field, '2026-03-01T10:00:00+01:00')).to.deep.equal({ ok: true, value: '2026-03-01T09:00:00.000Z' });
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('refuses a datetime on a day the calendar lacks, or at an hour past 23, rather than moving it on', () => {
    const field = { name: 'visited_at', label: { en: 'Visited at' }, type: 'datetime', mandatory: false } as const;
    // Date.parse reads 30 February as 2 March, and 24:00 as the next day's midnight.
    for (const text of ['2026-02-30T10:00', '2026-02-29T10:00:00Z', '2026-04-31T10:00:00+02:00', '2026-13-01T10:00', '2026-03-01T24:00', '2026-03-01T10:60', '2026-03-01T10:00:00+25:00', '2026-03-01T10:00:00+01:60', '2026-03-01T10:00:60Z', '2026-03-01T10:00:00.1234Z', '2026-03-01 10:00Z', '2026-03-01T10Z']) {
      expect(coerceFieldValue(field, text), text).to.deep.equal({ ok: false, expected: 'instant' });
    }
    expect(coerceFieldValue(field, '2028-02-29T23:59:59.999Z')).to.deep.equal({ ok: true, value: '2028-02-29T23:59:59.999Z' });
    expect(coerceFieldValue(field, '2026-03-01T00:30:00+01:00')).to.deep.equal({ ok: true, value: '2026-02-28T23:30:00.000Z' });
  });

  it('leaves a value that is not a date as it was typed', () => {
    expect(formatDate('not a date', 'en')).to.equal('not a date');
    expect(formatDateTime('soon', 'it', 'Europe/Rome')).to.equal('soon');
  });
});

describe('text lengths in characters (field-input.ts)', () => {
  it('counts an emoji as one character and never cuts one in half', () => {
    expect(longerThan('🎉'.repeat(20), 20)).to.equal(false);
    expect(longerThan('🎉'.repeat(21), 20)).to.equal(true);
    expect(longerThan('a'.repeat(20), 20)).to.equal(false);
    // An upload title of 199 letters and an emoji, then more: cut after the emoji, not inside it.
    expect(clipped(`${'a'.repeat(199)}😀tail`, 200)).to.equal(`${'a'.repeat(199)}😀`);
    expect(clipped(`${'a'.repeat(199)}😀tail`, 200)).not.to.include('\uFFFD');
    expect(clipped('è'.repeat(220), 200)).to.equal('è'.repeat(200));
    expect(clipped('short', 200)).to.equal('short');
    // A file name of 154 characters (304 UTF-16 units) is within the 200-character limit.
    expect(safeFileName(`${'😀'.repeat(150)}.pdf`)).to.equal(`${'😀'.repeat(150)}.pdf`);
    expect(safeFileName(`${'😀'.repeat(197)}.pdf`)).to.equal(null);
  });
});
