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

async function portalLogin(url: string, password: string): Promise<{ status: number; cookie: string | null }> {
  const response = await fetch(`${url}${API}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: MARIO, password }),
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
});
