/**
 * Portal accounts whose CRM contact left while nobody listened (the plugin inactive, or the host
 * process down while another one without the plugin deleted it): they are removed, with their
 * sessions, links and login history, when the plugin is activated — a batch of accounts at a time,
 * each batch's contacts looked up by id. Until then such an account never signs in, and its
 * refusal reads exactly as a wrong password's.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { recordStatements } from '../support/database.js';
import { startTestHost, type TestHost } from '../support/host.js';

const PLUGIN = 'business-portal';
const PASSWORD = 'Portal-demo-1';

async function login(url: string, email: string, password: string): Promise<{ status: number; body: string; cookies: string[] }> {
  const response = await fetch(`${url}/portal/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const cookies = response.headers.getSetCookie().map((c) => c.split('=')[0]!).sort();
  return { status: response.status, body: await response.text(), cookies };
}

async function sessionOf(url: string, email: string): Promise<string> {
  const response = await fetch(`${url}/portal/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(response.status, `login of ${email}`).to.equal(200);
  return response.headers.getSetCookie().find((c) => c.startsWith('bp_session='))!.split(';')[0]!;
}

async function me(url: string, cookie: string): Promise<number> {
  const response = await fetch(`${url}/portal/api/v1/me`, { headers: { cookie } });
  await response.text();
  return response.status;
}

async function contactByEmail(api: HostApi, email: string): Promise<number> {
  const page = await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: email }, limit: 1 });
  return page.rows[0]!.id;
}

/** How many rows each table holds for the contact. */
async function leftOf(api: HostApi, contactId: number): Promise<Record<string, number>> {
  const left: Record<string, number> = {};
  for (const table of ['bp_portal_accounts', 'bp_sessions', 'bp_login_history', 'bp_reset_tokens', 'bp_unlock_links']) {
    const [row] = await api.database.sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table} WHERE contact_id = :contactId`, {
      type: QueryTypes.SELECT,
      replacements: { contactId },
    });
    left[table] = Number(row!.n);
  }
  return left;
}

/** Waits (up to 20 s) until `done` holds: the sweep runs beside the host once activation has returned. */
async function until(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('not done within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('contacts: portal accounts of contacts gone while the plugin was not listening @db', function () {
  this.timeout(180_000);
  let t: TestHost;
  let api: HostApi;

  before(async () => {
    t = await startTestHost({ demo: true, watchRegistryMs: 0 });
    api = t.host.api;
  });
  after(async () => t?.stop());

  it('removes the account, its sessions, links and login history at the next activation; other customers go on', async () => {
    const jane = await contactByEmail(api, 'jane.doe@example.com');
    await sessionOf(t.url, 'jane.doe@example.com');
    expect((await login(t.url, 'jane.doe@example.com', 'wrong-password-1')).status).to.equal(401);
    const mario = await sessionOf(t.url, 'mario.rossi@example.com');

    await t.host.plugins.deactivate(PLUGIN);
    await api.records.delete('Contacts', jane);
    const before = await leftOf(api, jane);
    expect(before.bp_portal_accounts, 'left behind while inactive').to.equal(1);
    expect(before.bp_login_history).to.be.greaterThan(0);

    await t.host.plugins.activate(PLUGIN);
    await until(async () => (await leftOf(api, jane)).bp_portal_accounts === 0);
    expect(await leftOf(api, jane)).to.deep.equal({ bp_portal_accounts: 0, bp_sessions: 0, bp_login_history: 0, bp_reset_tokens: 0, bp_unlock_links: 0 });
    expect(await me(t.url, mario), 'another customer’s session goes on').to.equal(200);
    expect((await login(t.url, 'mario.rossi@example.com', PASSWORD)).status).to.equal(200);
  });

  it('walks the accounts a batch at a time, looking each batch’s contacts up by id', async () => {
    const created: number[] = [];
    await api.database.sequelize.transaction(async (transaction) => {
      for (let i = 0; i < 1_050; i++) {
        const contact = await api.records.create('Contacts', { values: { lastname: `Bulk ${i}`, email: `bulk.${i}@example.com`, language: 'en' } }, { transaction });
        created.push(contact.id);
      }
    });
    const now = new Date();
    await api.database.sequelize.getQueryInterface().bulkInsert(
      'bp_portal_accounts',
      created.map((contactId) => ({ contact_id: contactId, email: `bulk.${contactId}@example.com`, portal_enabled: true, created_at: now, updated_at: now })),
    );
    await t.host.plugins.deactivate(PLUGIN);
    const gone = created.filter((_, index) => index % 7 === 3);
    for (const id of gone) await api.records.delete('Contacts', id);

    const statements = recordStatements(api.database.sequelize, (sql) => /mod_contacts|crm_contacts|contacts\b/i.test(sql) && !/bp_/.test(sql));
    const left = async () => {
      const [row] = await api.database.sequelize.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_portal_accounts WHERE contact_id IN (:ids)', {
        type: QueryTypes.SELECT,
        replacements: { ids: gone },
      });
      return Number(row!.n);
    };
    try {
      await t.host.plugins.activate(PLUGIN);
      await until(async () => (await left()) === 0);
    } finally {
      statements.stop();
    }
    const [kept] = await api.database.sequelize.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_portal_accounts WHERE contact_id IN (:ids)', {
      type: QueryTypes.SELECT,
      replacements: { ids: created.filter((id) => !gone.includes(id)) },
    });
    expect(Number(kept!.n), 'accounts of contacts still there').to.equal(created.length - gone.length);
    // 1,050 bulk accounts and the demo's: three batches, three reads of Contacts by id, none of the whole table.
    const reads = statements.sql.filter((sql) => /^\s*SELECT/i.test(sql));
    expect(reads.length, reads.join('\n')).to.be.within(1, 4);
    for (const sql of reads) expect(sql).to.match(/\bid\b[^]*\bIN\s*\(/i);
  });

  it('never signs such an account in meanwhile: its right password is refused as a wrong one is', async () => {
    const mario = await contactByEmail(api, 'mario.rossi@example.com');
    // The deletion's listener fails (the database busy): the account is left behind while the plugin is active.
    const sequelize = api.database.sequelize;
    sequelize.addHook('beforeQuery', 'orphan-account', (options: unknown) => {
      const { replacements, type } = options as { replacements?: Record<string, unknown>; type?: string };
      if (type === 'BULKDELETE' && replacements?.contactId === mario) throw new Error('database busy');
    });
    try {
      await api.records.delete('Contacts', mario);
    } finally {
      sequelize.removeHook('beforeQuery', 'orphan-account');
    }
    expect((await leftOf(api, mario)).bp_portal_accounts).to.equal(1);
    const orphan = await login(t.url, 'mario.rossi@example.com', PASSWORD);
    const wrong = await login(t.url, 'giulia.bianchi@example.com', 'wrong-password-1');
    const unknown = await login(t.url, 'nobody.here@example.com', PASSWORD);
    expect(orphan.status).to.equal(401);
    expect(orphan).to.deep.equal(wrong);
    expect(orphan).to.deep.equal(unknown);
  });
});
