/**
 * The plugin's own times (sessions, here) are instants, whatever the zone the server process runs
 * in: a host in Honolulu (UTC-10) or Tonga (UTC+13) stores a session's expiry 30 minutes after
 * now, not hours before or after it, and keeps the customer signed in — on every database.
 */
import { expect } from 'chai';
import { toIsoDateTime } from '../../plugin/lifecycle/sql-values.js';
import { SESSIONS_TABLE } from '../../plugin/auth/portal-sessions.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { inProcessZone } from '../support/process-zone.js';
import { JANE, signedIn } from '../portal-pages/portal-pages-kit.js';

for (const zone of ['Pacific/Honolulu', 'Pacific/Tongatapu']) {
  describe(`portal sessions on a server in ${zone} @db`, function () {
    this.timeout(120_000);
    let test: TestHost;
    inProcessZone(zone);

    before(async () => {
      test = await startTestHost({ demo: true, logLevel: 'error' });
    });
    after(async () => {
      await test?.stop();
    });

    it('stores the session’s expiry as the instant it is and keeps the customer signed in', async () => {
      expect(new Date(2026, 0, 1).getTimezoneOffset(), 'the process runs in that zone').to.not.equal(0);
      const jane = await signedIn(test, JANE);
      const signedInAt = Date.now();
      const [row] = await test.host.api.database.sequelize.query<{ idle_expires_at: unknown; absolute_expires_at: unknown }>(
        `SELECT idle_expires_at, absolute_expires_at FROM ${SESSIONS_TABLE} ORDER BY created_at DESC`,
        { type: 'SELECT' as never },
      );
      const idle = Date.parse(toIsoDateTime(row!.idle_expires_at)!);
      const absolute = Date.parse(toIsoDateTime(row!.absolute_expires_at)!);
      expect((idle - signedInAt) / 60_000, 'minutes until the idle expiry').to.be.within(29, 31);
      expect((absolute - signedInAt) / 3_600_000, 'hours until the absolute expiry').to.be.within(11.9, 12.1);
      const page = await jane.get('/m/HelpDesk');
      expect(page.response.status, 'still signed in').to.equal(200);
    });
  });
}
