/**
 * Editing and deleting a contact from the reference CRM's Contact page, on the demo host with a
 * real SMTP server on loopback. The changes go through the host's record API as the admin, so the
 * plugin reacts as it does to any CRM write: a new email re-sends the access details to it, a
 * deleted contact loses its portal account and its sessions. Both forms carry the session's CSRF
 * token and the record's version; bad values are refused with a clear page and nothing is saved;
 * deleting asks first; only admins may do either.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { CrmRecord, HostApi } from '../../plugin/host-contract/index.js';
import { SqlUserDirectory } from '../../host/users/user-directory.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { crmLogin, startTestHost, type TestHost } from '../support/host.js';
import { API, PASSWORD, portalLogin } from '../portal-api/api-test-kit.js';
import { passwordIn } from '../contacts/contacts-fixture.js';

const JANE = 'jane.doe@example.com';
const JANE_NEW = 'jane.new@example.com';
const TOM = 'tom.baker@example.com';
const AGENT = 'tom.support';
const AGENT_PASSWORD = 'Agent-test-password-1';

describe('CRM pages: editing and deleting a contact @db', function () {
  this.timeout(60_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let api: HostApi;
  let admin: string;
  let agent: string;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ demo: true, smtpUrl: mailbox.url });
    api = test.host.api;
    await new SqlUserDirectory(api.database.sequelize).setPassword(AGENT, AGENT_PASSWORD);
    admin = await crmLogin(test.url, 'admin', DEMO_ADMIN_PASSWORD);
    agent = await crmLogin(test.url, AGENT, AGENT_PASSWORD);
  });
  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  const get = (path: string, cookie = admin) => fetch(`${test.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const post = (path: string, form: Record<string, string>, cookie = admin) =>
    fetch(`${test.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(form).toString() });
  const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  const contactByEmail = async (email: string): Promise<CrmRecord> => {
    const row = (await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: email }, limit: 1 })).rows[0];
    if (!row) throw new Error(`no contact ${email}`);
    return row;
  };
  /** Loads the edit form and posts it with its token and version, and `values` over what it shows. */
  const saveEdit = async (id: number, values: Record<string, string>, cookie = admin) => {
    const form = await (await get(`/contacts/${id}/edit`, cookie)).text();
    const current = { firstname: /id="firstname"[^>]*value="([^"]*)"/.exec(form)?.[1] ?? '', lastname: /id="lastname"[^>]*value="([^"]*)"/.exec(form)?.[1] ?? '', email: /id="email"[^>]*value="([^"]*)"/.exec(form)?.[1] ?? '' };
    return post(`/contacts/${id}/edit`, { csrf: hidden(form, 'csrf'), version: hidden(form, 'version'), ...current, ...values }, cookie);
  };
  const accountRows = (contactId: number) =>
    api.database.sequelize.query<{ email: string }>('SELECT email FROM bp_portal_accounts WHERE contact_id = :contactId', { type: QueryTypes.SELECT, replacements: { contactId } });

  it('the Contact page offers an admin Edit and Delete, another user neither', async () => {
    const jane = await contactByEmail(JANE);
    const page = await (await get(`/contacts/${jane.id}`)).text();
    expect(page).to.include(`href="/contacts/${jane.id}/edit"`);
    expect(page).to.include(`href="/contacts/${jane.id}/delete"`);
    const agentPage = await (await get(`/contacts/${jane.id}`, agent)).text();
    expect(agentPage).not.to.include(`/contacts/${jane.id}/edit`);
    expect((await get(`/contacts/${jane.id}/edit`, agent)).status).to.equal(403);
    expect((await get(`/contacts/${jane.id}/delete`, agent)).status).to.equal(403);
  });

  it('refuses a bad email, an empty last name, a missing token or an old version, and saves nothing', async () => {
    const jane = await contactByEmail(JANE);
    const since = mailbox.received.length;
    const bad = await saveEdit(jane.id, { email: 'jane at example' });
    expect(bad.status).to.equal(400);
    const badHtml = await bad.text();
    expect(badHtml).to.include('Email: enter an email address such as name@example.com.');
    expect(badHtml, 'what the admin typed stays in the form').to.match(/id="email"[^>]*value="jane at example"/);
    const noName = await saveEdit(jane.id, { lastname: '  ' });
    expect(noName.status).to.equal(400);
    expect(await noName.text()).to.include('Last name: this field is required.');
    const tooLong = await saveEdit(jane.id, { firstname: 'J'.repeat(81) });
    expect(tooLong.status).to.equal(400);
    expect(await tooLong.text()).to.include('First name: at most 80 characters.');
    const form = await (await get(`/contacts/${jane.id}/edit`)).text();
    const noToken = await post(`/contacts/${jane.id}/edit`, { version: hidden(form, 'version'), firstname: 'Jane', lastname: 'Doe', email: JANE_NEW });
    expect(noToken.status).to.equal(403);
    const old = await post(`/contacts/${jane.id}/edit`, { csrf: hidden(form, 'csrf'), version: String(jane.version + 7), firstname: 'Jane', lastname: 'Doe', email: JANE_NEW });
    expect(old.status).to.equal(409);
    expect(await old.text()).to.include('Someone else changed this contact meanwhile');
    const noVersion = await post(`/contacts/${jane.id}/edit`, { csrf: hidden(form, 'csrf'), version: 'abc', firstname: 'Jane', lastname: 'Doe', email: JANE_NEW });
    expect(noVersion.status).to.equal(400);
    const after = (await api.records.get('Contacts', jane.id))!;
    expect(after.values).to.include({ firstname: 'Jane', lastname: 'Doe', email: JANE });
    expect(after.version).to.equal(jane.version);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mailbox.received.length, 'no mail').to.equal(since);
  });

  it("changing Jane's email sends the access details to the new address, which signs in", async () => {
    const jane = await contactByEmail(JANE);
    const since = mailbox.received.length;
    const response = await saveEdit(jane.id, { email: `  ${JANE_NEW} `, firstname: 'Janet' });
    expect(response.status).to.equal(303);
    expect(response.headers.get('location')).to.equal(`/contacts/${jane.id}?saved=1`);
    const saved = (await api.records.get('Contacts', jane.id))!;
    expect(saved.values).to.include({ firstname: 'Janet', lastname: 'Doe', email: JANE_NEW });
    const mail = await mailbox.waitFor(JANE_NEW, { since });
    expect(await accountRows(jane.id)).to.deep.equal([{ email: JANE_NEW }]);
    expect((await portalLogin(test, JANE_NEW, passwordIn(mail))).startsWith('bp_session=')).to.equal(true);
    const page = await (await get(`/contacts/${jane.id}?saved=1`)).text();
    expect(page).to.include('The contact was saved.');
    expect(page).to.include(JANE_NEW);
  });

  it('deleting asks first, then removes the contact, its portal account and ends its sessions', async () => {
    const tom = await contactByEmail(TOM);
    const session = await portalLogin(test, TOM, PASSWORD);
    expect((await fetch(`${test.url}${API}/me`, { headers: { cookie: session } })).status).to.equal(200);

    const confirm = await get(`/contacts/${tom.id}/delete`);
    expect(confirm.status).to.equal(200);
    const html = await confirm.text();
    expect(html).to.include('Delete Tom Baker?');
    expect(html).to.match(new RegExp(`<form method="post" action="/contacts/${tom.id}/delete"`));
    expect(await api.records.get('Contacts', tom.id), 'asking deletes nothing').not.to.equal(null);

    expect((await post(`/contacts/${tom.id}/delete`, { version: hidden(html, 'version') })).status, 'no token').to.equal(403);
    expect((await post(`/contacts/${tom.id}/delete`, { csrf: hidden(html, 'csrf'), version: String(tom.version + 5) })).status, 'old version').to.equal(409);
    expect((await post(`/contacts/${tom.id}/delete`, { csrf: hidden(html, 'csrf'), version: hidden(html, 'version') }, agent)).status, 'not an admin').to.equal(403);
    expect(await api.records.get('Contacts', tom.id)).not.to.equal(null);
    expect(await accountRows(tom.id)).to.have.length(1);

    const deleted = await post(`/contacts/${tom.id}/delete`, { csrf: hidden(html, 'csrf'), version: hidden(html, 'version') });
    expect(deleted.status).to.equal(303);
    expect(deleted.headers.get('location')).to.equal('/contacts?deleted=1');
    expect(await api.records.get('Contacts', tom.id)).to.equal(null);
    expect(await accountRows(tom.id)).to.deep.equal([]);
    expect((await fetch(`${test.url}${API}/me`, { headers: { cookie: session } })).status, 'the session ended').to.equal(401);
    const portalPage = await fetch(`${test.url}/portal/`, { redirect: 'manual', headers: { cookie: session } });
    expect(portalPage.status).to.equal(303);
    expect(portalPage.headers.get('location')).to.match(/\/portal\/login/);
    const login = await fetch(`${test.url}${API}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: TOM, password: PASSWORD }) });
    expect(login.status, 'no account to sign in to').to.equal(401);
    expect(await (await get('/contacts?deleted=1')).text()).to.include('The contact was deleted.');
    expect((await post(`/contacts/${tom.id}/delete`, { csrf: hidden(html, 'csrf'), version: hidden(html, 'version') })).status, 'gone').to.equal(404);
    expect((await get(`/contacts/${tom.id}/edit`)).status).to.equal(404);
  });
});
