/**
 * The plugin on another host (`other-host.ts`): contract 1.0.0 without the optional parts, lists
 * in other orders, times with the CRM's UTC offset, events delivered later and not awaited. The
 * customer's main paths (sign-in, the ticket list, a ticket's page, its comments and documents by
 * page and a new comment, a new ticket) and the admin's profile page work as on the reference host.
 */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import type { HostApi, PluginLifecycle } from '../../plugin/host-contract/index.js';
import createBusinessPortal from '../../plugin/index.js';
import { dateTimeParameter } from '../../host/records/field-values.js';
import { PortalClient, tokenIn } from '../sign-in/sign-in-fixture.js';
import { crmLogin, startTestHost, TEST_ADMIN_PASSWORD, type TestHost } from '../support/host.js';
import { describeHostContract } from './host-contract-suite.js';
import { otherHost } from './other-host.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'Portal-other-1';
const EMAIL = 'olga.other@example.com';

// It is a host the contract allows: it passes the conformance suite.
describeHostContract('another host (contract 1.0.0, other orders, local offsets, later events) @db', async () => {
  const test = await startTestHost({ pluginManifests: [] });
  return { api: otherHost(test.host.api), close: () => test.stop() };
});

describe('the plugin on another host: contract 1.0.0, other orders, local offsets, later events @db', function () {
  let test: TestHost;
  let api: HostApi;
  let plugin: PluginLifecycle;
  let ticketId: number;
  let contactId: number;
  let customer: PortalClient;

  before(async function () {
    test = await startTestHost({ pluginManifests: [] });
    api = otherHost(test.host.api);
    plugin = createBusinessPortal({ rootDir: ROOT });
    await plugin.install(api);
    await plugin.activate(api);

    const account = await api.records.create('Accounts', { values: { accountname: 'Other Ltd' } });
    const contact = await api.records.create('Contacts', { values: { firstname: 'Olga', lastname: 'Other', email: EMAIL, account_id: account.id, language: 'en' } });
    contactId = contact.id;
    const ticket = await api.records.create('HelpDesk', { values: { ticket_title: 'Printer on fire', status: 'Open', contact_id: contact.id, account_id: account.id } });
    ticketId = ticket.id;
    const staff = (await api.users.users()).find((u) => u.isAdmin && u.active)!;
    for (let i = 1; i <= 3; i += 1) {
      await api.records.addComment('HelpDesk', ticketId, { body: `Staff reply ${i}`, internal: false }, { actor: { kind: 'user', userId: staff.id } });
    }
    await plugin.seedDemo!(api, [{ contactId, password: PASSWORD }]);
    customer = new PortalClient(`${test.url}/portal`);
  });
  after(async function () {
    await plugin?.deactivate();
    await test?.stop();
  });

  it('signs the customer in and lists their tickets', async function () {
    const { response } = await customer.signIn(EMAIL, PASSWORD);
    expect(response.status).to.equal(303);
    const list = await customer.get('/m/HelpDesk');
    expect(list.response.status).to.equal(200);
    expect(list.html).to.include('Printer on fire');
  });

  it('sorts a list by a picklist as a host before 1.5.0 does, by the stored value: the plugin asks it for no picklist order', async function () {
    const account = (await api.records.get('Contacts', contactId))!.values.account_id;
    for (const priority of ['Low', 'Urgent', 'High']) {
      await api.records.create('HelpDesk', { values: { ticket_title: `Sorted ${priority}`, status: 'Open', priority, contact_id: contactId, account_id: account! } });
    }
    const { response, html } = await customer.get('/m/HelpDesk?sort=priority&dir=asc');
    expect(response.status).to.equal(200);
    const titles = [...html.matchAll(/>(Sorted \w+)</g)].map((m) => m[1]);
    expect(titles).to.deep.equal(['Sorted High', 'Sorted Low', 'Sorted Urgent']);
  });

  it('shows a ticket with its comments, newest first, and pages them', async function () {
    const page = await customer.get(`/m/HelpDesk/${ticketId}`);
    expect(page.response.status).to.equal(200);
    const bodies = [...page.html.matchAll(/Staff reply (\d)/g)].map((m) => m[1]);
    expect(bodies).to.deep.equal(['3', '2', '1']);

    const api1 = await fetch(`${test.url}/portal/api/v1/modules/HelpDesk/records/${ticketId}/comments?page=1&pageSize=2`, { headers: { cookie: customer.cookieHeader() } });
    expect(api1.status).to.equal(200);
    const answer = (await api1.json()) as { comments: { body: string }[]; total: number };
    expect(answer.comments.map((c) => c.body)).to.deep.equal(['Staff reply 3', 'Staff reply 2']);
  });

  it('shows a ticket’s newest 50 documents and pages them through the API, from a host that answers them all', async function () {
    for (let i = 1; i <= 53; i += 1) {
      await api.records.attachDocument('HelpDesk', ticketId, { title: `Scan ${i}`, fileName: `scan-${i}.txt`, mimeType: 'text/plain', content: Buffer.from(`scan ${i}\n`) });
    }
    const page = await customer.get(`/m/HelpDesk/${ticketId}`);
    expect(page.response.status).to.equal(200);
    const titles = (html: string) => [...html.matchAll(/download>(Scan \d+)<\/a>/g)].map((m) => m[1]);
    expect(titles(page.html)).to.have.length(50);
    expect(titles(page.html)[0]).to.equal('Scan 53');
    expect(page.html).to.include('1–50 of 53').and.include('Older documents');
    const older = await customer.get(`/m/HelpDesk/${ticketId}?documents=2`);
    expect(titles(older.html)).to.deep.equal(['Scan 3', 'Scan 2', 'Scan 1']);

    const headers = { cookie: customer.cookieHeader() };
    const second = await fetch(`${test.url}/portal/api/v1/modules/HelpDesk/records/${ticketId}/documents?page=2&pageSize=25`, { headers });
    expect(second.status).to.equal(200);
    const answer = (await second.json()) as { documents: { title: string }[]; count: number };
    expect(answer.count).to.equal(53);
    expect(answer.documents.map((d) => d.title)).to.deep.equal(Array.from({ length: 25 }, (_, i) => `Scan ${28 - i}`));
    expect((await fetch(`${test.url}/portal/api/v1/modules/HelpDesk/records/${ticketId}/documents?pageSize=0`, { headers })).status).to.equal(400);
  });

  it('orders comments by when they were written, not by how the host spells the time (the night clocks go back)', async function () {
    // Europe/Rome, 25 October 2026: 02:30 in summer time (+02:00) comes before 02:10 in winter time (+01:00).
    const ticket = await api.records.create('HelpDesk', { values: { ticket_title: 'Night shift', status: 'Open', contact_id: contactId } });
    const staff = (await api.users.users()).find((u) => u.isAdmin && u.active)!;
    const written = [
      { body: 'Before the change', at: '2026-10-25T00:30:00.000Z' },
      { body: 'After the change', at: '2026-10-25T01:10:00.000Z' },
    ];
    for (const { body, at } of written) {
      const comment = await api.records.addComment('HelpDesk', ticket.id, { body, internal: false }, { actor: { kind: 'user', userId: staff.id } });
      await api.database.sequelize.query('UPDATE crm_comments SET created_at = $at WHERE id = $id', { bind: { at: dateTimeParameter(new Date(at), api.database.dialect), id: comment.id } });
    }
    expect((await api.records.comments('HelpDesk', ticket.id)).map((c) => c.createdAt)).to.deep.equal(['2026-10-25T02:30:00+02:00', '2026-10-25T02:10:00+01:00']);

    const page = await customer.get(`/m/HelpDesk/${ticket.id}`);
    expect([...page.html.matchAll(/(Before|After) the change/g)].map((m) => m[0])).to.deep.equal(['After the change', 'Before the change']);
    const answer = await fetch(`${test.url}/portal/api/v1/modules/HelpDesk/records/${ticket.id}/comments`, { headers: { cookie: customer.cookieHeader() } });
    expect(((await answer.json()) as { comments: { body: string }[] }).comments.map((c) => c.body)).to.deep.equal(['After the change', 'Before the change']);
  });

  it('answers every time through the API in UTC, as its datetime values and the document say, whatever offset the host writes', async function () {
    const utc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
    const API = `${test.url}/portal/api/v1`;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${API}${path}`, { method, headers: { cookie: customer.cookieHeader(), 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      expect(res.status, `${method} ${path}`).to.be.below(300);
      return (await res.json()) as Record<string, any>;
    };
    const times: [string, string][] = [];
    const created = await call('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Clock check' } });
    const id: number = created.id;
    await api.records.addComment('HelpDesk', id, { body: 'Staff times', internal: false }, { actor: { kind: 'user', userId: (await api.users.users()).find((u) => u.isAdmin && u.active)!.id } });
    await api.records.attachDocument('HelpDesk', id, { title: 'Clock scan', fileName: 'clock.txt', mimeType: 'text/plain', content: Buffer.from('tick\n') });
    const updated = await call('PATCH', `/modules/HelpDesk/records/${id}`, { values: { description: 'Checked' } });
    const record = await call('GET', `/modules/HelpDesk/records/${id}`);
    const list = await call('GET', `/modules/HelpDesk/records?filter[ticket_title]=Clock%20check`);
    for (const [what, answer] of [['create', created], ['update', updated], ['record', record], ['list row', list.rows[0]]] as const) {
      times.push([`${what} createdAt`, answer.createdAt], [`${what} modifiedAt`, answer.modifiedAt]);
    }
    const comments = await call('GET', `/modules/HelpDesk/records/${id}/comments`);
    const documents = await call('GET', `/modules/HelpDesk/records/${id}/documents`);
    const comment = await call('POST', `/modules/HelpDesk/records/${id}/comments`, { body: 'Customer times' });
    times.push(['comment createdAt', comments.comments[0].createdAt], ['document createdAt', documents.documents[0].createdAt], ['new comment createdAt', comment.createdAt]);
    // The host spells them with its offset; the API gives each as the same instant in UTC.
    const stored = (await api.records.get('HelpDesk', id))!;
    expect(stored.createdAt).to.match(/[+-]\d{2}:\d{2}$/);
    expect(times.filter(([, value]) => !utc.test(value)), 'times not in UTC').to.deep.equal([]);
    expect(record.createdAt).to.equal(new Date(stored.createdAt).toISOString());
    expect(record.modifiedAt).to.equal(new Date(stored.modifiedAt).toISOString());
    // The document says so.
    const document = await call('GET', '/openapi.json');
    const recordSchema = document.paths['/modules/{module}/records/{id}'].get.responses['200'].content['application/json'].schema;
    expect(recordSchema.properties.createdAt).to.include({ type: 'string', format: 'date-time' });
    const commentsSchema = document.paths['/modules/{module}/records/{id}/comments'].get.responses['200'].content['application/json'].schema;
    expect(commentsSchema.properties.comments.items.properties.createdAt).to.include({ type: 'string', format: 'date-time' });
  });

  it('adds the customer’s comment on the ticket’s page', async function () {
    const page = await customer.get(`/m/HelpDesk/${ticketId}`);
    const posted = await customer.post(`/m/HelpDesk/${ticketId}/comments`, { _csrf: tokenIn(page.html), body: 'Still burning' });
    expect(posted.response.status).to.equal(303);
    const after = await customer.get(`/m/HelpDesk/${ticketId}`);
    const bodies = [...after.html.matchAll(/(Still burning|Staff reply \d)/g)].map((m) => m[1]);
    expect(bodies[0]).to.equal('Still burning');
  });

  it('opens a new ticket from the portal', async function () {
    const form = await customer.get('/m/HelpDesk/new');
    expect(form.response.status).to.equal(200);
    const created = await customer.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: 'Toner low', priority: 'Low' });
    expect(created.response.status, created.html).to.equal(303);
    expect((await api.records.count('HelpDesk', { field: 'ticket_title', op: 'eq', value: 'Toner low' }))).to.equal(1);
  });

  it('scopes the customer to their company (`account_id`) when Contacts has another reference to Accounts', async function () {
    await api.modules.addField('Contacts', { name: 'reseller_id', label: { en: 'Reseller', it: 'Rivenditore' }, type: 'reference', mandatory: false, referenceModules: ['Accounts'] });
    const rival = await api.records.create('Accounts', { values: { accountname: 'Rival Corp' } });
    const rivalContact = await api.records.create('Contacts', { values: { lastname: 'Rival', account_id: rival.id } });
    await api.records.create('HelpDesk', { values: { ticket_title: 'Rival secret', status: 'Open', contact_id: rivalContact.id, account_id: rival.id } });
    await api.records.update('Contacts', contactId, { values: { reseller_id: rival.id } });

    const list = await customer.get('/m/HelpDesk');
    expect(list.response.status).to.equal(200);
    expect(list.html).to.include('Printer on fire').and.not.include('Rival secret');
  });

  it('shows the admin the Default profile’s privileges', async function () {
    const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    const home = await fetch(`${test.url}/settings/business-portal`, { headers: { cookie: admin }, redirect: 'manual' });
    expect(home.status).to.equal(200);
    const html = await home.text();
    const link = /href="(\/settings\/business-portal\/profiles\/\d+)"/.exec(html)?.[1];
    expect(link, 'a link to a profile').to.be.a('string');
    const profile = await fetch(`${test.url}${link}`, { headers: { cookie: admin }, redirect: 'manual' });
    expect(profile.status).to.equal(200);
  });
});
