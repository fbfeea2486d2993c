/**
 * The reference CRM's Trouble Tickets pages on the demo host, with a real SMTP server on loopback:
 * the list, a ticket with its comment thread (internal comments marked), and the comment form. A
 * public comment goes through the host's record API as the CRM user, so the plugin mails the
 * customer its "reply to a ticket"; an internal one mails nobody and never reaches the portal.
 * Input an admin can type is refused with a clear page, never a 500, and nothing is added.
 */
import { expect } from 'chai';
import type { CrmRecord, HostApi } from '../../plugin/host-contract/index.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { crmLogin, startTestHost, type TestHost } from '../support/host.js';
import { portalLogin, apiClient } from '../portal-api/api-test-kit.js';
import { SqlUserDirectory } from '../../host/users/user-directory.js';

const JANE = 'jane.doe@example.com';

describe('CRM pages: Trouble Tickets and their comments @db', function () {
  this.timeout(60_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let api: HostApi;
  let admin: string;
  let ticket: CrmRecord;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ demo: true, smtpUrl: mailbox.url });
    api = test.host.api;
    admin = await crmLogin(test.url, 'admin', DEMO_ADMIN_PASSWORD);
    const jane = (await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: JANE }, limit: 1 })).rows[0]!;
    ticket = (await api.records.query('HelpDesk', { where: { field: 'contact_id', op: 'eq', value: jane.id }, sort: [{ field: 'id', direction: 'asc' }], limit: 1 })).rows[0]!;
  });
  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  const get = (path: string, cookie = admin) => fetch(`${test.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const post = (path: string, form: Record<string, string>, cookie = admin) =>
    fetch(`${test.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(form).toString() });
  const csrfOf = async (path: string): Promise<string> => {
    const html = await (await get(path)).text();
    const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path}`);
    return token;
  };
  const commentsNow = () => api.records.commentCount('HelpDesk', ticket.id, { includeInternal: true });
  const addComment = async (fields: Record<string, string>) => post(`/tickets/${ticket.id}/comments`, { csrf: await csrfOf(`/tickets/${ticket.id}`), ...fields });

  it('lists the tickets with links to each, and the navigation leads there', async () => {
    const home = await (await get('/')).text();
    expect(home).to.include('href="/tickets"');
    const response = await get('/tickets');
    expect(response.status).to.equal(200);
    const html = await response.text();
    expect(html).to.include(`href="/tickets/${ticket.id}"`);
    expect(html).to.include(String(ticket.values.ticket_title));
    expect(html, 'the navigation').to.match(/<nav class="crm-nav"[^]*?<a href="\/tickets">Trouble Tickets<\/a>[^]*?<\/nav>/);
  });

  it('shows a ticket: its fields, its contact, and its thread with internal comments marked', async () => {
    const response = await get(`/tickets/${ticket.id}`);
    expect(response.status).to.equal(200);
    const html = await response.text();
    expect(html).to.include(String(ticket.values.ticket_title));
    expect(html, 'the contact, by name').to.include(`<a href="/contacts/${String(ticket.values.contact_id)}">Jane Doe</a>`);
    const comments = await api.records.comments('HelpDesk', ticket.id, { includeInternal: true });
    expect(comments.length, 'the demo ticket has comments').to.be.greaterThan(0);
    for (const comment of comments) expect(html).to.include(`id="comment-${comment.id}"`);
    const internal = comments.filter((c) => c.internal).map((c) => c.id);
    const marked = [...html.matchAll(/id="comment-(\d+)"[^>]*data-internal/g)].map((m) => Number(m[1]));
    expect(marked).to.have.members(internal);
    expect(html).to.include('name="internal"');
  });

  it('a public comment is added as the CRM user and mails the customer the reply', async () => {
    const since = mailbox.received.length;
    const response = await addComment({ body: 'We replaced the <b>toner</b>: please try again.' });
    expect(response.status).to.equal(303);
    const [added] = await api.records.comments('HelpDesk', ticket.id, { includeInternal: true, newest: { limit: 1 } });
    expect(added).to.include({ body: 'We replaced the <b>toner</b>: please try again.', internal: false });
    expect(added!.author).to.deep.equal({ kind: 'user', userId: (await api.users.users()).find((u) => u.userName === 'admin')!.id });
    expect(response.headers.get('location')).to.equal(`/tickets/${ticket.id}#comment-${added!.id}`);
    const mail = await mailbox.waitFor(JANE, { since });
    expect(mail.text).to.include('We replaced the <b>toner</b>: please try again.');
    const page = await (await get(`/tickets/${ticket.id}`)).text();
    expect(page).to.include('We replaced the &lt;b&gt;toner&lt;/b&gt;: please try again.');
  });

  it('an internal comment mails nobody and never shows on the portal, but shows in the CRM, marked', async () => {
    const canary = `Internal canary ${Date.now()}`;
    const since = mailbox.received.length;
    const response = await addComment({ body: canary, internal: 'on' });
    expect(response.status).to.equal(303);
    const [added] = await api.records.comments('HelpDesk', ticket.id, { includeInternal: true, newest: { limit: 1 } });
    expect(added).to.include({ body: canary, internal: true });
    // A public comment after it: its mail arriving shows the listeners had their turn at the internal one.
    await addComment({ body: 'A public comment after the internal one' });
    await mailbox.waitFor(JANE, { since, subject: /./ });
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const mail of mailbox.received.slice(since)) expect(`${mail.text ?? ''}${String(mail.html ?? '')}`).not.to.include(canary);
    const jane = apiClient(test, await portalLogin(test, JANE));
    const thread = await jane.get(`/modules/HelpDesk/records/${ticket.id}/comments?pageSize=100`);
    expect(thread.status).to.equal(200);
    expect(thread.text).to.include('A public comment after the internal one');
    expect(thread.text).not.to.include(canary);
    const portalPage = await fetch(`${test.url}/portal/m/HelpDesk/${ticket.id}`, { redirect: 'manual', headers: { cookie: jane.cookie } });
    expect(portalPage.status).to.equal(200);
    const portalHtml = await portalPage.text();
    expect(portalHtml).to.include('A public comment after the internal one');
    expect(portalHtml).not.to.include(canary);
    const page = await (await get(`/tickets/${ticket.id}`)).text();
    expect(page).to.match(new RegExp(`id="comment-${added!.id}"[^>]*data-internal`));
  });

  it('refuses a comment without the form token, an empty or unprintable one, or one too long, with a page that says why', async () => {
    const before = await commentsNow();
    const noToken = await post(`/tickets/${ticket.id}/comments`, { body: 'No token' });
    expect(noToken.status).to.equal(403);
    const forged = await post(`/tickets/${ticket.id}/comments`, { body: 'Forged', csrf: 'x'.repeat(43) });
    expect(forged.status).to.equal(403);
    const empty = await addComment({ body: '   ' });
    expect(empty.status).to.equal(400);
    expect(await empty.text()).to.include('Write a comment before adding it.');
    const control = await addComment({ body: 'Nul \u0000 here', internal: 'on' });
    expect(control.status).to.equal(400);
    const controlHtml = await control.text();
    expect(controlHtml).to.include('The comment holds characters that are not text.');
    expect(controlHtml, 'what the admin typed stays in the form').to.match(/<textarea[^>]*>Nul \u0000 here<\/textarea>/);
    expect(controlHtml, 'and the checkbox stays ticked').to.match(/name="internal"[^>]*checked/);
    const long = await addComment({ body: 'x'.repeat(100_001) });
    expect(long.status).to.equal(400);
    expect(await long.text()).to.include('The comment is longer than 100000 characters.');
    const huge = await addComment({ body: 'x'.repeat(2_000_000) });
    expect(huge.status).to.equal(413);
    expect(await commentsNow()).to.equal(before);
  });

  it('lets any signed-in CRM user comment, as themselves', async () => {
    await new SqlUserDirectory(api.database.sequelize).setPassword('tom.support', 'Agent-test-password-1');
    const agent = await crmLogin(test.url, 'tom.support', 'Agent-test-password-1');
    const page = await (await get(`/tickets/${ticket.id}`, agent)).text();
    const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    expect((await post(`/tickets/${ticket.id}/comments`, { csrf: await csrfOf(`/tickets/${ticket.id}`), body: "The admin's token" }, agent)).status, "another session's token").to.equal(403);
    expect((await post(`/tickets/${ticket.id}/comments`, { csrf: token, body: 'From the support agent' }, agent)).status).to.equal(303);
    const [added] = await api.records.comments('HelpDesk', ticket.id, { includeInternal: true, newest: { limit: 1 } });
    expect(added).to.include({ body: 'From the support agent', authorName: 'Tom Walker' });
  });

  it('answers 404 for tickets that do not exist, and sends anonymous visitors to the login', async () => {
    for (const path of ['/tickets/999999', '/tickets/abc', '/tickets/2147483648', '/tickets/1e3']) expect((await get(path)).status, path).to.equal(404);
    const token = await csrfOf(`/tickets/${ticket.id}`);
    expect((await post('/tickets/999999/comments', { csrf: token, body: 'Nowhere' })).status).to.equal(404);
    expect((await get('/tickets?page=abc')).status).to.equal(200);
    const anonymous = await get(`/tickets/${ticket.id}`, '');
    expect(anonymous.status).to.equal(303);
    expect(anonymous.headers.get('location')).to.equal(`/login?returnTo=${encodeURIComponent(`/tickets/${ticket.id}`)}`);
    expect((await post(`/tickets/${ticket.id}/comments`, { body: 'Anonymous' }, '')).status).to.equal(303);
  });
});
