/**
 * Two host processes on one database (issue 7): what one host changes is in force on the other at
 * the very next request — a profile saved through one host's admin API (the access layer's policy
 * cache checks the profile's version stamp on every request, not a timer), and a login lockout
 * counted on both hosts and enforced on both. On SQLite the two hosts share one database file.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { adminClient, SETTINGS, type AdminClient } from '../profiles/profile-test-kit.js';
import { startSecondHost, startTestHost, type TestHost } from '../support/host.js';
import { recordStatements } from '../support/database.js';

const API = '/portal/api/v1';
const JANE = 'jane.doe@example.com';
const MARIO = 'mario.rossi@example.com';
const PASSWORD = 'Portal-demo-1';

interface ModuleEntry {
  readonly module: string;
  readonly listColumns: string[];
  readonly [key: string]: unknown;
}

async function portalLogin(url: string, email: string, password: string): Promise<{ status: number; cookie: string | null }> {
  const response = await fetch(`${url}${API}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  await response.arrayBuffer();
  const session = response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('bp_session='));
  return { status: response.status, cookie: session ?? null };
}

async function listColumns(url: string, cookie: string): Promise<string[]> {
  const response = await fetch(`${url}${API}/modules/HelpDesk/records`, { headers: { cookie } });
  expect(response.status).to.equal(200);
  const body = (await response.json()) as { columns: { name: string }[] };
  return body.columns.map((c) => c.name);
}

describe('Two host processes on one database @db', function () {
  this.timeout(60_000);
  let first: TestHost;
  let second: TestHost;
  let admin: AdminClient;

  before(async () => {
    first = await startTestHost({ demo: true });
    second = await startSecondHost(first);
    // The demo's admin password (demo mode seeds its own admin).
    admin = await adminClient(first, 'admin', 'Admin-demo-1');
  });

  after(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('serves a profile saved through one host on the other at the next request', async () => {
    const onSecond = await portalLogin(second.url, JANE, PASSWORD);
    expect(onSecond.status).to.equal(200);
    const before = await listColumns(second.url, onSecond.cookie!);
    expect(before).to.include('priority');
    // Twice, so that the second host's policy cache is warm before the change.
    expect(await listColumns(second.url, onSecond.cookie!)).to.deep.equal(before);

    const [profile] = await first.host.api.database.sequelize.query<{ id: unknown }>("SELECT id FROM bp_profiles WHERE is_default = :yes", {
      type: QueryTypes.SELECT,
      replacements: { yes: true },
    });
    const id = Number(profile!.id);
    const document = (await (await admin.get(`${SETTINGS}/profiles/${id}/document`)).json()) as { profile: { version: number }; modules: ModuleEntry[] };
    const modules = document.modules.map((m) => (m.module === 'HelpDesk' ? { ...m, listColumns: m.listColumns.filter((c) => c !== 'priority') } : m));
    const saved = await admin.json('PUT', `${SETTINGS}/profiles/${id}/sections/modules`, { version: document.profile.version, value: modules });
    expect(saved.status).to.equal(200);

    // No wait: the very next request on the other process already has the new list columns.
    const after = await listColumns(second.url, onSecond.cookie!);
    expect(after).to.not.include('priority');
    expect(after).to.deep.equal(before.filter((c) => c !== 'priority'));
    // And the page too, not only the API.
    const page = await fetch(`${second.url}/portal/m/HelpDesk`, { headers: { cookie: onSecond.cookie! } });
    expect(page.status).to.equal(200);
    expect(await page.text()).to.not.include('name="f_priority"');
  });

  it('reads the policy stamp with the session\'s row: no statement of its own on a signed-in page', async () => {
    const onSecond = await portalLogin(second.url, JANE, PASSWORD);
    expect(onSecond.status).to.equal(200);
    const sequelize = second.host.api.database.sequelize;
    const recorded = recordStatements(sequelize);
    const sent = recorded.sql;
    try {
      const home = await fetch(`${second.url}/portal/`, { headers: { cookie: onSecond.cookie! } });
      expect(home.status).to.equal(200);
      await home.arrayBuffer();
    } finally {
      recorded.stop();
    }
    const stampReads = sent.filter((sql) => /bp_profiles|bp_settings/.test(sql));
    expect(stampReads, sent.join('\n')).to.have.length(1);
    expect(stampReads[0]).to.match(/FROM bp_sessions/);
  });

  it('serves an account moved to another profile through one host with that profile on the other at the next request', async () => {
    const onSecond = await portalLogin(second.url, JANE, PASSWORD);
    expect(onSecond.status).to.equal(200);
    expect(await listColumns(second.url, onSecond.cookie!)).to.include('ticket_title');
    // A profile that shows HelpDesk with other list columns, made and assigned through the first host.
    const [jane] = await first.host.api.database.sequelize.query<{ profile_id: unknown }>('SELECT profile_id FROM bp_portal_accounts WHERE email = :email', {
      type: QueryTypes.SELECT,
      replacements: { email: JANE },
    });
    const created = await admin.post(`${SETTINGS}/profiles`, { name: 'Two hosts', description: '' });
    expect(created.status).to.equal(303);
    const id = Number(/\/profiles\/(\d+)\//.exec(created.headers.get('location') ?? '')?.[1]);
    expect(id).to.be.greaterThan(0);
    const document = (await (await admin.get(`${SETTINGS}/profiles/${id}/document`)).json()) as { profile: { version: number }; modules: ModuleEntry[] };
    const helpDesk = document.modules.find((m) => m.module === 'HelpDesk');
    expect(helpDesk, 'the new profile lists HelpDesk').to.not.equal(undefined);
    const modules = document.modules.map((m) => (m.module === 'HelpDesk' ? { ...m, shown: true, view: true, listColumns: ['ticket_no', 'status'] } : m));
    expect((await admin.json('PUT', `${SETTINGS}/profiles/${id}/sections/modules`, { version: document.profile.version, value: modules })).status).to.equal(200);
    try {
      await first.host.api.database.sequelize.query('UPDATE bp_portal_accounts SET profile_id = :id WHERE email = :email', {
        replacements: { id, email: JANE },
      });
      expect(await listColumns(second.url, onSecond.cookie!)).to.deep.equal(['ticket_no', 'status']);
    } finally {
      await first.host.api.database.sequelize.query('UPDATE bp_portal_accounts SET profile_id = :previous WHERE email = :email', {
        replacements: { previous: jane!.profile_id, email: JANE },
      });
    }
    expect(await listColumns(second.url, onSecond.cookie!)).to.include('ticket_title');
  });

  it('enforces on one host a lockout whose failures were counted on both', async () => {
    // Control: the right password works on either host before the failures.
    const control = await portalLogin(first.url, MARIO, PASSWORD);
    expect(control.status).to.equal(200);

    for (const url of [first.url, second.url, first.url, second.url, first.url]) {
      expect((await portalLogin(url, MARIO, 'Wrong-password-9')).status).to.equal(401);
    }
    const [account] = await second.host.api.database.sequelize.query<{ locked_at: unknown; failed_attempts: unknown }>(
      'SELECT locked_at, failed_attempts FROM bp_portal_accounts WHERE email = :email',
      { type: QueryTypes.SELECT, replacements: { email: MARIO } },
    );
    expect(account!.locked_at).to.not.equal(null);

    // The right password is refused now on both hosts (the same 401 as any refused login).
    for (const url of [second.url, first.url]) {
      const refused = await portalLogin(url, MARIO, PASSWORD);
      expect(refused.status).to.equal(401);
      expect(refused.cookie).to.equal(null);
    }
    // Another customer is not affected.
    expect((await portalLogin(second.url, JANE, PASSWORD)).status).to.equal(200);
  });
});
