/**
 * A portal form sent twice does its work once: a double tap, a reload that
 * resends. Each page form carries a one-time value (`_once`); the same form sent again — one after
 * the other or at the same moment — leads to what the first made, with a calm notice, and makes no
 * duplicate: a ticket, a comment, a file, an edit (not "changed meanwhile"), a delete ("already
 * deleted", not the 404), "OK, resolved". The value is the customer's own: another customer
 * sending it gets their own work done, never the first's result. A post without one is served as
 * before, and the CSRF check stays in front.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { startMailbox, tokenIn, type Mailbox, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { DEMO_PASSWORD, JANE, MARIO, changeDefaultModule, recordIdsIn, signedIn } from './portal-pages-kit.js';

/** The one-time value of a page's forms. */
function onceIn(html: string): string {
  const value = /name="_once" value="([^"]+)"/.exec(html)?.[1];
  if (!value) throw new Error('no one-time value in the page');
  return value;
}

describe('portal pages: a form sent twice does its work once @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let mario: PortalClient;
  let mailbox: Mailbox;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ demo: true, logLevel: 'error', smtpUrl: mailbox.url });
    await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, delete: true }));
    jane = await signedIn(test, JANE);
    mario = await signedIn(test, MARIO);
  });
  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  const ticketsTitled = async (title: string) => (await test.host.records.query('HelpDesk', { where: { field: 'ticket_title', op: 'eq', value: title }, limit: 10 })).rows.map((r) => r.id);
  const commentsSaying = async (id: number, body: string) => (await test.host.records.comments('HelpDesk', id, { includeInternal: true })).filter((c) => c.body === body).length;
  const pathOf = (response: Response) => response.headers.get('location')!.replace('/portal', '');

  async function newTicket(client: PortalClient, title: string): Promise<number> {
    const form = await client.get('/m/HelpDesk/new');
    const created = await client.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), _once: onceIn(form.html), ticket_title: title });
    expect(created.response.status).to.equal(303);
    return Number(/\/m\/HelpDesk\/(\d+)/.exec(pathOf(created.response))![1]);
  }

  it('creates one ticket when its form is sent twice, and leads the second to it with a notice', async () => {
    const form = await jane.get('/m/HelpDesk/new');
    expect(form.html).to.match(/name="_once" value="[A-Za-z0-9_-]{22}"/);
    const fields = { _csrf: tokenIn(form.html), _once: onceIn(form.html), ticket_title: 'Sent twice by a double tap' };
    const first = await jane.post('/m/HelpDesk/new', fields);
    const second = await jane.post('/m/HelpDesk/new', fields);
    expect(first.response.status).to.equal(303);
    expect(second.response.status).to.equal(303);
    const ids = await ticketsTitled('Sent twice by a double tap');
    expect(ids).to.have.length(1);
    expect(first.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${ids[0]}?notice=created`);
    expect(second.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${ids[0]}?notice=again`);
    const page = await jane.get(pathOf(second.response));
    expect(page.response.status).to.equal(200);
    expect(page.html).to.include('You had already sent this form: it was done once, and here is the result.');
  });

  it('creates one ticket when the form is sent twice at the same moment', async () => {
    const form = await jane.get('/m/HelpDesk/new');
    const fields = { _csrf: tokenIn(form.html), _once: onceIn(form.html), ticket_title: 'Sent twice at once' };
    const answers = await Promise.all([1, 2, 3].map(() => jane.post('/m/HelpDesk/new', fields)));
    const ids = await ticketsTitled('Sent twice at once');
    expect(ids).to.have.length(1);
    for (const answer of answers) {
      expect(answer.response.status, answer.html.slice(0, 300)).to.equal(303);
      expect(answer.response.headers.get('location')).to.match(new RegExp(`^/portal/m/HelpDesk/${ids[0]}\\?notice=(created|again)$`));
    }
    expect(answers.filter((a) => a.response.headers.get('location')!.endsWith('notice=created'))).to.have.length(1);
  });

  it('says it in Italian on an Italian page', async () => {
    const mario = await signedIn(test, MARIO, 'it');
    const form = await mario.get('/m/HelpDesk/new');
    const fields = { _csrf: tokenIn(form.html), _once: onceIn(form.html), ticket_title: 'Inviato due volte' };
    await mario.post('/m/HelpDesk/new', fields);
    const again = await mario.post('/m/HelpDesk/new', fields);
    expect((await ticketsTitled('Inviato due volte'))).to.have.length(1);
    const page = await mario.get(pathOf(again.response));
    expect(page.html).to.include('Avevi già inviato questo modulo: è stato eseguito una volta sola, ed ecco il risultato.');
  });

  it('never gives one customer what another’s form made: the value is theirs alone', async () => {
    const form = await jane.get('/m/HelpDesk/new');
    const once = onceIn(form.html);
    const janes = await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), _once: once, ticket_title: 'Same value, two customers' });
    const marioForm = await mario.get('/m/HelpDesk/new');
    const marios = await mario.post('/m/HelpDesk/new', { _csrf: tokenIn(marioForm.html), _once: once, ticket_title: 'Same value, two customers' });
    expect(marios.response.status).to.equal(303);
    expect(marios.response.headers.get('location')).to.match(/\?notice=created$/);
    expect(pathOf(marios.response)).not.to.equal(pathOf(janes.response));
    expect(await ticketsTitled('Same value, two customers')).to.have.length(2);
  });

  it('serves a post without a value as before, and a forged CSRF token is refused as before', async () => {
    const form = await jane.get('/m/HelpDesk/new');
    const fields = { _csrf: tokenIn(form.html), ticket_title: 'No one-time value' };
    await jane.post('/m/HelpDesk/new', fields);
    await jane.post('/m/HelpDesk/new', fields);
    expect(await ticketsTitled('No one-time value')).to.have.length(2);
    for (const once of ['', 'short', 'x'.repeat(500)]) {
      const odd = await jane.post('/m/HelpDesk/new', { ...fields, _once: once, ticket_title: `Odd value ${once.length}` });
      expect(odd.response.status).to.equal(303);
    }
    const forged = await jane.post('/m/HelpDesk/new', { _csrf: 'forged', _once: onceIn(form.html), ticket_title: 'Forged token' });
    expect(forged.response.status).to.equal(403);
    expect(await ticketsTitled('Forged token')).to.have.length(0);
  });

  it('adds one comment when its form is sent twice, one after the other or at once; another text from the same page is a new comment', async () => {
    const id = await newTicket(jane, 'Comments sent twice');
    const page = await jane.get(`/m/HelpDesk/${id}`);
    const fields = { _csrf: tokenIn(page.html), _once: onceIn(page.html), body: 'Is there any news?' };
    const first = await jane.post(`/m/HelpDesk/${id}/comments`, fields);
    const again = await jane.post(`/m/HelpDesk/${id}/comments`, fields);
    expect(first.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=commented#bp-comments`);
    expect(again.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=again#bp-comments`);
    expect(await commentsSaying(id, 'Is there any news?')).to.equal(1);

    const page2 = await jane.get(`/m/HelpDesk/${id}`);
    const together = { _csrf: tokenIn(page2.html), _once: onceIn(page2.html), body: 'Sent at the same moment' };
    await Promise.all([1, 2, 3].map(() => jane.post(`/m/HelpDesk/${id}/comments`, together)));
    expect(await commentsSaying(id, 'Sent at the same moment')).to.equal(1);

    // Back, another text, send: a new comment.
    const other = await jane.post(`/m/HelpDesk/${id}/comments`, { ...together, body: 'A second thought' });
    expect(other.response.headers.get('location')).to.match(/notice=commented/);
    expect(await commentsSaying(id, 'A second thought')).to.equal(1);
  });

  it('lets a refused comment be corrected and sent with the same value', async () => {
    const id = await newTicket(jane, 'Refused then sent');
    const page = await jane.get(`/m/HelpDesk/${id}`);
    const fields = { _csrf: tokenIn(page.html), _once: onceIn(page.html) };
    const refused = await jane.post(`/m/HelpDesk/${id}/comments`, { ...fields, body: '   ' });
    expect(refused.response.status).to.equal(422);
    const refusedAgain = await jane.post(`/m/HelpDesk/${id}/comments`, { ...fields, body: '   ' });
    expect(refusedAgain.response.status).to.equal(422);
    const sent = await jane.post(`/m/HelpDesk/${id}/comments`, { ...fields, body: 'Now with words' });
    expect(sent.response.headers.get('location')).to.match(/notice=commented/);
    expect(await commentsSaying(id, 'Now with words')).to.equal(1);
  });

  it('attaches one file when the upload is sent twice', async () => {
    const id = await newTicket(jane, 'Upload sent twice');
    const page = await jane.get(`/m/HelpDesk/${id}`);
    const send = async () => {
      const form = new FormData();
      form.set('_csrf', tokenIn(page.html));
      form.set('_once', onceIn(page.html));
      form.set('file', new Blob(['error log\n'], { type: 'text/plain' }), 'log.txt');
      const response = await fetch(`${test.url}/portal/m/HelpDesk/${id}/documents`, { method: 'POST', redirect: 'manual', headers: { cookie: jane.cookieHeader() }, body: form });
      await response.text();
      return response;
    };
    const first = await send();
    const again = await send();
    expect(first.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=uploaded#bp-documents`);
    expect(again.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=again#bp-documents`);
    await Promise.all([send(), send()]);
    expect(await test.host.records.documents('HelpDesk', id)).to.have.length(1);
  });

  it('saves an edit sent twice without saying someone changed the record meanwhile', async () => {
    const id = await newTicket(jane, 'Edit sent twice');
    const form = await jane.get(`/m/HelpDesk/${id}/edit`);
    const version = /name="version" value="(\d+)"/.exec(form.html)![1]!;
    const fields = { _csrf: tokenIn(form.html), _once: onceIn(form.html), version, ticket_title: 'Edit sent twice, saved' };
    const first = await jane.post(`/m/HelpDesk/${id}/edit`, fields);
    const again = await jane.post(`/m/HelpDesk/${id}/edit`, fields);
    expect(first.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=saved`);
    expect(again.response.status, again.html.slice(0, 200)).to.equal(303);
    expect(again.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=again`);
  });

  it('says a delete sent twice deleted the record already, not the 404', async () => {
    const id = await newTicket(jane, 'Delete sent twice');
    const confirm = await jane.get(`/m/HelpDesk/${id}/delete`);
    const fields = { _csrf: tokenIn(confirm.html), _once: onceIn(confirm.html), version: /name="version" value="(\d+)"/.exec(confirm.html)![1]! };
    const first = await jane.post(`/m/HelpDesk/${id}/delete`, fields);
    const again = await jane.post(`/m/HelpDesk/${id}/delete`, fields);
    expect(first.response.headers.get('location')).to.equal('/portal/m/HelpDesk?notice=deleted');
    expect(again.response.status).to.equal(303);
    expect(again.response.headers.get('location')).to.equal('/portal/m/HelpDesk?notice=alreadyDeleted');
    const list = await jane.get(pathOf(again.response));
    expect(list.response.status).to.equal(200);
    expect(list.html).to.include('The record was already deleted: you had sent this form before.');
    expect(recordIdsIn(list.html, 'HelpDesk')).not.to.include(id);
  });

  it('closes a ticket once when "OK, resolved" is sent twice', async () => {
    const id = await newTicket(jane, 'Resolve sent twice');
    const page = await jane.get(`/m/HelpDesk/${id}`);
    const fields = { _csrf: tokenIn(page.html), _once: onceIn(page.html) };
    const first = await jane.post(`/m/HelpDesk/${id}/resolve`, fields);
    const again = await jane.post(`/m/HelpDesk/${id}/resolve`, fields);
    expect(first.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=resolved`);
    expect(again.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=again`);
  });

  // Last: the change ends the customer's other sessions.
  it('changes the password once when its form is sent twice at the same moment', async () => {
    const client = await signedIn(test, MARIO);
    const form = await client.get('/account/password');
    const fields = { _csrf: tokenIn(form.html), _once: onceIn(form.html), currentPassword: DEMO_PASSWORD, newPassword: 'Cambiata-due-volte-7', confirmPassword: 'Cambiata-due-volte-7' };
    const since = mailbox.received.length;
    const answers = await Promise.all([1, 2].map(() => client.post('/account/password', fields)));
    for (const answer of answers) {
      expect(answer.response.status, answer.html.match(/role="alert"[^>]*>[^<]*/)?.[0]).to.equal(303);
      expect(answer.response.headers.get('location')).to.equal('/portal/account/password?notice=changed');
    }
    // One change, one mail saying so (two changes at once mailed twice).
    await mailbox.waitFor(MARIO, { since, subject: /password/i });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mailbox.received.slice(since).filter((m) => /password/i.test(m.subject ?? ''))).to.have.length(1);
    const failures = await test.host.api.database.sequelize.query<{ failed: number }>(`SELECT failed_attempts AS failed FROM bp_portal_accounts WHERE email = :email`, { type: QueryTypes.SELECT, replacements: { email: MARIO } });
    expect(Number(failures[0]?.failed ?? 0), 'no wrong current password counted').to.equal(0);
  });
});
