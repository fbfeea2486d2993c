/**
 * The mass unlock of the login check (a page of up to 500 boxes in one POST) attacked as a forger
 * would: the whole page sent without the CSRF token, with another session's token, with the token
 * in the URL instead of the form; by a CRM user who is no admin; one id repeated 500 times; ids of
 * CRM users (admins) instead of contacts. Each unlocks no one it should not, and audits only what
 * it did.
 */
import { expect } from 'chai';
import { crmLogin, TEST_ADMIN_PASSWORD } from '../support/host.js';
import { startLoginCheckHost, type LoginCheckHost } from './login-check-host.js';

const PAGE = '/settings/business-portal/login-check';
const UNLOCK = `${PAGE}/unlock`;

describe('login-check: the mass unlock under attack @db', function () {
  this.timeout(180_000);
  let h: LoginCheckHost;
  let locked: string[];

  before(async () => {
    h = await startLoginCheckHost();
    locked = (await h.addLockedInBulk(500, 'forged')).map(String);
  });
  after(async () => {
    await h?.stop();
  });

  const count = async (sql: string) => Number((await h.sql<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${sql}`))[0]!.n);
  const lockedCount = () => count('bp_portal_accounts WHERE locked_at IS NOT NULL');

  it('a whole page sent without the token, with another session’s, or with it in the URL: 403, no one unlocked, nothing audited', async () => {
    const before = await lockedCount();
    const audit = await count('bp_login_check_audit');
    const other = await crmLogin(h.url, 'admin', TEST_ADMIN_PASSWORD);
    const otherToken = await h.csrf(other);
    const token = await h.csrf(h.admin);
    const attempts: [string, Promise<Response>][] = [
      ['no token', h.post(UNLOCK, h.admin, { contactId: locked })],
      ['empty token', h.post(UNLOCK, h.admin, { _csrf: '', contactId: locked })],
      ['another session’s token', h.post(UNLOCK, h.admin, { _csrf: otherToken, contactId: locked })],
      ['two tokens, one right', h.post(UNLOCK, h.admin, { _csrf: [otherToken, token], contactId: locked })],
      ['the token in the URL', h.post(`${UNLOCK}?_csrf=${encodeURIComponent(token)}`, h.admin, { contactId: locked })],
      ['a CRM user who is no admin, with the admin’s token', h.post(UNLOCK, h.clerk, { _csrf: token, contactId: locked })],
      ['signed out, with the admin’s token', h.post(UNLOCK, undefined, { _csrf: token, contactId: locked })],
    ];
    for (const [why, attempt] of attempts) {
      const response = await attempt;
      expect(response.status, why).to.be.oneOf([303, 403]);
      if (response.status === 303) expect(response.headers.get('location'), why).to.match(/\/login/);
    }
    expect(await lockedCount()).to.equal(before);
    expect(await count('bp_login_check_audit')).to.equal(audit);
  });

  it('one id sent 500 times is one unlock and one audit entry; ids of CRM users unlock no contact and touch no user', async () => {
    const token = await h.csrf(h.admin);
    const before = await lockedCount();
    const audit = await count('bp_login_check_audit');
    const repeated = await h.post(UNLOCK, h.admin, { _csrf: token, contactId: Array.from({ length: 500 }, () => locked[0]!) });
    expect(repeated.status).to.equal(303);
    expect(repeated.headers.get('location')).to.include('count=1').and.to.include('skipped=0');
    expect(await lockedCount()).to.equal(before - 1);
    expect(await count('bp_login_check_audit')).to.equal(audit + 1);

    const users = await h.sql<{ id: unknown; password_hash: unknown; active: unknown }>('SELECT id, password_hash, active FROM crm_users ORDER BY id');
    const accountsOfUsers = await count(`bp_portal_accounts WHERE contact_id IN (${users.map((u) => Number(u.id)).join(',')}) AND locked_at IS NOT NULL`);
    const userIds = users.map((u) => String(u.id));
    const response = await h.post(UNLOCK, h.admin, { _csrf: token, contactId: userIds });
    expect(response.status).to.equal(303);
    // Only contacts whose ids happen to equal a user's and that were locked could be unlocked: never a CRM user.
    expect(await lockedCount()).to.equal(before - 1 - accountsOfUsers);
    expect(await h.sql('SELECT id, password_hash, active FROM crm_users ORDER BY id')).to.deep.equal(users);
  });
});
