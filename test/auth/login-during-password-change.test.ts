/**
 * A sign-in whose password check passed just before the account's password was changed (on
 * another host process) must not start a session after the change: a change ends every session
 * of the contact (SECURITY.md), including one its old password was about to open. Here the sign-in
 * on the second host is held right after its password check until the change on the first host
 * has answered.
 */
import { expect } from 'chai';
import { startSecondHost, startTestHost, type TestHost } from '../support/host.js';

const API = '/portal/api/v1';
const MARIO = 'mario.rossi@example.com';
const OLD_PASSWORD = 'Portal-demo-1';

async function portalLogin(url: string, password: string, email = MARIO): Promise<{ status: number; cookie: string | null }> {
  const response = await fetch(`${url}${API}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  await response.arrayBuffer();
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('bp_session='));
  return { status: response.status, cookie: cookie ?? null };
}

describe('A sign-in racing a password change on another host process @db', function () {
  this.timeout(60_000);
  let first: TestHost;
  let second: TestHost;

  before(async () => {
    first = await startTestHost({ demo: true });
    second = await startSecondHost(first);
  });

  after(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('opens no session with the old password once the change has ended the sessions', async () => {
    const owner = await portalLogin(first.url, OLD_PASSWORD);
    expect(owner.status).to.equal(200);

    // Hold the second host's sign-in between its password check and its session.
    let reached!: () => void;
    const checked = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const sequelize = second.host.api.database.sequelize;
    sequelize.addHook('beforeQuery', 'login-during-password-change', async (options: unknown) => {
      // The login history's row of the sign-in (written after the password check, before the session).
      const replacements = (options as { replacements?: Record<string, unknown> }).replacements;
      if (replacements?.event === 'login' && replacements.contactId !== undefined) {
        reached();
        await released;
      }
    });
    let attempt: Promise<{ status: number; cookie: string | null }>;
    try {
      attempt = portalLogin(second.url, OLD_PASSWORD);
      await checked;
      const change = await fetch(`${first.url}${API}/auth/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: owner.cookie! },
        body: JSON.stringify({ currentPassword: OLD_PASSWORD, newPassword: 'A-much-newer-passphrase-42' }),
      });
      expect(change.status).to.equal(204);
    } finally {
      release();
      sequelize.removeHook('beforeQuery', 'login-during-password-change');
    }
    const late = await attempt;
    if (late.cookie) {
      const me = await fetch(`${first.url}${API}/me`, { headers: { cookie: late.cookie } });
      expect(me.status, 'the session opened with the old password works after the change').to.equal(401);
    }
    expect(late.status).to.equal(401);
  });

  it('a password change opens no session for its browser once a later change has ended the sessions', async () => {
    const jane = 'jane.doe@example.com';
    const here = await portalLogin(second.url, OLD_PASSWORD, jane);
    expect(here.status).to.equal(200);

    // Hold the second host's change between its commit and the new session of its browser (which
    // first deletes the session the browser brought).
    let reached!: () => void;
    const committed = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const sequelize = second.host.api.database.sequelize;
    sequelize.addHook('beforeQuery', 'password-change-during-password-change', async (options: unknown) => {
      const { type, replacements } = options as { type?: unknown; replacements?: Record<string, unknown> };
      if (type === 'BULKDELETE' && replacements && Object.keys(replacements).join() === 'previous') {
        reached();
        await released;
      }
    });
    let change: Promise<Response>;
    try {
      change = fetch(`${second.url}${API}/auth/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: here.cookie! },
        body: JSON.stringify({ currentPassword: OLD_PASSWORD, newPassword: 'First-new-passphrase-17' }),
      });
      await committed;
      // Signed in elsewhere with the new password, the customer changes it again.
      const there = await portalLogin(first.url, 'First-new-passphrase-17', jane);
      expect(there.status).to.equal(200);
      const later = await fetch(`${first.url}${API}/auth/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: there.cookie! },
        body: JSON.stringify({ currentPassword: 'First-new-passphrase-17', newPassword: 'Second-new-passphrase-29' }),
      });
      expect(later.status).to.equal(204);
    } finally {
      release();
      sequelize.removeHook('beforeQuery', 'password-change-during-password-change');
    }
    const first_ = await change;
    expect(first_.status).to.equal(204);
    const cookie = first_.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith('bp_session=') && c !== 'bp_session=');
    if (cookie) {
      const me = await fetch(`${first.url}${API}/me`, { headers: { cookie } });
      expect(me.status, 'the session opened for the first new password works after the second change').to.equal(401);
    }
  });
});
