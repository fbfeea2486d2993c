/**
 * A mail server that breaks in the middle of a message (the connection dropped, or the message's
 * end never answered) while the portal needs it: the second factor's code at sign-in, and the
 * mails of a new ticket. The code's sign-in is answered 503 `code_not_sent` in time, starts nothing
 * and counts no failed password; the ticket is created whatever the mail does.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { apiClient, portalLogin } from '../portal-api/api-test-kit.js';
import { startBreakingSmtp, type BreakingSmtp } from '../support/breaking-smtp.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { PortalClient } from './sign-in-fixture.js';

const JANE = 'jane.doe@example.com';

for (const mode of ['drop', 'stall'] as const) {
  describe(`mail outage: a mail server that ${mode === 'drop' ? 'drops the connection' : 'stalls'} in the middle of a message @db`, function () {
    let test: TestHost;
    let smtp: BreakingSmtp;
    const count = async (sql: string) => Number((await test.host.api.database.sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${sql}`, { type: QueryTypes.SELECT }))[0]!.n);

    before(async () => {
      smtp = await startBreakingSmtp(mode);
      // A stalled message is given up on after half a second (the host's default: 20 s).
      test = await startTestHost({ demo: true, smtpUrl: `${smtp.url}?socketTimeout=500` });
    });
    after(async () => {
      await test?.stop();
      await smtp?.close();
    });

    it('creates a ticket at once; its mails do not hold the answer nor undo the ticket', async () => {
      const api = apiClient(test, await portalLogin(test, JANE));
      const tickets = await count(test.host.registry.tableName('HelpDesk'));
      const began = Date.now();
      const created = await api.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: `Mail ${mode}` } });
      expect(created.status).to.equal(201);
      expect(Date.now() - began, 'the mail is not waited for').to.be.below(2000);
      expect(await count(test.host.registry.tableName('HelpDesk'))).to.equal(tickets + 1);
    });

    it('answers a sign-in whose code could not be mailed 503 code_not_sent in time, starts nothing and counts no failure', async () => {
      await test.host.api.database.sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'email'`);
      const client = new PortalClient(`${test.url}/portal`);
      const began = Date.now();
      const login = await client.api('/auth/login', { email: JANE, password: 'Portal-demo-1' });
      expect(login.status).to.equal(503);
      expect(((await login.json()) as { error: { code: string } }).error.code).to.equal('code_not_sent');
      expect(Date.now() - began).to.be.below(4000);
      expect(smtp.attempts, 'the code was offered to the server').to.be.at.least(1);
      expect(client.cookies.has('bp_2fa')).to.equal(false);
      expect(client.cookies.has('bp_session')).to.equal(false);
      expect(await count('bp_two_factor_challenges'), 'no challenge waits for a code nobody received').to.equal(0);
      const [account] = await test.host.api.database.sequelize.query<{ failed_attempts: unknown }>('SELECT failed_attempts FROM bp_portal_accounts WHERE email = :email', {
        type: QueryTypes.SELECT,
        replacements: { email: JANE },
      });
      expect(Number(account!.failed_attempts), 'the right password counted no failure').to.equal(0);
    });
  });
}
