import { expect } from 'chai';
import { LOCK_AFTER_FAILURES } from '../../plugin/auth/lockout.js';
import { hashToken } from '../../plugin/auth/portal-sessions.js';
import { login, me, PASSWORD, sessionCookie, startAuthTestHost, type AuthTestHost } from './auth-test-host.js';

/** Everything a client can observe of a response except its Date header. */
async function observable(response: Response): Promise<{ status: number; headers: [string, string][]; body: string }> {
  const headers = [...response.headers.entries()].filter(([name]) => name !== 'date').sort(([a], [b]) => a.localeCompare(b));
  return { status: response.status, headers, body: await response.text() };
}

function cookieAttributes(response: Response): string[] {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('bp_session='));
  return (header ?? '').split(';').slice(1).map((part) => part.trim().toLowerCase());
}

describe('auth: portal login API @db', function () {
  this.timeout(60_000);
  let host: AuthTestHost;
  let jane: number;

  before(async () => {
    host = await startAuthTestHost();
    jane = await host.addPortalUser({ firstname: 'Jane', lastname: 'Doe', email: 'Jane.Doe@Example.com', language: 'en', account_id: 7 });
  });
  after(async () => host?.stop());

  it('signs in with the right password: 200, the contact, and a session cookie with the right flags', async () => {
    const response = await login(host, { email: 'JANE.DOE@example.com ', password: PASSWORD });
    expect(response.status).to.equal(200);
    const body = (await response.json()) as { contact: Record<string, unknown> };
    expect(body.contact).to.deep.include({ id: jane, firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', accountId: 7, language: 'en', mustChangePassword: false });
    expect(body.contact.profile).to.include({ name: 'Default' });
    expect(JSON.stringify(body)).not.to.match(/hash|scrypt|failed|session/i);

    const cookie = sessionCookie(response)!;
    expect(cookie).to.match(/^bp_session=[A-Za-z0-9_-]{43}$/);
    const attributes = cookieAttributes(response);
    expect(attributes).to.include.members(['path=/portal', 'httponly', 'samesite=lax']);
    expect(attributes).to.include('secure'); // plain HTTP here, but customers reach the test host at https://crm.example.com (publicUrl)
    expect(attributes.some((a) => a.startsWith('max-age') || a.startsWith('expires'))).to.equal(false);
    expect(response.headers.get('cache-control')).to.equal('no-store');

    // The table holds the token's hash, never the token.
    const token = cookie.slice('bp_session='.length);
    expect(await host.sql('SELECT id FROM bp_sessions WHERE id = :token', { token })).to.have.length(0);
    expect(await host.sql('SELECT id FROM bp_sessions WHERE id = :id', { id: hashToken(token) })).to.have.length(1);

    const who = await me(host, cookie);
    expect(who.status).to.equal(200);
    expect(((await who.json()) as { contact: { id: number } }).contact.id).to.equal(jane);
  });

  it('tells apart login emails that differ only by an accent, on every database (MariaDB folded them)', async () => {
    const plain = await host.addPortalUser({ firstname: 'Zoe', lastname: 'Plain', email: 'zoe@example.net', language: 'en' });
    const accented = await host.addPortalUser({ firstname: 'Zoë', lastname: 'Accent', email: 'zoë@example.net', language: 'en' });
    for (const [email, id] of [['zoe@example.net', plain], ['ZOË@example.net', accented]] as const) {
      const response = await login(host, { email, password: PASSWORD });
      expect(response.status, email).to.equal(200);
      expect(((await response.json()) as { contact: { id: number } }).contact.id, email).to.equal(id);
    }
    expect(await host.services.accounts.emailInUseByAnother('zoë@example.net', plain)).to.equal(true);
    expect(await host.services.accounts.emailInUseByAnother('zoë@example.net', accented)).to.equal(false);
  });

  it('remember me gives a cookie that lasts 30 days', async () => {
    const response = await login(host, { email: 'jane.doe@example.com', password: PASSWORD, remember: true });
    expect(response.status).to.equal(200);
    const maxAge = cookieAttributes(response).find((a) => a.startsWith('max-age='));
    expect(Number(maxAge?.slice('max-age='.length))).to.be.within(30 * 24 * 3600 - 60, 30 * 24 * 3600);
  });

  it('answers 401 on /me without a session, and with a made-up cookie', async () => {
    expect((await me(host)).status).to.equal(401);
    const made = await me(host, `bp_session=${'A'.repeat(43)}`);
    expect(made.status).to.equal(401);
    expect(((await made.json()) as { error: { code: string } }).error.code).to.equal('not_signed_in');
  });

  it('refuses malformed bodies with a clear 400 and a non-JSON content type with 415, never a 500', async () => {
    const cases: { body: string; contentType?: string; status: number; code: string }[] = [
      { body: '{"email": "a@b.c", ', status: 400, code: 'invalid_json' },
      { body: JSON.stringify({ email: 'jane.doe@example.com' }), status: 400, code: 'invalid_request' },
      { body: JSON.stringify({ email: 'jane.doe@example.com', password: 42 }), status: 400, code: 'invalid_request' },
      { body: JSON.stringify({ email: 'jane.doe@example.com', password: PASSWORD, remember: 'yes' }), status: 400, code: 'invalid_request' },
      { body: JSON.stringify({ email: 'jane.doe@example.com', password: PASSWORD, contactId: 1 }), status: 400, code: 'invalid_request' },
      { body: JSON.stringify(['jane.doe@example.com', PASSWORD]), status: 400, code: 'invalid_request' },
      { body: JSON.stringify({ email: 'jane.doe@example.com', password: 'x'.repeat(1025) }), status: 400, code: 'invalid_request' },
      { body: 'email=jane.doe@example.com&password=x', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type' },
      { body: JSON.stringify({ email: 'jane.doe@example.com', password: PASSWORD }), contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
    ];
    for (const c of cases) {
      const response = await login(host, c.body, c.contentType ? { contentType: c.contentType } : {});
      expect(response.status, c.body).to.equal(c.status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code, c.body).to.equal(c.code);
      expect(body.error.message).to.be.a('string').and.not.match(/at \w+ \(|SELECT|Error:/);
      expect(sessionCookie(response)).to.equal(null);
    }
  });

  it('answers in the caller\'s language', async () => {
    const response = await login(host, { email: 'nobody@example.com', password: 'whatever-it-is' }, { language: 'it-IT,it;q=0.9' });
    expect(response.status).to.equal(401);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('invalid_credentials');
    expect(body.error.message).to.match(/password non sono corrette/);
  });

  it('logout destroys the server session and clears the cookie', async () => {
    const cookie = sessionCookie(await login(host, { email: 'jane.doe@example.com', password: PASSWORD }))!;
    const id = hashToken(cookie.slice('bp_session='.length));
    const out = await fetch(`${host.portal}/api/v1/auth/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' } });
    expect(out.status).to.equal(204);
    expect(out.headers.getSetCookie().some((c) => /^bp_session=;/.test(c) && /Expires=Thu, 01 Jan 1970/.test(c))).to.equal(true);
    expect(await host.sql('SELECT id FROM bp_sessions WHERE id = :id', { id })).to.have.length(0);
    expect((await me(host, cookie)).status).to.equal(401);
    const events = await host.sql<{ event: string }>("SELECT event FROM bp_login_history WHERE contact_id = :jane AND event = 'logout'", { jane });
    expect(events).to.have.length(1);
  });

  it('session fixation: a cookie planted before login never becomes a session, and the old session dies', async () => {
    const planted = `bp_session=${'p'.repeat(43)}`;
    const first = await login(host, { email: 'jane.doe@example.com', password: PASSWORD }, { cookie: planted });
    const issued = sessionCookie(first)!;
    expect(issued).not.to.equal(planted);
    expect((await me(host, planted)).status).to.equal(401);

    // A real session the attacker holds, planted in the victim's browser: the login replaces it.
    const second = await login(host, { email: 'jane.doe@example.com', password: PASSWORD }, { cookie: issued });
    const renewed = sessionCookie(second)!;
    expect(renewed).not.to.equal(issued);
    expect((await me(host, issued)).status).to.equal(401);
    expect((await me(host, renewed)).status).to.equal(200);
  });

  it('portal switched off, support ended or contact deleted: the session stops at the next request', async () => {
    const mario = await host.addPortalUser({ firstname: 'Mario', lastname: 'Rossi', email: 'mario.rossi@example.com', language: 'it' });
    const signIn = async () => sessionCookie(await login(host, { email: 'mario.rossi@example.com', password: PASSWORD }))!;
    const sessionsOfMario = async () => (await host.sql('SELECT id FROM bp_sessions WHERE contact_id = :mario', { mario })).length;

    let cookie = await signIn();
    expect((await me(host, cookie)).status).to.equal(200);
    await host.services.accounts.update(mario, { portalEnabled: false });
    expect((await me(host, cookie)).status).to.equal(401);
    expect(await sessionsOfMario()).to.equal(0);
    await host.services.accounts.update(mario, { portalEnabled: true });

    cookie = await signIn();
    await host.services.accounts.update(mario, { supportStartDate: '2020-01-01', supportEndDate: '2020-12-31' });
    expect((await me(host, cookie)).status).to.equal(401);
    expect(await sessionsOfMario()).to.equal(0);
    await host.services.accounts.update(mario, { supportEndDate: null });

    cookie = await signIn();
    host.deleteContact(mario);
    expect((await me(host, cookie)).status).to.equal(401);
    expect(await sessionsOfMario()).to.equal(0);
  });

  describe('one answer for every refusal', () => {
    let offId: number;
    let lockedId: number;
    let lateId: number;

    before(async () => {
      offId = await host.addPortalUser({ firstname: 'Off', lastname: 'Portal', email: 'off@example.com', language: 'en' });
      await host.services.accounts.update(offId, { portalEnabled: false });
      lockedId = await host.addPortalUser({ firstname: 'Locked', lastname: 'Out', email: 'locked@example.com', language: 'en' });
      await host.exec('UPDATE bp_portal_accounts SET locked_at = :now, failed_attempts = 5 WHERE contact_id = :id', { now: new Date(), id: lockedId });
      lateId = await host.addPortalUser({ firstname: 'Too', lastname: 'Late', email: 'late@example.com', language: 'en' });
      await host.services.accounts.update(lateId, { supportStartDate: '2021-01-01', supportEndDate: '2021-12-31' });
    });

    it('unknown email, wrong password, locked, outside support, portal off and a banned address look exactly alike', async () => {
      const attempts = {
        unknownEmail: { email: 'nobody@example.com', password: PASSWORD },
        wrongPassword: { email: 'jane.doe@example.com', password: 'not-the-password' },
        locked: { email: 'locked@example.com', password: PASSWORD },
        outsideSupport: { email: 'late@example.com', password: PASSWORD },
        portalOff: { email: 'off@example.com', password: PASSWORD },
        // A NUL cut the SQLite statement short: a 500, answered faster, and not counted.
        withNul: { email: 'jane.doe@example.com\u0000', password: PASSWORD },
        withControl: { email: 'nobody@example.com\u0007x', password: PASSWORD },
      };
      const seen: Record<string, Awaited<ReturnType<typeof observable>>> = {};
      for (const [name, body] of Object.entries(attempts)) seen[name] = await observable(await login(host, body));

      await host.exec('DELETE FROM bp_client_failures');
      await host.exec("INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES ('127.0.0.1', 100, :now, :now)", { now: new Date() });
      try {
        seen.bannedAddress = await observable(await login(host, { email: 'jane.doe@example.com', password: PASSWORD }));
      } finally {
        expect(await host.services.lockout.liftBan('127.0.0.1', 1)).to.equal(true);
      }

      const reference = seen.unknownEmail!;
      expect(reference.status).to.equal(401);
      expect(JSON.parse(reference.body)).to.deep.equal({
        error: { code: 'invalid_credentials', message: 'The email or the password is not correct, or this account cannot sign in at the moment.' },
      });
      expect(reference.headers.map(([name]) => name)).not.to.include('set-cookie');
      for (const [name, response] of Object.entries(seen)) expect(response, name).to.deep.equal(reference);

      // The truth is kept for the CRM only.
      const reasons = await host.sql<{ reason: string }>("SELECT reason FROM bp_login_history WHERE event = 'failed' ORDER BY id");
      expect(reasons.map((r) => r.reason)).to.include.members(['unknown_email', 'wrong_password', 'locked', 'outside_support', 'portal_disabled', 'client_banned']);
    });

    it('every refusal path runs exactly one password check (a real one only where there is a hash to check)', async () => {
      for (const email of ['nobody@example.com', 'locked@example.com', 'late@example.com', 'off@example.com', 'jane.doe@example.com\u0000']) {
        host.resetChecks();
        await login(host, { email, password: PASSWORD });
        expect(host.checks, email).to.deep.equal({ real: 0, dummy: 1 });
      }
      host.resetChecks();
      await login(host, { email: 'jane.doe@example.com', password: 'wrong-again-1' });
      expect(host.checks).to.deep.equal({ real: 1, dummy: 0 });
      // Jane must not stay near the limit for the next tests.
      await login(host, { email: 'jane.doe@example.com', password: PASSWORD });
    });
  });

  describe('brute force', () => {
    it(`50 parallel wrong passwords: locked after exactly ${LOCK_AFTER_FAILURES} failures and 5 password checks; the right password is refused until an admin unlocks`, async () => {
      const victim = await host.addPortalUser({ firstname: 'Bruce', lastname: 'Force', email: 'bruce@example.com', language: 'en' });
      host.resetChecks();
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => login(host, { email: 'bruce@example.com', password: `wrong-password-${i}` })),
      );
      expect(responses.map((r) => r.status)).to.deep.equal(Array(50).fill(401));
      expect(host.checks.real).to.equal(LOCK_AFTER_FAILURES);
      expect(host.checks.real + host.checks.dummy).to.equal(50);

      const [account] = await host.sql<{ failed_attempts: unknown; locked_at: unknown }>(
        'SELECT failed_attempts, locked_at FROM bp_portal_accounts WHERE contact_id = :victim',
        { victim },
      );
      expect(Number(account!.failed_attempts)).to.equal(LOCK_AFTER_FAILURES);
      expect(account!.locked_at).not.to.equal(null);
      const locks = await host.sql("SELECT id FROM bp_login_history WHERE contact_id = :victim AND event = 'locked'", { victim });
      expect(locks).to.have.length(1);

      host.resetChecks();
      const right = await login(host, { email: 'bruce@example.com', password: PASSWORD });
      expect(right.status).to.equal(401);
      expect(host.checks.real).to.equal(0);

      // Failures and the lock are logged; the passwords never are.
      const logged = JSON.stringify(host.test.logs);
      expect(logged).to.include('too_many_failures');
      expect(logged).not.to.include('wrong-password-');
      expect(logged).not.to.include(PASSWORD);
      const history = JSON.stringify(await host.sql('SELECT * FROM bp_login_history'));
      expect(history).not.to.include('wrong-password-');

      expect(await host.services.lockout.unlock(victim, 1)).to.equal(true);
      expect((await login(host, { email: 'bruce@example.com', password: PASSWORD })).status).to.equal(200);
      const unlocked = await host.sql<{ reason: string }>("SELECT reason FROM bp_login_history WHERE contact_id = :victim AND event = 'unlocked'", { victim });
      expect(unlocked.map((u) => u.reason)).to.deep.equal(['admin_unlock by user 1']);

      // Unlocked is not whitelisted: five more failures lock again.
      for (let i = 0; i < LOCK_AFTER_FAILURES; i++) await login(host, { email: 'bruce@example.com', password: `again-${i}` });
      expect((await login(host, { email: 'bruce@example.com', password: PASSWORD })).status).to.equal(401);
      const [again] = await host.sql<{ locked_at: unknown }>('SELECT locked_at FROM bp_portal_accounts WHERE contact_id = :victim', { victim });
      expect(again!.locked_at).not.to.equal(null);
    });

    it('a success resets the count of earlier failures', async () => {
      const id = await host.addPortalUser({ firstname: 'Reset', lastname: 'Me', email: 'reset@example.com', language: 'en' });
      for (let i = 0; i < LOCK_AFTER_FAILURES - 1; i++) await login(host, { email: 'reset@example.com', password: `nope-${i}` });
      expect((await login(host, { email: 'reset@example.com', password: PASSWORD })).status).to.equal(200);
      for (let i = 0; i < LOCK_AFTER_FAILURES - 1; i++) await login(host, { email: 'reset@example.com', password: `nope-${i}` });
      expect((await login(host, { email: 'reset@example.com', password: PASSWORD })).status).to.equal(200);
      const [row] = await host.sql<{ failed_attempts: unknown }>('SELECT failed_attempts FROM bp_portal_accounts WHERE contact_id = :id', { id });
      expect(Number(row!.failed_attempts)).to.equal(0);
    });

    it('100 failures from one address, across accounts and unknown emails, ban it for every account until an admin lifts the ban', async () => {
      await host.exec('DELETE FROM bp_client_failures');
      const target = await host.addPortalUser({ firstname: 'Ban', lastname: 'Test', email: 'ban@example.com', language: 'en' });
      // Unknown emails only (they never lock an account), in batches to keep the thread pool busy but not flooded.
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => login(host, { email: `ghost-${batch}-${i}@example.com`, password: 'guess-guess' })));
      }
      const [client] = await host.sql<{ failures: unknown; banned_at: unknown }>("SELECT failures, banned_at FROM bp_client_failures WHERE ip = '127.0.0.1'");
      expect(Number(client!.failures)).to.equal(100);
      expect(client!.banned_at).not.to.equal(null);
      expect((await host.services.lockout.bannedClients()).map((b) => b.ip)).to.deep.equal(['127.0.0.1']);

      expect((await login(host, { email: 'ban@example.com', password: PASSWORD })).status).to.equal(401);
      const [account] = await host.sql<{ failed_attempts: unknown }>('SELECT failed_attempts FROM bp_portal_accounts WHERE contact_id = :target', { target });
      expect(Number(account!.failed_attempts)).to.equal(0); // a banned address cannot lock accounts either

      expect(await host.services.lockout.liftBan('127.0.0.1', 1)).to.equal(true);
      expect((await login(host, { email: 'ban@example.com', password: PASSWORD })).status).to.equal(200);
    });
  });
});
