import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { hashToken, REMEMBER_ABSOLUTE_MS, ROTATION_GRACE_MS, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../../plugin/auth/portal-sessions.js';
import { PortalClient, tokenIn } from '../sign-in/sign-in-fixture.js';
import { login, me, PASSWORD, sessionCookie, startAuthTestHost, type AuthTestHost } from './auth-test-host.js';

const MINUTE = 60 * 1000;

describe('auth: portal sessions @db', function () {
  this.timeout(60_000);
  let host: AuthTestHost;
  let jane: number;

  before(async () => {
    host = await startAuthTestHost();
    jane = await host.addPortalUser({ firstname: 'Jane', lastname: 'Doe', email: 'jane.doe@example.com', language: 'en' });
  });
  after(async () => host?.stop());

  async function signIn(remember = false): Promise<{ cookie: string; id: string }> {
    const response = await login(host, { email: 'jane.doe@example.com', password: PASSWORD, remember });
    expect(response.status).to.equal(200);
    const cookie = sessionCookie(response)!;
    return { cookie, id: hashToken(cookie.slice('bp_session='.length)) };
  }

  async function row(id: string) {
    const rows = await host.sql<{ contact_id: unknown; idle_expires_at: unknown; absolute_expires_at: unknown; created_at: unknown; family_id: unknown; replaced_at: unknown }>(
      'SELECT contact_id, created_at, idle_expires_at, absolute_expires_at, family_id, replaced_at FROM bp_sessions WHERE id = :id',
      { id },
    );
    return rows[0] ?? null;
  }

  /** Moves a session's clock: its timestamps as if it had been created `ago` milliseconds earlier. */
  async function age(id: string, ago: number): Promise<void> {
    const current = (await row(id))!;
    const shift = (value: unknown) => new Date(new Date(value as string).getTime() - ago);
    await host.exec(
      'UPDATE bp_sessions SET created_at = :created, last_seen_at = :seen, idle_expires_at = :idle, absolute_expires_at = :absolute WHERE id = :id',
      {
        id,
        created: shift(current.created_at),
        seen: new Date(Date.now() - ago),
        idle: shift(current.idle_expires_at),
        absolute: shift(current.absolute_expires_at),
      },
    );
  }

  it('expires after 30 minutes idle and after 12 hours in any case', async () => {
    const idle = await signIn();
    const stored = (await row(idle.id))!;
    const created = new Date(stored.created_at as string).getTime();
    expect(new Date(stored.idle_expires_at as string).getTime() - created).to.equal(SESSION_IDLE_MS);
    expect(new Date(stored.absolute_expires_at as string).getTime() - created).to.equal(SESSION_ABSOLUTE_MS);

    await age(idle.id, SESSION_IDLE_MS - MINUTE);
    expect((await me(host, idle.cookie)).status).to.equal(200);
    // The request rolled the idle window forward.
    expect(new Date((await row(idle.id))!.idle_expires_at as string).getTime()).to.be.above(Date.now() + SESSION_IDLE_MS - MINUTE);
    await age(idle.id, SESSION_IDLE_MS + MINUTE);
    expect((await me(host, idle.cookie)).status).to.equal(401);
    expect(await row(idle.id)).to.equal(null);

    const old = await signIn();
    await host.exec('UPDATE bp_sessions SET absolute_expires_at = :past WHERE id = :id', { id: old.id, past: new Date(Date.now() - 1000) });
    expect((await me(host, old.cookie)).status).to.equal(401);
    expect(await row(old.id)).to.equal(null);
  });

  it('remember me: lasts 30 days, and a lapsed idle window rotates the token instead of ending the session', async () => {
    const remembered = await signIn(true);
    const stored = (await row(remembered.id))!;
    expect(new Date(stored.absolute_expires_at as string).getTime() - new Date(stored.created_at as string).getTime()).to.equal(REMEMBER_ABSOLUTE_MS);
    expect(stored.family_id).to.equal(remembered.id);

    await age(remembered.id, 2 * 60 * MINUTE);
    const response = await me(host, remembered.cookie);
    expect(response.status).to.equal(200);
    const rotated = sessionCookie(response)!;
    expect(rotated).to.match(/^bp_session=/).and.not.equal(remembered.cookie);
    const next = (await row(hashToken(rotated.slice('bp_session='.length))))!;
    expect(next.family_id).to.equal(remembered.id);
    expect(new Date(next.absolute_expires_at as string).getTime()).to.equal(new Date(stored.absolute_expires_at as string).getTime() - 2 * 60 * MINUTE);

    // The old token answers only what was already on its way, for the grace window, and rotates nothing.
    const old = (await row(remembered.id))!;
    expect(old.replaced_at).not.to.equal(null);
    expect(new Date(old.idle_expires_at as string).getTime()).to.be.at.most(Date.now() + ROTATION_GRACE_MS);
    const late = await me(host, remembered.cookie);
    expect(late.status).to.equal(200);
    expect(sessionCookie(late)).to.equal(null);
    expect((await me(host, rotated)).status).to.equal(200);
    expect(await revocations()).to.have.length(0);

    await host.exec('UPDATE bp_sessions SET absolute_expires_at = :past WHERE contact_id = :jane', { jane, past: new Date(Date.now() - 1000) });
    expect((await me(host, rotated)).status).to.equal(401);
  });

  /** The `revoked` events of Jane's login history. */
  function revocations() {
    return host.sql<{ reason: unknown; ip: unknown }>("SELECT reason, ip FROM bp_login_history WHERE contact_id = :jane AND event = 'revoked'", { jane });
  }

  /** Ends a rotated-away token's grace window, as if it had been rotated away minutes ago. */
  async function pastGrace(id: string): Promise<void> {
    await host.exec('UPDATE bp_sessions SET idle_expires_at = :past WHERE id = :id', { id, past: new Date(Date.now() - 1000) });
  }

  describe('theft detection', () => {
    afterEach(async () => {
      await host.exec('DELETE FROM bp_sessions');
      await host.exec("DELETE FROM bp_login_history WHERE event = 'revoked'");
    });

    it('a rotated-away token replayed after its grace window ends the whole family, and the CRM and the log are told', async () => {
      const copied = await signIn(true);
      const elsewhere = await signIn(true); // another family of the customer (another browser): not ended
      await age(copied.id, 2 * 60 * MINUTE);
      const successor = sessionCookie(await me(host, copied.cookie))!;
      // The browser that holds the successor goes on, and rotates once more a day later.
      await age(hashToken(successor.slice('bp_session='.length)), 24 * 60 * MINUTE);
      const third = sessionCookie(await me(host, successor))!;
      expect(third).to.match(/^bp_session=/);
      expect((await me(host, third)).status).to.equal(200);
      await pastGrace(copied.id);
      await pastGrace(hashToken(successor.slice('bp_session='.length)));

      const logged = host.test.logs.length;
      const replay = await me(host, copied.cookie);
      expect(replay.status).to.equal(401);
      expect(sessionCookie(replay)).to.equal(null);
      expect((await me(host, third)).status, 'the live successor').to.equal(401);
      expect((await me(host, successor)).status).to.equal(401);
      expect(await host.sql('SELECT id FROM bp_sessions WHERE family_id = :family', { family: copied.id })).to.have.length(0);
      expect((await me(host, elsewhere.cookie)).status).to.equal(200);

      expect(await revocations()).to.deep.equal([{ reason: 'token_replayed', ip: '127.0.0.1' }]);
      const logs = host.test.logs.slice(logged);
      const warning = logs.find((entry) => entry.level === 'warn' && /replayed/.test(entry.message));
      expect(warning, 'a warning in the host log').to.not.equal(undefined);
      expect(warning!.fields).to.include({ contactId: jane, reason: 'token_replayed' });
      const written = JSON.stringify(logs);
      for (const cookie of [copied.cookie, successor, third]) {
        const token = cookie.slice('bp_session='.length);
        expect(written).not.to.include(token);
        expect(written).not.to.include(hashToken(token));
      }

      // The ended family is gone: its tokens are plain unknown ones now, not told again.
      expect((await me(host, copied.cookie)).status).to.equal(401);
      expect(await revocations()).to.have.length(1);
    });

    it('the successor’s side replaying is detected just as well (the copy rotated first)', async () => {
      const copied = await signIn(true);
      await age(copied.id, 2 * 60 * MINUTE);
      const thief = sessionCookie(await me(host, copied.cookie))!; // the copy's browser rotated the token
      await pastGrace(copied.id);
      expect((await me(host, copied.cookie)).status, 'the customer’s browser, with the token the copy rotated away').to.equal(401);
      expect((await me(host, thief)).status).to.equal(401);
      expect(await revocations()).to.have.length(1);
    });

    it('plain expiry is not theft: an idle session, a family past its absolute end, a family ended by a logout', async () => {
      const idle = await signIn();
      await age(idle.id, SESSION_IDLE_MS + MINUTE);
      expect((await me(host, idle.cookie)).status).to.equal(401);

      const old = await signIn(true);
      await age(old.id, 2 * 60 * MINUTE);
      const successor = sessionCookie(await me(host, old.cookie))!;
      await pastGrace(old.id);
      await host.exec('UPDATE bp_sessions SET absolute_expires_at = :past WHERE family_id = :family', { family: old.id, past: new Date(Date.now() - 1000) });
      expect((await me(host, old.cookie)).status).to.equal(401);
      expect((await me(host, successor)).status).to.equal(401);

      const loggedOut = await signIn(true);
      await age(loggedOut.id, 2 * 60 * MINUTE);
      const next = sessionCookie(await me(host, loggedOut.cookie))!;
      const bye = await fetch(`${host.portal}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: next, 'content-type': 'application/json' }, body: '{}' });
      expect(bye.status).to.equal(204);
      expect((await me(host, loggedOut.cookie)).status).to.equal(401);

      const other = await signIn(true);
      expect((await me(host, other.cookie)).status, 'another session of the customer').to.equal(200);
      expect(await revocations()).to.have.length(0);
    });
  });

  it('a remembered session’s parallel requests after the idle window all stay signed in, and exactly one rotates', async () => {
    const remembered = await signIn(true);
    await age(remembered.id, 2 * 60 * MINUTE);
    const responses = await Promise.all(Array.from({ length: 6 }, () => me(host, remembered.cookie)));
    expect(responses.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200, 200]);
    const cookies = responses.map(sessionCookie).filter((c) => c !== null);
    expect(cookies).to.have.length(1);
    const family = await host.sql<{ id: string }>('SELECT id FROM bp_sessions WHERE family_id = :family', { family: remembered.id });
    expect(family).to.have.length(2);
    expect((await me(host, cookies[0]!)).status).to.equal(200);
  });

  it('a form opened before a rotation still submits, and a logout ends the rotated-away token too', async () => {
    const remembered = await signIn(true);
    const client = new PortalClient(host.portal);
    client.cookies.set('bp_session', remembered.cookie.slice('bp_session='.length));
    const token = tokenIn((await client.get('/forgot-password')).html);
    await age(remembered.id, 2 * 60 * MINUTE);

    const switched = await client.post('/language', { _csrf: token, language: 'it', returnTo: '/forgot-password' });
    expect(switched.response.status).to.equal(303);
    expect(client.cookies.get('bp_session')).not.to.equal(remembered.cookie.slice('bp_session='.length));
    expect((await me(host, remembered.cookie)).status).to.equal(200); // in its grace window

    // Another session's token still fails.
    const other = await signIn(true);
    const stranger = new PortalClient(host.portal);
    stranger.cookies.set('bp_session', other.cookie.slice('bp_session='.length));
    stranger.cookies.set('bp_csrf', client.cookies.get('bp_csrf')!);
    expect((await stranger.post('/language', { _csrf: token, language: 'it' })).response.status).to.equal(403);

    expect((await client.post('/logout', { _csrf: token })).response.status).to.equal(303);
    expect((await me(host, remembered.cookie)).status).to.equal(401);
    expect(await host.sql('SELECT id FROM bp_sessions WHERE family_id = :family', { family: remembered.id })).to.have.length(0);
    expect((await me(host, other.cookie)).status).to.equal(200);
  });

  it('sets Secure on the cookie when the request came over HTTPS, or when customers reach the host at an https address', async () => {
    const http = host.test.host.http;
    const publicUrl = http.publicUrl;
    http.publicUrl = (path) => `http://crm.example.com${path}`;
    const app = express();
    app.set('trust proxy', 'loopback');
    app.post('/portal/start', async (req, res) => {
      await host.services.sessions.start(req, res, jane, { remember: false });
      res.status(204).end();
    });
    const server: Server = await new Promise((ok) => {
      const s = app.listen(0, '127.0.0.1', () => ok(s));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/portal/start`;
      const secure = await fetch(base, { method: 'POST', headers: { 'x-forwarded-proto': 'https' } });
      expect(secure.headers.getSetCookie()[0]).to.match(/; Secure/);
      expect(secure.headers.getSetCookie()[0]).to.match(/; HttpOnly/).and.match(/; SameSite=Lax/).and.match(/; Path=\/portal(;|$)/);
      const plain = await fetch(base, { method: 'POST' });
      expect(plain.headers.getSetCookie()[0]).not.to.match(/Secure/);
      // Plain HTTP from a TLS terminator the host does not trust, while customers use https.
      http.publicUrl = publicUrl;
      expect(http.publicUrl('/portal')).to.match(/^https:/);
      const terminated = await fetch(base, { method: 'POST' });
      expect(terminated.headers.getSetCookie()[0]).to.match(/; Secure/);
    } finally {
      http.publicUrl = publicUrl;
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });

  it('endAllFor ends every session of a contact, remembered ones included; purgeExpired removes only dead sessions', async () => {
    const a = await signIn();
    const b = await signIn(true);
    expect(await host.services.sessions.endAllFor(jane)).to.be.at.least(2);
    expect((await me(host, a.cookie)).status).to.equal(401);
    expect((await me(host, b.cookie)).status).to.equal(401);

    const live = await signIn();
    const idleDead = await signIn();
    const rememberedIdle = await signIn(true);
    const absoluteDead = await signIn(true);
    const rotatedAway = await signIn(true);
    const rotatedAwayDead = await signIn(true);
    const past = new Date(Date.now() - 1000);
    await host.exec('UPDATE bp_sessions SET idle_expires_at = :past, replaced_at = :past WHERE id IN (:ids)', { past, ids: [rotatedAway.id, rotatedAwayDead.id] });
    await host.exec('UPDATE bp_sessions SET idle_expires_at = :past WHERE id IN (:ids)', { past, ids: [idleDead.id, rememberedIdle.id] });
    await host.exec('UPDATE bp_sessions SET absolute_expires_at = :past WHERE id IN (:ids)', { past, ids: [absoluteDead.id, rotatedAwayDead.id] });
    expect(await host.services.sessions.purgeExpired()).to.equal(3);
    // Kept until its family's absolute end, so that its replay is recognised.
    expect(await row(rotatedAway.id)).not.to.equal(null);
    expect(await row(rotatedAwayDead.id)).to.equal(null);
    expect(await row(live.id)).not.to.equal(null);
    expect(await row(rememberedIdle.id)).not.to.equal(null); // can still rotate
    expect(await row(idleDead.id)).to.equal(null);
    expect(await row(absoluteDead.id)).to.equal(null);
  });

  it('a demo reseed that puts the known password back ends the account’s sessions; one that changes nothing keeps them', async () => {
    const kept = await signIn();
    await host.services.demo.seed([{ contactId: jane, password: PASSWORD }]);
    expect((await me(host, kept.cookie)).status).to.equal(200);

    await host.services.accounts.setPassword(jane, await host.services.hasher.hash('Another-pass-9'), { mustChange: false });
    const changed = await login(host, { email: 'jane.doe@example.com', password: 'Another-pass-9' });
    const cookie = sessionCookie(changed)!;
    expect((await me(host, cookie)).status).to.equal(200);
    await host.services.demo.seed([{ contactId: jane, password: PASSWORD }]);
    expect((await me(host, cookie)).status).to.equal(401);
    expect((await me(host, kept.cookie)).status).to.equal(401);
    expect((await login(host, { email: 'jane.doe@example.com', password: PASSWORD })).status).to.equal(200);
  });

  it('a demo reseed that renews a support period that had ended ends the sessions from before it', async () => {
    const waited = await signIn();
    const [before] = await host.sql<{ support_start_date: unknown; support_end_date: unknown }>(
      'SELECT support_start_date, support_end_date FROM bp_portal_accounts WHERE contact_id = :jane',
      { jane },
    );
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    // The period ends while the customer is away (no request in between), then `npm start` renews it.
    await host.exec('UPDATE bp_portal_accounts SET support_start_date = :start, support_end_date = :end WHERE contact_id = :jane', { start: day(-400), end: day(-2), jane });
    try {
      await host.services.demo.seed([{ contactId: jane, password: PASSWORD }]);
      expect(await host.sql('SELECT contact_id FROM bp_portal_accounts WHERE contact_id = :jane AND support_end_date > :today', { jane, today: day(0) })).to.have.length(1);
      expect((await me(host, waited.cookie)).status).to.equal(401);
      expect((await login(host, { email: 'jane.doe@example.com', password: PASSWORD })).status).to.equal(200);
    } finally {
      await host.exec('UPDATE bp_portal_accounts SET support_start_date = :start, support_end_date = :end WHERE contact_id = :jane', {
        start: before!.support_start_date,
        end: before!.support_end_date,
        jane,
      });
    }
  });

  it('a locked account loses its sessions at the next request', async () => {
    const session = await signIn();
    await host.exec('UPDATE bp_portal_accounts SET locked_at = :now WHERE contact_id = :jane', { now: new Date(), jane });
    expect((await me(host, session.cookie)).status).to.equal(401);
    expect(await row(session.id)).to.equal(null);
    await host.services.lockout.unlock(jane, 1);
  });
});
