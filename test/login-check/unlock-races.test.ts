/**
 * An admin unlocking on "Check Business Portal login" at the same moment as the customer's next
 * failed login, as real parallel HTTP requests: whatever the order, the page tells the truth about
 * what the unlock did, the account ends in a state that agrees with it, and nothing answers 500.
 */
import { expect } from 'chai';
import { SequelizeUnlockLinks } from '../../plugin/auth/unlock-links.js';
import { PORTAL_PASSWORD, startLoginCheckHost, unlockTokenOf, type LoginCheckHost } from './login-check-host.js';

const PAGE = '/settings/business-portal/login-check';

describe('login-check: unlock racing the customer’s failed logins @db', function () {
  this.timeout(60_000);
  let h: LoginCheckHost;

  before(async () => {
    h = await startLoginCheckHost();
    // Kept locked throughout, so that the page always shows its unlock form (and its CSRF token).
    await h.addCustomer({ firstname: 'Kept', lastname: 'Locked', email: 'kept.locked@example.com' });
    await h.lock('kept.locked@example.com');
  });
  after(async () => {
    await h?.stop();
  });

  const state = async (contactId: number) => {
    const [row] = await h.sql<{ failed_attempts: unknown; locked_at: unknown }>('SELECT failed_attempts, locked_at FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
    return { failures: Number(row!.failed_attempts), locked: row!.locked_at !== null };
  };
  const unlocks = async (contactId: number) =>
    Number((await h.sql<{ n: unknown }>("SELECT COUNT(*) AS n FROM bp_login_history WHERE contact_id = :contactId AND event = 'unlocked'", { contactId }))[0]!.n);

  it('the sixth failed login beside the unlock: unlocked once, at most that one failure counted, the right password works', async () => {
    for (let round = 0; round < 4; round += 1) {
      const email = `sixth.${round}@example.com`;
      const id = await h.addCustomer({ firstname: 'Sixth', lastname: `Try ${round}`, email });
      await h.lock(email);
      const csrf = await h.csrf(h.admin);
      const [unlock, login] = await Promise.all([
        h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: [String(id)] }),
        h.portalLogin(email, 'Wrong-password-1'),
      ]);
      expect(unlock.status).to.equal(303);
      expect(unlock.headers.get('location')).to.equal(`${PAGE}?done=unlocked&count=1&skipped=0`);
      expect(login.status).to.equal(401);
      const after = await state(id);
      expect(after.locked).to.equal(false);
      expect(after.failures).to.be.at.most(1);
      expect(await unlocks(id)).to.equal(1);
      expect((await h.portalLogin(email, PORTAL_PASSWORD)).status).to.equal(200);
    }
  });

  it('a lock mail’s link made only after an admin ended that lock (the mail goes in the background) cannot unlock a later lock', async () => {
    const email = 'late.link@example.com';
    const id = await h.addCustomer({ firstname: 'Late', lastname: 'Link', email });
    await h.lock(email);
    await h.mailsSettled();
    const csrf = await h.csrf(h.admin);
    expect((await h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: [String(id)] })).status).to.equal(303);
    expect((await state(id)).locked).to.equal(false);
    // The lock listener's background work, overtaken by the unlock, makes its link only now (the
    // unlock revoked the links there were): the store it uses, on the same database.
    const late = await new SequelizeUnlockLinks(h.api.database).issue(id);

    // A later run of five failures locks the account again, with a lock mail and a link of its own.
    const mailed = h.mails.length;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a later second, as any later lock is (MariaDB keeps whole seconds)
    await h.lock(email);
    await h.mailsSettled();
    const fresh = h.mails.slice(mailed).filter((mail) => mail.contactId === id && mail.kind === 'accountLocked');
    expect(fresh).to.have.length(1);

    const get = await fetch(`${h.url}/portal/unlock?token=${late}`);
    expect(get.status, 'the late link is dead: it was made for a lock that had ended').to.equal(400);
    await get.text();
    expect((await h.post('/portal/unlock', undefined, { token: late })).status).to.equal(400);
    expect((await state(id)).locked, 'the later lock holds').to.equal(true);
    expect((await h.post('/portal/unlock', undefined, { token: unlockTokenOf(fresh[0]!) })).status, 'the later lock’s own link unlocks it').to.equal(200);
    expect((await state(id)).locked).to.equal(false);
  });

  it('the fifth failed login beside the unlock: the page’s count agrees with whether the account ends locked', async () => {
    for (let round = 0; round < 4; round += 1) {
      const email = `fifth.${round}@example.com`;
      const id = await h.addCustomer({ firstname: 'Fifth', lastname: `Try ${round}`, email });
      for (let i = 0; i < 4; i += 1) expect((await h.portalLogin(email, 'Wrong-password-1')).status).to.equal(401);
      const csrf = await h.csrf(h.admin);
      const [unlock, login] = await Promise.all([
        h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: [String(id)] }),
        h.portalLogin(email, 'Wrong-password-1'),
      ]);
      expect(unlock.status).to.equal(303);
      expect(login.status).to.equal(401);
      const unlocked = unlock.headers.get('location') === `${PAGE}?done=unlocked&count=1&skipped=0`;
      const after = await state(id);
      expect(after.locked, String(unlock.headers.get('location'))).to.equal(!unlocked);
      expect(await unlocks(id)).to.equal(unlocked ? 1 : 0);
    }
  });
});
