/**
 * The reference host's demo data: idempotent, with the fixed points other tools rely on
 * (SPEC §8), both kinds of custom module, and demo customers who can log in to the portal.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { CrmRecord, HostApi } from '../../plugin/host-contract/index.js';
import { DEMO_PORTAL_PASSWORD, DemoRefusedError, type DemoSummary, seedDemoData } from '../../host/demo/demo-data.js';
import { demoRecords } from '../../host/demo/demo-records.js';
import { RESET_VALID_MINUTES } from '../../plugin/auth/password-reset.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReferenceHost, type ReferenceHost } from '../../host/reference-host.js';
import { crmLogin, startTestHost } from '../support/host.js';
import { adminActor, profileService } from '../profiles/profile-test-kit.js';

type TestHost = Awaited<ReturnType<typeof startTestHost>>;

/** How many records, comments and files the CRM holds, per module. */
async function inventory(api: HostApi): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const module of api.modules.modules()) counts[module.name] = await api.records.count(module.name);
  let comments = 0;
  for (const ticket of (await api.records.query('HelpDesk')).rows) {
    comments += await api.records.commentCount('HelpDesk', ticket.id, { includeInternal: true });
  }
  counts['HelpDesk comments'] = comments;
  return counts;
}

async function contactByEmail(api: HostApi, email: string): Promise<CrmRecord> {
  const { rows } = await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: email } });
  expect(rows, email).to.have.length(1);
  return rows[0];
}

async function accountNamed(api: HostApi, name: string): Promise<CrmRecord> {
  const { rows } = await api.records.query('Accounts', { where: { field: 'accountname', op: 'eq', value: name } });
  expect(rows, name).to.have.length(1);
  return rows[0];
}

/** `name=value` pairs of the cookies a response sets, ready for a `Cookie` header. */
function cookiesOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

describe('Demo data of the reference host @db', function () {
  let test: TestHost;
  let api: HostApi;
  let summary: DemoSummary;
  /** What the first run (by the host, as `npm start` does) left. */
  let afterFirstRun: Record<string, number>;

  before(async function () {
    test = await startTestHost({ demo: true });
    api = test.host.api;
    afterFirstRun = await inventory(api);
    summary = await seedDemoData(test.host);
  });
  after(async function () {
    await test?.stop();
  });

  it('adds nothing when it runs again', async function () {
    expect(afterFirstRun.Contacts).to.be.at.least(12);
    expect(afterFirstRun.Documents).to.be.at.least(5);
    expect(afterFirstRun['HelpDesk comments']).to.be.greaterThan(0);
    expect(await inventory(api)).to.deep.equal(afterFirstRun);
    expect(await seedDemoData(test.host)).to.deep.equal(summary);
    expect(await inventory(api)).to.deep.equal(afterFirstRun);
  });

  it('keeps, when it runs again, the profile an admin gave a demo customer', async function () {
    const service = profileService(api);
    const moved = await service.create({ name: 'Demo rerun', description: '', startFrom: null }, await adminActor(api));
    const sql = api.database.sequelize;
    await sql.query('UPDATE bp_portal_accounts SET profile_id = :id WHERE email = :email', { replacements: { id: moved.id, email: 'tom.baker@example.com' } });
    await seedDemoData(test.host);
    const [row] = await sql.query<{ profile_id: unknown }>('SELECT profile_id FROM bp_portal_accounts WHERE email = :email', { replacements: { email: 'tom.baker@example.com' }, type: QueryTypes.SELECT });
    expect(Number(row!.profile_id)).to.equal(moved.id);
  });

  it('has the fixed customers: Jane Doe at Acme Ltd (en) and Mario Rossi at Rossi SpA (it)', async function () {
    const acme = await accountNamed(api, 'Acme Ltd');
    const rossi = await accountNamed(api, 'Rossi SpA');
    const jane = await contactByEmail(api, 'jane.doe@example.com');
    expect(jane.values).to.include({ firstname: 'Jane', lastname: 'Doe', account_id: acme.id, language: 'en' });
    const mario = await contactByEmail(api, 'mario.rossi@example.com');
    expect(mario.values).to.include({ firstname: 'Mario', lastname: 'Rossi', account_id: rossi.id, language: 'it' });

    expect(summary.adminUser).to.equal('admin');
    expect(summary.adminPassword).to.equal('Admin-demo-1');
    expect(await crmLogin(test.url, summary.adminUser, summary.adminPassword!)).to.match(/^crm_sid=/);
    expect(summary.customers).to.deep.include({ email: 'jane.doe@example.com', password: 'Portal-demo-1', account: 'Acme Ltd', language: 'en' });
    expect(summary.customers).to.deep.include({ email: 'mario.rossi@example.com', password: 'Portal-demo-1', account: 'Rossi SpA', language: 'it' });
  });

  it('makes Acme Italia Srl a subsidiary of Acme Ltd, with contacts at both and a blocked account', async function () {
    const acme = await accountNamed(api, 'Acme Ltd');
    const italia = await accountNamed(api, 'Acme Italia Srl');
    expect(italia.values.parent_id).to.equal(acme.id);
    expect(await api.records.count('Contacts', { field: 'account_id', op: 'eq', value: acme.id })).to.be.at.least(2);
    expect(await api.records.count('Contacts', { field: 'account_id', op: 'eq', value: italia.id })).to.be.at.least(1);
    expect(await api.records.count('Accounts', { field: 'status', op: 'eq', value: 'Blocked' })).to.be.at.least(1);
  });

  it('has tickets in several states with public, internal, staff and customer comments, and files', async function () {
    const tickets = (await api.records.query('HelpDesk')).rows;
    expect(new Set(tickets.map((t) => t.values.status)).size).to.equal(4);
    const comments = (await Promise.all(tickets.map((t) => api.records.comments('HelpDesk', t.id, { includeInternal: true })))).flat();
    expect(comments.some((c) => c.internal)).to.equal(true);
    expect(comments.some((c) => c.author.kind === 'contact')).to.equal(true);
    expect(comments.some((c) => c.author.kind === 'user' && !c.internal)).to.equal(true);
    expect(comments.filter((c) => c.author.kind === 'contact').every((c) => !c.internal)).to.equal(true);

    const filed = await Promise.all(tickets.map((t) => api.records.documents('HelpDesk', t.id)));
    expect(filed.flat().length).to.be.at.least(2);
    const jane = await contactByEmail(api, 'jane.doe@example.com');
    const [nda] = await api.records.documents('Contacts', jane.id);
    expect(nda?.mimeType).to.equal('application/pdf');
    const opened = await api.records.openDocument(nda.documentId);
    const chunks: Buffer[] = [];
    for await (const chunk of opened!.stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).subarray(0, 8).toString('latin1')).to.equal('%PDF-1.4');
    expect((await api.records.documents('Accounts', (await accountNamed(api, 'Acme Ltd')).id)).length).to.be.at.least(1);
  });

  it('fills the other standard modules', async function () {
    for (const module of ['Faq', 'Invoice', 'Quotes', 'SalesOrder', 'Products', 'Services', 'Assets', 'Project', 'ProjectTask', 'ProjectMilestone', 'ServiceContracts']) {
      expect(await api.records.count(module), module).to.be.at.least(2);
    }
    expect(await api.records.count('Faq', { field: 'status', op: 'eq', value: 'Draft' })).to.be.at.least(1);
    expect(await api.records.count('Faq', { field: 'status', op: 'eq', value: 'Published' })).to.be.at.least(1);
  });

  it('registers one custom module related to Contacts and one related to nothing', async function () {
    const custom = api.modules.modules().filter((m) => m.custom);
    const toContacts = custom.filter((m) => api.modules.relations(m.name).some((r) => r.relatedModule === 'Contacts' || r.module === 'Contacts'));
    const unrelated = custom.filter((m) => api.modules.relations(m.name).length === 0);
    expect(toContacts.map((m) => m.name)).to.deep.equal(['Warranties']);
    expect(unrelated.map((m) => m.name)).to.deep.equal(['Kudos']);
    expect(await api.records.count('Warranties', { field: 'contact_id', op: 'notNull' })).to.be.at.least(2);
    expect(await api.records.count('Kudos')).to.be.at.least(2);
  });

  it('lets both fixed demo customers log in to the portal with the demo password', async function () {
    for (const email of ['jane.doe@example.com', 'mario.rossi@example.com']) {
      const login = await fetch(`${test.url}/portal/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ email, password: DEMO_PORTAL_PASSWORD }),
      });
      expect(login.status, `login of ${email}`).to.equal(200);
      const me = await fetch(`${test.url}/portal/api/v1/me`, { headers: { cookie: cookiesOf(login), accept: 'application/json' } });
      expect(me.status, `me of ${email}`).to.equal(200);
      expect(JSON.stringify(await me.json())).to.include(email);
    }
  });
});

describe('demo data on a database that is not the demo’s @db', function () {
  this.timeout(120_000);

  it('refuses a database holding other contacts, adding nothing', async function () {
    const test = await startTestHost();
    try {
      const api = test.host.api;
      await api.records.create('Contacts', { values: { firstname: 'Giulia', lastname: 'Bianchi', email: 'giulia.bianchi.123@example.com' } });
      const before = await inventory(api);
      let refused: unknown = null;
      await seedDemoData(test.host).catch((error: unknown) => void (refused = error));
      expect(refused).to.be.instanceOf(DemoRefusedError);
      expect((refused as Error).message).to.include("contacts that are not the demo's (1;").and.include('DEMO=0');
      expect(await inventory(api)).to.deep.equal(before);
    } finally {
      await test.stop();
    }
  });

  it('starts again on its own database after an admin changed a demo customer’s email in the CRM', async function () {
    const test = await startTestHost({ demo: true });
    try {
      const api = test.host.api;
      const jane = await contactByEmail(api, 'jane.doe@example.com');
      await api.records.update('Contacts', jane.id, { values: { email: 'jane.new@example.com' } });
      const before = await inventory(api);
      const summary = await seedDemoData(test.host);
      expect(summary.customers.map((c) => c.email)).to.include('jane.new@example.com').and.not.include('jane.doe@example.com');
      expect(await inventory(api)).to.deep.equal(before);
    } finally {
      await test.stop();
    }
  });

  it('prints no demo password for an admin created outside the demo', async function () {
    const test = await startTestHost();
    try {
      const summary = await seedDemoData(test.host);
      expect(summary.adminPassword).to.equal(null);
      expect(summary.customers.length).to.be.greaterThan(0);
    } finally {
      await test.stop();
    }
  });
});

describe('demo data seeded by two host processes at once @db', function () {
  this.timeout(120_000);

  it('lets both finish, one after the other, with each demo record once (npm start twice on a new database)', async function () {
    // The first host of a new database, without the demo yet; a second host process on the same database.
    const first = await startTestHost({ demo: false });
    let second: ReferenceHost | undefined;
    try {
      second = await createReferenceHost({ ...first.host.options, port: 0, demo: true, dataDir: mkdtempSync(join(tmpdir(), 'bp-demo-second-')) });
      await second.start();
      const seeded = await Promise.allSettled([seedDemoData(first.host), seedDemoData(second)]);
      // The second found the custom modules the first had just made ("Module Warranties already exists")
      // or created the same demo records again.
      expect(seeded.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'ok'))).to.deep.equal(['ok', 'ok']);
      const api = first.host.api;
      const contacts = (await api.records.query('Contacts', { limit: 1000 })).rows;
      const names = contacts.map((c) => `${String(c.values.firstname)} ${String(c.values.lastname)}`);
      expect(names.length).to.be.at.least(12);
      expect(new Set(names).size, 'each demo contact once').to.equal(names.length);
      expect(await api.records.count('Contacts', { field: 'email', op: 'eq', value: 'jane.doe@example.com' })).to.equal(1);
    } finally {
      await second?.close();
      if (second) rmSync(second.options.dataDir, { recursive: true, force: true });
      await first.stop();
    }
  });
});

describe('demo FAQs', () => {
  it('promise the reset link’s real lifetime, in English and Italian', () => {
    const answers = demoRecords(new Date())
      .filter((record) => record.module === 'Faq' && /password/i.test(String(record.values.question)))
      .map((record) => String(record.values.answer));
    expect(answers).to.have.length(2);
    expect(answers[0]).to.include(`valid for ${RESET_VALID_MINUTES} minutes`);
    expect(answers[1]).to.include(`valido per ${RESET_VALID_MINUTES} minuti`);
  });
});
