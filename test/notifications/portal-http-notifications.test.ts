/**
 * Ticket notifications end to end over HTTP: a customer opens a ticket and comments through the
 * portal's JSON API; the customer and the owner get their mails on a real SMTP server on
 * loopback, the customer's own comment is never mailed back, and a failing SMTP server never
 * turns a ticket creation into an error.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { apiClient, JANE, portalLogin, type ApiClient } from '../portal-api/api-test-kit.js';
import { profileService } from '../profiles/profile-test-kit.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { startRefusingSmtp, type ScriptedSmtp } from '../support/scripted-smtp.js';

async function ownerEmail(api: HostApi): Promise<string> {
  const service = profileService(api);
  const profile = (await service.list()).find((p) => p.isDefault)!;
  const owner = (await service.document(profile.id)).general.owner;
  if (owner?.kind !== 'user') throw new Error('the demo profile has no owner user');
  return (await api.users.user(owner.id))!.email;
}

describe('ticket notifications over the portal API @db', function () {
  this.timeout(30_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let jane: ApiClient;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ demo: true, smtpUrl: mailbox.url });
    jane = apiClient(test, await portalLogin(test, JANE));
  });

  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  it('a ticket opened through the API mails the customer and the owner', async () => {
    const since = mailbox.received.length;
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Opened over HTTP', description: 'Through the API' } });
    expect(created.status, created.text).to.equal(201);
    const customer = await mailbox.waitFor(JANE, { since, subject: /Opened over HTTP/ });
    expect(customer.text).to.include('Dear Jane,');
    const owner = await mailbox.waitFor(await ownerEmail(test.host.api), { since, subject: /Opened over HTTP/ });
    expect(owner.text).to.include('Through the API');
  });

  it('the customer’s own comment is not mailed back; a CRM user’s reply is', async () => {
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Conversation' } });
    expect(created.status).to.equal(201);
    const id = created.body.id as number;
    await mailbox.waitFor(JANE, { subject: /Conversation/ });
    const since = mailbox.received.length;
    const own = await jane.send('POST', `/modules/HelpDesk/records/${id}/comments`, { body: 'MY-OWN-WORDS-FROM-THE-PORTAL' });
    expect(own.status, own.text).to.equal(201);
    const support = (await test.host.api.users.users()).find((u) => u.userName === 'tom.support')!;
    await test.host.api.records.addComment('HelpDesk', id, { body: 'Support answers', internal: false }, { actor: { kind: 'user', userId: support.id } });
    const reply = await mailbox.waitFor(JANE, { since });
    expect(reply.text).to.include('Support answers');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const mail of mailbox.received.slice(since)) expect(`${mail.subject}\n${mail.text}`).not.to.include('MY-OWN-WORDS-FROM-THE-PORTAL');
  });
});

describe('a failing SMTP server and the portal API @db', function () {
  this.timeout(30_000);
  let test: TestHost;
  let smtp: ScriptedSmtp;

  before(async () => {
    smtp = await startRefusingSmtp(451, 'Service unavailable');
    test = await startTestHost({ demo: true, smtpUrl: smtp.url });
  });

  after(async () => {
    await test?.stop();
    await smtp?.close();
  });

  it('answers 201 and keeps the ticket although every mail fails', async () => {
    const jane = apiClient(test, await portalLogin(test, JANE));
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Mail server down' } });
    expect(created.status, created.text).to.equal(201);
    const deadline = Date.now() + 10_000;
    while (smtp.attempts < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(smtp.attempts, 'the customer and owner mails were tried').to.be.at.least(2);
    const read = await jane.get(`/modules/HelpDesk/records/${created.body.id}`);
    expect(read.status).to.equal(200);
    expect(read.body.values.ticket_title).to.equal('Mail server down');
  });
});
