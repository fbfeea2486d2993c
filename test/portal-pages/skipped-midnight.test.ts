/**
 * A day whose midnight the CRM's clocks skip (Santiago, UTC-4 → UTC-3 on 6 September 2026: 00:00
 * becomes 01:00) begins at the change: a list's search by that day finds what the list shows on it,
 * never the last hour of the day before, and that hour is found under its own day. The server runs
 * in Tokyo, neither the CRM's zone nor UTC.
 */
import { expect } from 'chai';
import type { PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { inProcessZone } from '../support/process-zone.js';
import { JANE, recordIdsIn, signedIn, visitsModule } from './portal-pages-kit.js';

describe('portal pages: a day whose midnight the clocks skip, searched by a datetime column @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let janeId: number;
  inProcessZone('Asia/Tokyo');

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', timeZone: 'America/Santiago' });
    janeId = await visitsModule(test);
    jane = await signedIn(test, JANE);
  });
  after(async () => {
    await test?.stop();
  });

  const visit = async (visitNo: string, visitedAt: string) => (await test.host.api.records.create('Visits', { values: { visit_no: visitNo, visited_at: visitedAt, contact_id: janeId } })).id;

  it('finds the last hour before the change under its own day, and the first minute after it under the new one', async () => {
    // 23:30 on 5 September in Santiago (UTC-4), and 01:00 on 6 September (UTC-3), the day's first minute.
    const late = await visit('V-late', '2026-09-06T03:30:00.000Z');
    const first = await visit('V-first', '2026-09-06T04:00:00.000Z');
    const page = await jane.get(`/m/Visits/${late}`);
    expect(page.html).to.match(/data-field="visited_at">\s*<dt>Visited at<\/dt>\s*<dd>Sep 5, 2026, 11:30\sPM<\/dd>/);
    expect((await jane.get(`/m/Visits/${first}`)).html).to.match(/data-field="visited_at">\s*<dt>Visited at<\/dt>\s*<dd>Sep 6, 2026, 1:00\sAM<\/dd>/);

    expect(recordIdsIn((await jane.get('/m/Visits?f_visited_at=2026-09-06')).html, 'Visits')).to.deep.equal([first]);
    expect(recordIdsIn((await jane.get('/m/Visits?f_visited_at=2026-09-05')).html, 'Visits')).to.deep.equal([late]);
    const api = async (day: string) => {
      const answer = await fetch(`${test.url}/portal/api/v1/modules/Visits/records?filter[visited_at]=${day}`, { headers: { cookie: jane.cookieHeader() } });
      expect(answer.status).to.equal(200);
      return ((await answer.json()) as { rows: { id: number }[] }).rows.map((row) => row.id);
    };
    expect(await api('2026-09-06')).to.deep.equal([first]);
    expect(await api('2026-09-05')).to.deep.equal([late]);
  });
});
