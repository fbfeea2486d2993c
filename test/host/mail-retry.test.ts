/**
 * Mail that meets a mail server failing for the moment (a 4xx answer, a refused connection) is
 * kept in `crm_mail_queue` and tried again, through the same route, with the same Message-ID,
 * by whichever host process finds it due first — once. A permanent refusal (5xx) and a mail the
 * caller asks not to retry (`retry: false`, a two-factor code) still throw.
 */
import { createServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { openDatabase } from '../../host/database.js';
import { SmtpMail } from '../../host/mail/smtp-mail.js';
import { hostMigrator } from '../../host/schema/migrate.js';
import { toIsoString } from '../../host/schema/row-values.js';
import type { HostApi, MailMessage } from '../../plugin/host-contract/index.js';
import { apiClient, JANE, MARIO, portalLogin } from '../portal-api/api-test-kit.js';
import { runHostMigrationAgain, scratchDatabase } from '../support/database.js';
import { crmLogin, startSecondHost, startTestHost, TEST_ADMIN_PASSWORD, type TestHost } from '../support/host.js';
import { startScriptedSmtp, type ScriptedSmtp } from '../support/scripted-smtp.js';

const MINUTE = 60_000;

function message(subject: string): MailMessage {
  return { to: [{ address: 'jane.doe@example.com', name: 'Jane Doe' }], subject, html: `<p>${subject} body</p>`, text: `${subject} body`, language: 'en' };
}

function mailOf(test: TestHost): SmtpMail {
  const mail = test.host.api.mail;
  if (!(mail instanceof SmtpMail)) throw new Error('the reference host sends through SmtpMail');
  return mail;
}

interface QueueRow {
  message_id: string;
  route: string;
  subject: string;
  attempts: unknown;
  next_attempt_at: unknown;
  given_up_at: unknown;
  discard_after: unknown;
}

async function queued(api: HostApi): Promise<QueueRow[]> {
  return api.database.sequelize.query<QueueRow>('SELECT message_id, route, subject, attempts, next_attempt_at, given_up_at, discard_after FROM crm_mail_queue ORDER BY id', { type: QueryTypes.SELECT });
}

function later(ms: number): Date {
  return new Date(Date.now() + ms);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function recordLog(test: TestHost): string[] {
  const lines: string[] = [];
  const logger = test.host.api.logger;
  for (const level of ['info', 'warn', 'error'] as const) {
    const write = logger[level].bind(logger);
    logger[level] = (text, fields) => {
      lines.push(`${level}: ${text} ${JSON.stringify(fields ?? {})}`);
      write(text, fields);
    };
  }
  return lines;
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waited in vain');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('mail retry: a mail server failing for the moment @db', function () {
  this.timeout(60_000);
  let test: TestHost;
  let smtp: ScriptedSmtp;

  beforeEach(async () => {
    smtp = await startScriptedSmtp();
    // No timer: each test runs the retries itself, at the moment it names.
    test = await startTestHost({ pluginManifests: [], smtpUrl: smtp.url, mailRetryMs: 0 });
  });
  afterEach(async () => {
    await test?.stop();
    await smtp?.close();
  });

  it('keeps a mail answered 421 and delivers it once, with the same Message-ID, when it is due', async () => {
    const api = test.host.api;
    smtp.answer(421);
    const { messageId, queued: kept } = await api.mail.send(message('Reply to your ticket'), { via: 'global' });
    expect(kept, 'the host says it keeps the mail to try again (1.10.0)').to.equal(true);
    expect(smtp.attempts).to.equal(1);
    expect(smtp.received).to.have.length(0);
    const [row] = await queued(api);
    expect(row).to.deep.include({ message_id: messageId, route: 'global', subject: 'Reply to your ticket' });
    expect(Number(row!.attempts)).to.equal(1);
    const next = new Date(toIsoString(row!.next_attempt_at)).getTime();
    expect(next - Date.now()).to.be.within(50_000, 61_000);

    await mailOf(test).retryDue();
    expect(smtp.attempts, 'not due yet').to.equal(1);
    await mailOf(test).retryDue(later(MINUTE + 1000));
    expect(smtp.received).to.have.length(1);
    const [mail] = smtp.received;
    expect(mail!.messageId).to.equal(messageId);
    expect(mail!.subject).to.equal('Reply to your ticket');
    expect(mail!.text?.trim()).to.equal('Reply to your ticket body');
    expect(mail!.headers.get('content-language')).to.equal('en');
    expect(await queued(api)).to.deep.equal([]);
    await mailOf(test).retryDue(later(60 * MINUTE));
    expect(smtp.received, 'delivered once').to.have.length(1);
    expect((await api.mail.send(message('Taken at once'), { via: 'global' })).queued, 'taken by the server').to.equal(false);
  });

  it('keeps 450, 451, 452 and a refused connection too, and retries each through its own route', async () => {
    const api = test.host.api;
    const personal = await startScriptedSmtp();
    try {
      const [sara] = await api.database.sequelize.query<{ id: unknown }>("SELECT id FROM crm_users WHERE user_name = 'sara.support'", { type: QueryTypes.SELECT });
      const saraId = Number(sara!.id);
      await api.database.sequelize.getQueryInterface().bulkInsert('crm_mail_accounts', [
        { user_id: saraId, smtp_url: `smtp://127.0.0.1:${await closedPort()}`, from_address: 'sara@example.com', from_name: 'Sara Bianchi', created_at: new Date(), updated_at: new Date() },
      ]);
      smtp.answer(450, 451, 452);
      for (const code of [450, 451, 452]) await api.mail.send(message(`Answered ${code}`), { via: 'global' });
      await api.mail.send(message('Sara’s server is down'), { via: 'user', userId: saraId });
      expect((await queued(api)).map((row) => [row.subject, row.route])).to.deep.equal([
        ['Answered 450', 'global'],
        ['Answered 451', 'global'],
        ['Answered 452', 'global'],
        ['Sara’s server is down', `user:${saraId}`],
      ]);

      // Sara's server is back (at a new address).
      await api.database.sequelize.query('UPDATE crm_mail_accounts SET smtp_url = :url WHERE user_id = :id', { replacements: { url: personal.url, id: saraId } });
      await mailOf(test).retryDue(later(MINUTE + 1000));
      expect(smtp.received.map((mail) => mail.subject)).to.deep.equal(['Answered 450', 'Answered 451', 'Answered 452']);
      expect(personal.received.map((mail) => [mail.subject, mail.from?.value[0]?.address])).to.deep.equal([['Sara’s server is down', 'sara@example.com']]);
      expect(await queued(api)).to.deep.equal([]);
    } finally {
      await personal.close();
    }
  });

  it('throws for a permanent refusal (550) and keeps nothing', async () => {
    smtp.answer(550);
    const refused = await test.host.api.mail.send(message('Mailbox unavailable'), { via: 'global' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(Error);
    expect(await queued(test.host.api)).to.deep.equal([]);
  });

  it('throws for a mail not to be retried (retry: false: a two-factor code) and keeps nothing', async () => {
    smtp.answer(421);
    const refused = await test.host.api.mail.send({ ...message('Your code'), retry: false }, { via: 'global' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(Error);
    expect(smtp.attempts).to.equal(1);
    expect(await queued(test.host.api)).to.deep.equal([]);
  });

  it('gives up a queued mail once its discardAfter has passed, unsent, with one log line naming its Message-ID, never its content (1.10.0)', async () => {
    const api = test.host.api;
    const log = recordLog(test);
    smtp.answer(421);
    const discardAfter = later(10 * MINUTE);
    const { messageId } = await api.mail.send({ ...message('Reset link 5c1e'), discardAfter: discardAfter.toISOString() }, { via: 'global' });
    const [kept] = await queued(api);
    expect(kept!.message_id).to.equal(messageId);
    // Kept to the second, never later than asked.
    expect(new Date(toIsoString(kept!.discard_after)).getTime()).to.equal(Math.floor(discardAfter.getTime() / 1000) * 1000);

    // The server answers again only after the link in the mail has expired: the mail is not sent.
    await mailOf(test).retryDue(new Date(discardAfter.getTime() + 1000));
    expect(smtp.attempts, 'not offered again').to.equal(1);
    expect(smtp.received).to.have.length(0);
    const [row] = await queued(api);
    expect(row!.next_attempt_at).to.equal(null);
    expect(row!.given_up_at).to.not.equal(null);
    const lines = log.filter((line) => line.includes('given up'));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include(messageId);
    for (const line of log) expect(line).not.to.match(/Reset link|5c1e|jane\.doe|body/);
    await mailOf(test).retryDue(new Date(discardAfter.getTime() + 2 * 60 * MINUTE));
    expect(smtp.attempts).to.equal(1);
  });

  it('still delivers a queued mail tried before its discardAfter', async () => {
    smtp.answer(421);
    const { messageId } = await test.host.api.mail.send({ ...message('Unlock link'), discardAfter: later(30 * MINUTE).toISOString() }, { via: 'global' });
    await mailOf(test).retryDue(later(MINUTE + 1000));
    expect(smtp.received.map((mail) => mail.messageId)).to.deep.equal([messageId]);
    expect(await queued(test.host.api)).to.deep.equal([]);
  });

  it('gives up a mail whose next try would come after its discardAfter at once, rather than keep it to no end', async () => {
    const api = test.host.api;
    // Kept at the first failure (the next try, a minute later, is before the end) …
    smtp.answer(421, 421);
    const sent = Date.now();
    await api.mail.send({ ...message('Code valid 2 minutes'), discardAfter: new Date(sent + 2 * MINUTE).toISOString() }, { via: 'global' });
    expect(await queued(api)).to.have.length(1);
    // … then the second try fails as well, and the third would come 2 minutes later, past the end.
    await mailOf(test).retryDue(new Date(sent + MINUTE + 1000));
    expect(smtp.attempts).to.equal(2);
    const [row] = await queued(api);
    expect(row!.given_up_at).to.not.equal(null);
    expect(row!.next_attempt_at).to.equal(null);

    // A mail that could not be tried again before its end is never kept: send throws, as for retry: false.
    smtp.answer(421);
    const refused = await api.mail.send({ ...message('Dead in 30 s'), discardAfter: later(30_000).toISOString() }, { via: 'global' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(Error);
    expect(await queued(api)).to.have.length(1);
  });

  it('refuses a discardAfter that is not a time', async () => {
    const refused = await test.host.api.mail.send({ ...message('Bad time'), discardAfter: 'tomorrow-ish' }, { via: 'global' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(Error);
    expect(smtp.attempts).to.equal(0);
  });

  it('waits 1, 2, 4 … minutes between tries, then gives up after 24 h with one error line naming the message id, never its content', async () => {
    const api = test.host.api;
    const log = recordLog(test);
    smtp.answer(...Array<number>(40).fill(421));
    const sent = Date.now();
    const { messageId } = await api.mail.send(message('Secret subject 7f3a'), { via: 'global' });
    const waits: number[] = [];
    let previous = sent;
    for (let attempt = 2; attempt <= 4; attempt++) {
      const [row] = await queued(api);
      const next = new Date(toIsoString(row!.next_attempt_at)).getTime();
      waits.push(Math.round((next - previous) / MINUTE));
      await mailOf(test).retryDue(new Date(next + 1000));
      previous = next + 1000;
      expect(Number((await queued(api))[0]!.attempts)).to.equal(attempt);
    }
    expect(waits).to.deep.equal([1, 2, 4]);

    await mailOf(test).retryDue(new Date(sent + 25 * 60 * MINUTE));
    const [row] = await queued(api);
    expect(row!.next_attempt_at, 'not tried again').to.equal(null);
    expect(row!.given_up_at).to.not.equal(null);
    const attempts = smtp.attempts;
    await mailOf(test).retryDue(new Date(sent + 26 * 60 * MINUTE));
    expect(smtp.attempts).to.equal(attempts);

    // An admin sees it on the outbox page, escaped, with the server's last answer.
    await api.mail.send(message('<b>Waiting</b>'), { via: 'global' });
    const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    const page = await (await fetch(`${test.url}/outbox`, { headers: { cookie: admin } })).text();
    expect(page).to.include('Waiting to be tried again').and.to.include('Given up').and.to.include('Secret subject 7f3a');
    expect(page).to.include('&lt;b&gt;Waiting&lt;/b&gt;').and.not.to.include('<b>Waiting</b>');
    expect(page).to.include('421 Refused for the test');
    // This host has a mail server: the outbox does not say it has none.
    expect(page).not.to.include('no SMTP server is configured');
    expect(page).to.include('Mail kept while no SMTP server was configured');

    const errors = log.filter((line) => line.startsWith('error:'));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include(messageId);
    for (const line of log) expect(line).not.to.match(/Secret subject|7f3a|jane\.doe|body/);
  });

  /** A mail given up after 24 hours of 421s; answers its Message-ID and the row's id. */
  async function givenUp(subject: string): Promise<{ messageId: string; id: number }> {
    const api = test.host.api;
    // Refused at the first try and at the one a day later: given up, and the server accepts again.
    smtp.answer(421, 421);
    const { messageId } = await api.mail.send(message(subject), { via: 'global' });
    await mailOf(test).retryDue(later(25 * 60 * MINUTE));
    const [row] = await api.database.sequelize.query<{ id: unknown; given_up_at: unknown }>('SELECT id, given_up_at FROM crm_mail_queue WHERE message_id = :messageId', {
      type: QueryTypes.SELECT,
      replacements: { messageId },
    });
    expect(row!.given_up_at).to.not.equal(null);
    return { messageId, id: Number(row!.id) };
  }

  function outboxForm(page: string, id: number, action: 'send-again' | 'delete'): { csrf: string } | null {
    const form = new RegExp(`<form[^>]*action="/outbox/queue/${id}/${action}"[\\s\\S]*?</form>`).exec(page)?.[0];
    if (!form) return null;
    return { csrf: /name="csrf" value="([^"]+)"/.exec(form)![1]! };
  }

  it('lets a CRM admin send a given-up mail again: a CSRF-protected POST puts it back into the queue, and it is delivered', async () => {
    const api = test.host.api;
    const { messageId, id } = await givenUp('Given up, then sent again');
    const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    const page = await (await fetch(`${test.url}/outbox`, { headers: { cookie: admin } })).text();
    const form = outboxForm(page, id, 'send-again');
    expect(form, 'a Send again button for the given-up mail').to.not.equal(null);
    expect(outboxForm(page, id, 'delete'), 'a Delete button too').to.not.equal(null);

    const post = (body: Record<string, string>, cookie = admin) =>
      fetch(`${test.url}/outbox/queue/${id}/send-again`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(body).toString() });
    expect((await post({})).status, 'no token').to.equal(403);
    expect((await post({ csrf: 'forged' })).status, 'a wrong token').to.equal(403);
    expect((await post({ csrf: form!.csrf }, '')).status, 'anonymous: to the login').to.equal(303);
    expect((await queued(api))[0]!.given_up_at, 'unchanged').to.not.equal(null);

    const sent = await post({ csrf: form!.csrf });
    expect(sent.status).to.equal(303);
    expect(sent.headers.get('location')).to.equal('/outbox');
    const [row] = await queued(api);
    expect(row!.given_up_at).to.equal(null);
    expect(row!.next_attempt_at).to.not.equal(null);
    await mailOf(test).retryDue(later(1000));
    expect(smtp.received.map((mail) => mail.messageId)).to.deep.equal([messageId]);
    expect(await queued(api)).to.deep.equal([]);
  });

  it('lets a CRM admin delete a given-up mail (CSRF-protected POST), and leaves mail still waiting alone', async () => {
    const api = test.host.api;
    const { id } = await givenUp('Given up, then deleted');
    smtp.answer(421);
    const { messageId: waiting } = await api.mail.send(message('Still waiting'), { via: 'global' });
    const [waitingRow] = await api.database.sequelize.query<{ id: unknown }>('SELECT id FROM crm_mail_queue WHERE message_id = :waiting', { type: QueryTypes.SELECT, replacements: { waiting } });
    const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    const page = await (await fetch(`${test.url}/outbox`, { headers: { cookie: admin } })).text();
    expect(outboxForm(page, Number(waitingRow!.id), 'delete'), 'no button for mail still waiting').to.equal(null);
    const form = outboxForm(page, id, 'delete')!;
    const remove = (target: number, csrf: string) =>
      fetch(`${test.url}/outbox/queue/${target}/delete`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: admin }, body: new URLSearchParams({ csrf }).toString() });
    expect((await remove(id, 'stale')).status).to.equal(403);
    expect((await remove(id, form.csrf)).status).to.equal(303);
    expect((await remove(Number(waitingRow!.id), form.csrf)).status, 'mail still waiting is not deleted').to.equal(303);
    expect((await queued(api)).map((row) => row.message_id)).to.deep.equal([waiting]);
    const after = await (await fetch(`${test.url}/outbox`, { headers: { cookie: admin } })).text();
    expect(after).not.to.include('Given up, then deleted');
  });

  it('offers no Send again for a given-up mail whose link has expired, and refuses to put it back', async () => {
    const api = test.host.api;
    smtp.answer(421);
    await api.mail.send({ ...message('Dead reset link'), discardAfter: later(10 * MINUTE).toISOString() }, { via: 'global' });
    await mailOf(test).retryDue(later(11 * MINUTE));
    // Eleven minutes on, as the retry saw them: the link is dead by the clock the page reads too.
    await api.database.sequelize.query('UPDATE crm_mail_queue SET discard_after = :past', { replacements: { past: later(-MINUTE) } });
    const [row] = await api.database.sequelize.query<{ id: unknown }>('SELECT id FROM crm_mail_queue', { type: QueryTypes.SELECT });
    const id = Number(row!.id);
    const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    const page = await (await fetch(`${test.url}/outbox`, { headers: { cookie: admin } })).text();
    expect(outboxForm(page, id, 'send-again')).to.equal(null);
    const form = outboxForm(page, id, 'delete');
    expect(form).to.not.equal(null);
    const again = await fetch(`${test.url}/outbox/queue/${id}/send-again`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: admin },
      body: new URLSearchParams({ csrf: form!.csrf }).toString(),
    });
    expect(again.status).to.equal(303);
    expect((await queued(api))[0]!.given_up_at, 'still given up').to.not.equal(null);
  });

  it('keeps and delivers a mail whose subject is longer than 1,000 characters', async () => {
    const subject = `Long subject ${'x'.repeat(1500)}`;
    smtp.answer(421);
    const { messageId } = await test.host.api.mail.send(message(subject), { via: 'global' });
    expect((await queued(test.host.api))[0]!.subject).to.equal(subject);
    await mailOf(test).retryDue(later(MINUTE + 1000));
    expect(smtp.received.map((mail) => [mail.messageId, mail.subject])).to.deep.equal([[messageId, subject]]);
  });

  it('leaves what a stopped host kept for the next host to start, which delivers it once by its timer', async () => {
    const api = test.host.api;
    const stopped = await startSecondHost(test, { mailRetryMs: 0 });
    smtp.answer(421);
    const { messageId } = await stopped.host.api.mail.send(message('Kept over a restart'), { via: 'global' });
    await stopped.stop();
    expect((await queued(api)).map((row) => row.message_id)).to.deep.equal([messageId]);
    await api.database.sequelize.query('UPDATE crm_mail_queue SET next_attempt_at = :now', { replacements: { now: new Date(Date.now() - 1000) } });

    const next = await startSecondHost(test, { mailRetryMs: 100 });
    try {
      await until(() => smtp.received.length > 0);
      await until(async () => (await queued(api)).length === 0);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(smtp.received.map((mail) => mail.messageId)).to.deep.equal([messageId]);
    } finally {
      await next.stop();
    }
  });

  it('delivers each queued mail once while two host processes retry at the same moment', async () => {
    const api = test.host.api;
    const other = await startSecondHost(test, { mailRetryMs: 0 });
    try {
      smtp.answer(...Array<number>(12).fill(421));
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push((await api.mail.send(message(`Queued ${i}`), { via: 'global' })).messageId);
      const due = later(MINUTE + 1000);
      await Promise.all([mailOf(test).retryDue(due), mailOf(other).retryDue(due), mailOf(test).retryDue(due), mailOf(other).retryDue(due)]);
      await Promise.all([mailOf(test).retryDue(due), mailOf(other).retryDue(due)]);
      expect(smtp.received.map((mail) => mail.messageId).sort()).to.deep.equal([...ids].sort());
      expect(await queued(api)).to.deep.equal([]);
    } finally {
      await other.stop();
    }
  });
});

describe('the mail queue migration @db', function () {
  this.timeout(60_000);
  const MIGRATION = '20261207213000-mail-queue';

  it('creates crm_mail_queue with its "due now" index, goes down and up again, and is safe to re-run', async () => {
    const database = await scratchDatabase();
    const db = await openDatabase(database.url);
    try {
      const qi = db.sequelize.getQueryInterface();
      const migrator = hostMigrator(db.sequelize, db.dialect);
      await migrator.up();
      const indexes = (await qi.showIndex('crm_mail_queue')) as { name: string }[];
      expect(indexes.map((index) => index.name)).to.include('crm_mail_queue_due');
      await qi.bulkInsert('crm_mail_queue', [
        { message_id: '<a@example.com>', route: 'global', from_address: 'crm@example.com', from_name: '', to_addresses: '[]', subject: 's', html: 'h', text: 't', attempts: 1, next_attempt_at: new Date(), created_at: new Date() },
      ]);
      const executed = (await migrator.executed()).map((m) => m.name);
      const before = executed[executed.indexOf(MIGRATION) - 1]!;
      await migrator.down({ to: MIGRATION });
      expect(await qi.tableExists('crm_mail_queue')).to.equal(false);
      expect(await qi.tableExists('crm_mail_outbox'), 'the earlier tables stay').to.equal(true);
      expect((await migrator.executed()).map((m) => m.name).at(-1)).to.equal(before);
      await migrator.up();
      await runHostMigrationAgain(MIGRATION, db);
      expect(await db.sequelize.query('SELECT id FROM crm_mail_queue', { type: QueryTypes.SELECT })).to.deep.equal([]);
    } finally {
      await db.sequelize.close();
      await database.drop();
    }
  });
});

describe('the mail queue’s discard_after migration @db', function () {
  this.timeout(60_000);
  const MIGRATION = '20261207300200-mail-queue-discard-after';

  it('adds discard_after, keeps the rows going down and up again, and is safe to re-run', async () => {
    const database = await scratchDatabase();
    const db = await openDatabase(database.url);
    try {
      const qi = db.sequelize.getQueryInterface();
      const migrator = hostMigrator(db.sequelize, db.dialect);
      await migrator.up();
      const row = { message_id: '<b@example.com>', route: 'global', from_address: 'crm@example.com', from_name: '', to_addresses: '[]', subject: 's', html: 'h', text: 't', attempts: 1, next_attempt_at: new Date(), created_at: new Date() };
      await qi.bulkInsert('crm_mail_queue', [{ ...row, discard_after: new Date() }]);
      await migrator.down({ to: MIGRATION });
      expect(await qi.describeTable('crm_mail_queue')).to.not.have.property('discard_after');
      expect(await db.sequelize.query('SELECT message_id FROM crm_mail_queue', { type: QueryTypes.SELECT })).to.deep.equal([{ message_id: '<b@example.com>' }]);
      await migrator.up();
      await runHostMigrationAgain(MIGRATION, db);
      const [kept] = await db.sequelize.query<{ discard_after: unknown }>('SELECT discard_after FROM crm_mail_queue', { type: QueryTypes.SELECT });
      expect(kept!.discard_after, 'the rows from before have none').to.equal(null);
    } finally {
      await db.sequelize.close();
      await database.drop();
    }
  });
});

describe('the mail subject migration @db', function () {
  this.timeout(60_000);
  const MIGRATION = '20261207300300-mail-subject-text';

  it('lets the queue and the outbox keep a subject of any length, goes down (cutting it to 1,000) and up again, and is safe to re-run', async () => {
    const database = await scratchDatabase();
    const db = await openDatabase(database.url);
    try {
      const qi = db.sequelize.getQueryInterface();
      const migrator = hostMigrator(db.sequelize, db.dialect);
      await migrator.up();
      const subject = `Subject ${'y'.repeat(20_000)}`;
      const row = { message_id: '<c@example.com>', route: 'global', from_address: 'crm@example.com', from_name: '', to_addresses: '[]', subject, html: 'h', text: 't', created_at: new Date() };
      await qi.bulkInsert('crm_mail_queue', [{ ...row, attempts: 1, next_attempt_at: new Date() }]);
      await qi.bulkInsert('crm_mail_outbox', [row]);
      const subjects = async () =>
        [
          ...(await db.sequelize.query<{ subject: string }>('SELECT subject FROM crm_mail_queue', { type: QueryTypes.SELECT })),
          ...(await db.sequelize.query<{ subject: string }>('SELECT subject FROM crm_mail_outbox', { type: QueryTypes.SELECT })),
        ].map((kept) => kept.subject);
      expect(await subjects()).to.deep.equal([subject, subject]);
      await migrator.down({ to: MIGRATION });
      // SQLite enforces no length (nothing to change there); the others cut the subject to the column's.
      const cut = db.dialect === 'sqlite' ? subject : subject.slice(0, 1000);
      expect(await subjects()).to.deep.equal([cut, cut]);
      await migrator.up();
      await runHostMigrationAgain(MIGRATION, db);
      await db.sequelize.query('UPDATE crm_mail_queue SET subject = :subject', { replacements: { subject } });
      expect((await subjects())[0]).to.equal(subject);
    } finally {
      await db.sequelize.close();
      await database.drop();
    }
  });
});

describe('mail retry: a portal ticket’s mails while the mail relay restarts @db', function () {
  this.timeout(60_000);
  let test: TestHost;
  let smtp: ScriptedSmtp;

  before(async () => {
    smtp = await startScriptedSmtp();
    test = await startTestHost({ demo: true, smtpUrl: smtp.url, mailRetryMs: 0 });
  });
  after(async () => {
    await test?.stop();
    await smtp?.close();
  });

  it('delivers the customer’s and the owner’s “new ticket” mails once the relay answers again', async () => {
    const jane = apiClient(test, await portalLogin(test, JANE));
    smtp.answer(421, 421);
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Relay restarting' } });
    expect(created.status, created.text).to.equal(201);
    await until(async () => (await queued(test.host.api)).length === 2);
    expect(smtp.received).to.have.length(0);

    await mailOf(test).retryDue(later(MINUTE + 1000));
    const recipients = smtp.received.map((mail) => (mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined));
    expect(recipients).to.have.length(2).and.to.include(JANE);
    for (const mail of smtp.received) expect(`${mail.subject}\n${mail.text}`).to.include('Relay restarting');
    expect(await queued(test.host.api)).to.deep.equal([]);
  });

  it('gives up a password-recovery mail kept past its link’s expiry instead of mailing a dead link', async () => {
    const api = test.host.api;
    smtp.answer(421);
    const asked = await fetch(`${test.url}/portal/api/v1/auth/forgot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: JANE }) });
    expect(asked.status).to.equal(202);
    await until(async () => (await queued(api)).length === 1);
    const [row] = await queued(api);
    const [token] = await api.database.sequelize.query<{ expires_at: unknown }>('SELECT expires_at FROM bp_reset_tokens ORDER BY id DESC LIMIT 1', { type: QueryTypes.SELECT });
    const expires = new Date(toIsoString(token!.expires_at)).getTime();
    expect(row!.discard_after, 'the mail says when its link dies').to.not.equal(null);
    expect(Math.abs(new Date(toIsoString(row!.discard_after)).getTime() - expires)).to.be.below(1000);

    const offered = smtp.attempts;
    await mailOf(test).retryDue(new Date(expires + 1000));
    expect(smtp.attempts, 'the dead link is not offered to the server').to.equal(offered);
    expect(smtp.received.filter((mail) => /reset-password\?token=/.test(mail.text ?? ''))).to.deep.equal([]);
    const [given] = await queued(api);
    expect(given!.given_up_at).to.not.equal(null);
    await api.database.sequelize.query('DELETE FROM crm_mail_queue');
  });

  it('keeps the lock mail’s unlock link from arriving after it expired', async () => {
    const api = test.host.api;
    smtp.answer(421);
    for (let i = 0; i < 5; i++) {
      const refused = await fetch(`${test.url}/portal/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: MARIO, password: 'Wrong-password-9' }) });
      expect(refused.status).to.equal(401);
    }
    await until(async () => (await queued(api)).length === 1);
    const [row] = await queued(api);
    const [link] = await api.database.sequelize.query<{ expires_at: unknown }>('SELECT expires_at FROM bp_unlock_links ORDER BY id DESC LIMIT 1', { type: QueryTypes.SELECT });
    const expires = new Date(toIsoString(link!.expires_at)).getTime();
    expect(row!.discard_after).to.not.equal(null);
    const discardAfter = new Date(toIsoString(row!.discard_after)).getTime();
    expect(discardAfter, 'never after the link dies').to.be.at.most(expires);
    expect(expires - discardAfter).to.be.below(2000);

    const offered = smtp.attempts;
    await mailOf(test).retryDue(new Date(expires + 1000));
    expect(smtp.attempts).to.equal(offered);
    expect((await queued(api))[0]!.given_up_at).to.not.equal(null);
  });
});
