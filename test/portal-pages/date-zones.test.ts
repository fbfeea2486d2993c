/**
 * A date is a day, never an instant: whatever the server's zone (here UTC-10, Honolulu) and the
 * CRM's (UTC+13, Tonga), a date a customer types is the day stored, shown, put in the edit box,
 * kept by a form saved unchanged, found by a column search and sent by the API and the CSV export,
 * on every database the host runs on (their drivers read DATE columns in the process's zone).
 */
import { expect } from 'chai';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { inProcessZone } from '../support/process-zone.js';
import { boxValue, JANE, signedIn, visitsModule } from './portal-pages-kit.js';

describe('portal pages: dates never move a day, in any pair of zones @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let janeId: number;
  inProcessZone('Pacific/Honolulu');

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', timeZone: 'Pacific/Tongatapu' });
    janeId = await visitsModule(test);
    jane = await signedIn(test, JANE);
  });
  after(async () => {
    await test?.stop();
  });

  const stored = async (id: number) => (await test.host.api.records.get('Visits', id))!;

  it('keeps a typed day through the form, the page, an unchanged save, a search, the API and the export', async () => {
    expect(new Date(2026, 2, 1).getTimezoneOffset(), 'the process runs in UTC-10').to.equal(600);
    const form = await jane.get('/m/Visits/new');
    // 23:30 in Tonga on the last day of February is still 28 February in Honolulu, 10:30 UTC.
    const created = await jane.post('/m/Visits/new', { _csrf: tokenIn(form.html), visit_no: 'V-day', visit_day: '2026-03-01', visited_at: '2026-02-28T23:30' });
    expect(created.response.status, created.html.slice(0, 300)).to.equal(303);
    const id = Number(/\/m\/Visits\/(\d+)/.exec(created.response.headers.get('location')!)![1]);
    expect((await stored(id)).values).to.include({ visit_day: '2026-03-01', visited_at: '2026-02-28T10:30:00.000Z' });

    const page = await jane.get(`/m/Visits/${id}`);
    expect(page.html).to.match(/data-field="visit_day">\s*<dt>Visit day<\/dt>\s*<dd>Mar 1, 2026<\/dd>/);
    expect(page.html).to.match(/data-field="visited_at">\s*<dt>Visited at<\/dt>\s*<dd>Feb 28, 2026, 11:30\sPM<\/dd>/);

    const edit = await jane.get(`/m/Visits/${id}/edit`);
    expect(boxValue(edit.html, 'visit_day')).to.equal('2026-03-01');
    expect(boxValue(edit.html, 'visited_at')).to.equal('2026-02-28T23:30');
    const version = /name="version" value="(\d+)"/.exec(edit.html)![1]!;
    const saved = await jane.post(`/m/Visits/${id}/edit`, { _csrf: tokenIn(edit.html), version, visit_no: 'V-day', visit_day: boxValue(edit.html, 'visit_day')!, visited_at: boxValue(edit.html, 'visited_at')! });
    expect(saved.response.status).to.equal(303);
    expect((await stored(id)).values).to.include({ visit_day: '2026-03-01', visited_at: '2026-02-28T10:30:00.000Z' });

    const search = await jane.get('/m/Visits?f_visit_day=2026-03-01');
    expect(search.html).to.include('>V-day<');
    expect((await jane.get('/m/Visits?f_visit_day=2026-02-28')).html).not.to.include('>V-day<');
    // A datetime column searched by a day: the day in Tonga.
    expect((await jane.get('/m/Visits?f_visited_at=2026-02-28')).html).to.include('>V-day<');

    const api = await fetch(`${test.url}/portal/api/v1/modules/Visits/records/${id}`, { headers: { cookie: jane.cookieHeader() } });
    expect(((await api.json()) as { values: Record<string, unknown> }).values).to.include({ visit_day: '2026-03-01', visited_at: '2026-02-28T10:30:00.000Z' });
    const csv = await jane.get('/m/Visits/export.csv');
    expect(csv.response.status).to.equal(200);
    // The page's export, for the customer's spreadsheet, writes a time on the clock the page shows
    // it by (the CRM's, Tonga): 23:30 on 28 February, as a spreadsheet reads a date and time. It
    // wrote the stored instant in UTC, 10:30 the same day here, and 10:30 of the day before the
    // page's day for a time after midnight.
    const row = csv.html.split('\r\n').find((line) => line.startsWith('V-day,'));
    expect(row, csv.html).to.equal('V-day,2026-02-28 23:30,2026-03-01');
    // The API's export is a file for programs: instants in UTC, as its JSON (README, the JSON API).
    const apiCsv = await (await fetch(`${test.url}/portal/api/v1/modules/Visits/export.csv`, { headers: { cookie: jane.cookieHeader() } })).text();
    expect(apiCsv.split('\r\n').find((line) => line.startsWith('V-day,'))).to.equal('V-day,2026-02-28T10:30:00.000Z,2026-03-01');
  });

  it('keeps the first and last days of the year, and 29 February, through the API and the edit box', async () => {
    for (const day of ['2026-01-01', '2026-12-31', '2028-02-29']) {
      const created = await fetch(`${test.url}/portal/api/v1/modules/Visits/records`, {
        method: 'POST',
        headers: { cookie: jane.cookieHeader(), 'content-type': 'application/json' },
        body: JSON.stringify({ values: { visit_no: `V-${day}`, visit_day: day } }),
      });
      expect(created.status, day).to.equal(201);
      const id = ((await created.json()) as { id: number }).id;
      expect((await stored(id)).values.visit_day, day).to.equal(day);
      expect((await stored(id)).values.contact_id).to.equal(janeId);
      expect(boxValue((await jane.get(`/m/Visits/${id}/edit`)).html, 'visit_day'), day).to.equal(day);
    }
  });
});
