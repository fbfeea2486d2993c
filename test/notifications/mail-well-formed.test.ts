/**
 * Every mail a customer gets from the sign-in flows, end to end through a real SMTP server on
 * loopback, in Italian and in English: the whole mail in the contact's language, From, Date and
 * Message-ID as the host configures them, a text and an HTML part, no `undefined`, `null`, `{{`
 * or missing key anywhere — also for a contact without a first name —, and links built from
 * `BASE_URL` (with its own path) whatever Host or X-Forwarded-Host the request claimed.
 */
import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import { QueryTypes } from 'sequelize';
import { PortalClient, startSignInHost, type SignInHost } from '../sign-in/sign-in-fixture.js';
import { SequelizePortalAccountStore } from '../../plugin/auth/portal-account-store.js';
import { ScryptPasswordHasher } from '../../plugin/auth/password-hasher.js';
import { adminClient } from '../profiles/profile-test-kit.js';
import { enablePortalUser } from '../settings/settings-test-kit.js';
import { startRefusingSmtp, type ScriptedSmtp } from '../support/scripted-smtp.js';
import { startSilentSmtp, type SilentSmtp } from '../support/silent-smtp.js';
import { hashToken } from '../../plugin/auth/portal-sessions.js';
import type { CrmRecord } from '../../plugin/host-contract/index.js';

const PASSWORD = 'Correct-horse-7';
const BASE_URL = 'https://portal.example.test/crm';
const FORGED = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' };

/** A CRM admin turns portal access on for a new contact with `values`, through the contact block's form: the answer, and the contact. */
async function switchPortalUserOn(host: SignInHost, values: { firstname: string; lastname: string; email: string; language: string }): Promise<{ response: Response; contact: CrmRecord }> {
  const admin = await adminClient(host.test);
  const contact = await host.test.host.api.records.create('Contacts', { values });
  const page = await (await admin.get(`/contacts/${contact.id}`)).text();
  const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(page)![0];
  const response = await fetch(`${host.url}/settings/business-portal/contacts/${contact.id}/portal-user`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: admin.cookie },
    body: new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(form)![1]!, version: /name="version" value="(\d+)"/.exec(form)![1]!, portalUser: 'yes', profileId: '', supportStartDate: '', supportEndDate: '' }).toString(),
  });
  return { response, contact };
}

/** What a well-formed mail of the portal holds, whatever its kind and language. */
function expectWellFormed(mail: ParsedMail): void {
  const html = typeof mail.html === 'string' ? mail.html : '';
  const text = mail.text ?? '';
  expect(mail.from?.value[0]?.address).to.equal('crm@portal.example.test');
  expect(mail.date?.getTime(), 'a Date header').to.be.a('number').and.not.NaN;
  expect(mail.messageId).to.match(/^<[^<>\s@]+@portal\.example\.test>$/);
  expect(text.trim(), 'a text part').not.to.equal('');
  expect(html.trim(), 'an HTML part').not.to.equal('');
  for (const part of [mail.subject ?? '', text, html]) {
    expect(part).not.to.match(/\bundefined\b|\bnull\b|\{\{|\}\}|portal\.mail\.|\bmail\.[a-zA-Z]+\./);
    // A greeting without a name ("Hello ,", "Gentile ,"): the name was missing.
    expect(part).not.to.match(/^(<p>)?\S+ ,/m);
  }
  for (const link of [...text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0])) {
    expect(link.startsWith(`${BASE_URL}/portal/`), link).to.equal(true);
  }
  expect(html, 'no empty link').not.to.match(/href=["']\s*["']/);
  for (const href of [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!)) {
    expect(href.startsWith(`${BASE_URL}/portal/`), href).to.equal(true);
  }
}

describe('notifications: every sign-in mail is well-formed in each language @db', function () {
  this.timeout(60_000);
  let host: SignInHost;

  before(async () => {
    host = await startSignInHost({ baseUrl: BASE_URL });
  });
  after(async () => {
    await host?.stop();
  });

  /** A portal user whose contact has no first name. */
  async function addNameless(email: string, language: 'en' | 'it', profileId: number | null = null): Promise<number> {
    const api = host.test.host.api;
    const contact = await api.records.create('Contacts', { values: { lastname: 'Nameless', email, language } });
    await new SequelizePortalAccountStore(api.database).create({
      contactId: contact.id,
      email,
      portalEnabled: true,
      profileId,
      language,
      passwordHash: await new ScryptPasswordHasher().hash(PASSWORD),
      mustChangePassword: false,
    });
    return contact.id;
  }

  /** The recovery, verification-code, lock and password-changed mails of `email`, each asked for with a forged Host. */
  async function mailsOf(email: string): Promise<Record<'recovery' | 'code' | 'locked' | 'changed', ParsedMail>> {
    let since = host.mailbox.received.length;
    expect((await new PortalClient(host.portal, FORGED).api('/auth/forgot', { email })).status).to.equal(202);
    const recovery = await host.mailbox.waitFor(email, { since });

    since = host.mailbox.received.length;
    const signIn = await new PortalClient(host.portal, FORGED).api('/auth/login', { email, password: PASSWORD });
    expect(signIn.status).to.equal(202);
    const code = await host.mailbox.waitFor(email, { since });

    since = host.mailbox.received.length;
    for (let i = 0; i < 5; i++) await new PortalClient(host.portal, FORGED).api('/auth/login', { email, password: 'Wrong-password-9' });
    const locked = await host.mailbox.waitFor(email, { since });
    const contactId = Number((await host.sql<{ contact_id: unknown }>('SELECT contact_id FROM bp_portal_accounts WHERE email = :email', { email }))[0]!.contact_id);
    await host.exec('UPDATE bp_portal_accounts SET locked_at = NULL, failed_attempts = 0, profile_id = NULL WHERE contact_id = :contactId', { contactId });

    since = host.mailbox.received.length;
    const client = new PortalClient(host.portal, FORGED);
    expect((await client.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
    expect((await client.api('/auth/password', { currentPassword: PASSWORD, newPassword: 'A brand new passphrase 5' })).status).to.equal(204);
    const changed = await host.mailbox.waitFor(email, { since });
    return { recovery, code, locked, changed };
  }

  /** The recovery and lock mails of `email` (an account without a second factor). */
  async function mailsOfWithoutCode(email: string): Promise<Record<'recovery' | 'locked', ParsedMail>> {
    let since = host.mailbox.received.length;
    expect((await new PortalClient(host.portal, FORGED).api('/auth/forgot', { email })).status).to.equal(202);
    const recovery = await host.mailbox.waitFor(email, { since });
    since = host.mailbox.received.length;
    for (let i = 0; i < 5; i++) await new PortalClient(host.portal, FORGED).api('/auth/login', { email, password: 'Wrong-password-9' });
    const locked = await host.mailbox.waitFor(email, { since });
    return { recovery, locked };
  }

  for (const language of ['it', 'en'] as const) {
    const subjects = {
      it: { recovery: 'Reimposta la password del portale', code: 'Il tuo codice di verifica del portale', locked: 'Il tuo account del portale è stato bloccato', changed: 'La password del portale è stata cambiata' },
      en: { recovery: 'Reset your portal password', code: 'Your portal verification code', locked: 'Your portal account was locked', changed: 'Your portal password was changed' },
    }[language];
    // One greeting in every mail of a language, the CRM's templates' and the plugin's own alike.
    const greeting = language === 'it' ? 'Gentile' : 'Dear';

    it(`sends a ${language} contact every mail whole in ${language}, links on BASE_URL`, async () => {
      const email = `named.${language}@example.com`;
      await host.addCustomer({ email, password: PASSWORD, language, firstname: 'Ada', profileId: await host.twoFactorProfile() });
      const mails = await mailsOf(email);
      for (const [kind, mail] of Object.entries(mails)) {
        expect(mail.subject, kind).to.equal(subjects[kind as keyof typeof subjects]);
        expect(mail.text, kind).to.match(new RegExp(`^(${greeting}) Ada,`));
        expectWellFormed(mail);
      }
      expect(mails.recovery.text).to.include(`${BASE_URL}/portal/reset-password?token=`);
      expect(mails.locked.text).to.include(`${BASE_URL}/portal/unlock?token=`);
    });

    it(`greets a ${language} contact without a first name without a blank, "null" or "undefined"`, async () => {
      const email = `nameless.${language}@example.com`;
      await addNameless(email, language, await host.twoFactorProfile());
      const mails = await mailsOf(email);
      for (const [kind, mail] of Object.entries(mails)) {
        expect(mail.subject, kind).to.equal(subjects[kind as keyof typeof subjects]);
        expect(mail.text, kind).to.match(language === 'it' ? /^Gentile cliente,/ : /^Dear customer,/);
        expectWellFormed(mail);
      }
    });
  }

  for (const language of ['it', 'en'] as const) {
    it(`sends the access details whole in ${language}, to a contact with and without a first name`, async () => {
      const api = host.test.host.api;
      const admin = await adminClient(host.test);
      for (const firstname of ['Ada', null]) {
        const email = `access.${language}.${firstname ?? 'none'}@example.com`;
        const contact = await api.records.create('Contacts', { values: { firstname, lastname: 'Access', email, language } });
        const mail = await enablePortalUser(host.url, admin, contact.id, host.mailbox, email);
        expect(mail.subject).to.equal(language === 'it' ? 'Il tuo accesso al portale clienti' : 'Your access to the customer portal');
        expect(mail.text).to.match(language === 'it' ? /^Gentile (Ada|cliente),/ : /^Dear (Ada|customer),/);
        expect(mail.text).to.include(`${BASE_URL}/portal/login`);
        expectWellFormed(mail);
      }
    });
  }
  it('writes to a contact without a language in the CRM’s default language (English here)', async () => {
    const email = 'no.language@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD, language: 'it', firstname: 'Ada' });
    await host.test.host.api.records.update('Contacts', contactId, { values: { language: null } });
    const mails = await mailsOfWithoutCode(email);
    expect(mails.recovery.subject).to.equal('Reset your portal password');
    expect(mails.locked.subject).to.equal('Your portal account was locked');
    expect(mails.locked.text).to.match(/^Dear Ada,/);
    for (const mail of Object.values(mails)) expectWellFormed(mail);
  });

  it('sends no empty new-ticket mail for a ticket the customer cannot open on the portal', async () => {
    const api = host.test.host.api;
    const email = 'unseen.ticket@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD, language: 'it' });
    const since = host.mailbox.received.length;
    const ticket = await api.database.sequelize.transaction((transaction) =>
      api.records.create('HelpDesk', { values: { ticket_title: 'Unseen', status: 'Open', contact_id: contactId } }, { transaction, actor: { kind: 'contact', contactId } }),
    );
    const client = new PortalClient(host.portal);
    expect((await client.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
    const opened = await fetch(`${host.portal}/api/v1/modules/HelpDesk/records/${ticket.id}`, { headers: { cookie: client.cookieHeader() } });
    expect(opened.status, 'the Default profile of this host does not show tickets').to.be.oneOf([403, 404]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const mails = host.mailbox.received.slice(since).filter((mail) => mail.to && JSON.stringify(mail.to).includes(email));
    for (const mail of mails) expectWellFormed(mail);
    expect(mails, 'a mail about a ticket they cannot open, with no title, number or link').to.have.length(0);
  });
});

describe('notifications: the ticket mails are well-formed in each language, customer text inert @db', function () {
  this.timeout(60_000);
  let host: SignInHost;

  before(async () => {
    // The demo's profile shows tickets with their comments: a CRM user's reply is mailed.
    host = await startSignInHost({ baseUrl: BASE_URL, demo: true });
  });
  after(async () => {
    await host?.stop();
  });

  for (const language of ['it', 'en'] as const) {
    it(`sends the ticket mails whole in ${language}, customer text inert in every part`, async () => {
      const api = host.test.host.api;
      const email = `ticket.${language}@example.com`;
      const contactId = await host.addCustomer({ email, password: PASSWORD, language });
      const evil = 'Jam <script>alert(1)</script> & "x"\r\nBcc: evil@example.net';
      let since = host.mailbox.received.length;
      const ticket = await api.database.sequelize.transaction((transaction) =>
        api.records.create('HelpDesk', { values: { ticket_title: evil, status: 'Open', contact_id: contactId } }, { transaction, actor: { kind: 'contact', contactId } }),
      );
      const created = await host.mailbox.waitFor(email, { since });
      // The demo profile's owner user is told too, in the user's own language, the title inert.
      const ownerMail = () => host.mailbox.received.slice(since).find((mail) => mail !== created && mail.text?.includes(email));
      for (let waited = 0; !ownerMail() && waited < 5000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
      const toOwner = ownerMail();
      expect(toOwner, 'the owner mail').not.to.equal(undefined);
      expectWellFormed(toOwner!);
      expect(toOwner!.headers.get('bcc')).to.equal(undefined);
      expect(toOwner!.subject).to.match(/^(New ticket from the customer portal|Nuovo ticket dal portale clienti): Jam <script>alert\(1\)<\/script> & "x" Bcc: evil@example\.net$/);
      expect(toOwner!.html).to.include('&lt;script&gt;').and.not.include('<script');
      const admin = (await api.users.users()).find((u) => u.userName === 'admin')!;
      since = host.mailbox.received.length;
      await api.records.addComment('HelpDesk', ticket.id, { body: '<img src=x onerror=alert(1)>\nline two', internal: false }, { actor: { kind: 'user', userId: admin.id } });
      const reply = await host.mailbox.waitFor(email, { since });
      for (const mail of [created, reply]) {
        expectWellFormed(mail);
        expect(mail.headers.get('bcc'), 'no header from customer text').to.equal(undefined);
        expect(mail.subject).not.to.match(/[\r\n]/);
        expect(mail.html).not.to.match(/<script|<img/);
        expect(mail.text).to.include(`${BASE_URL}/portal/m/HelpDesk/${ticket.id}`);
      }
      expect(created.text).to.include('<script>alert(1)</script> & "x"');
      expect(created.html).to.include('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;');
      expect(reply.text).to.include('<img src=x onerror=alert(1)>');
      expect(created.text).to.include(language === 'it' ? 'stato Aperto' : 'status Open');
      expect(reply.subject).to.match(language === 'it' ? /^Nuova risposta al ticket / : /^New reply on ticket /);
    });
  }
});

describe('notifications: a mail server that refuses every message @db', function () {
  this.timeout(60_000);
  let host: SignInHost;
  let smtp: ScriptedSmtp;
  const SMTP_TEXT = 'Mailbox-unavailable-SECRET-ANSWER';

  before(async () => {
    smtp = await startRefusingSmtp(550, SMTP_TEXT);
    host = await startSignInHost({ baseUrl: BASE_URL, smtpUrl: smtp.url });
  });
  after(async () => {
    await host?.stop();
    await smtp?.close();
  });

  const leaks = (body: string) => expect(body).not.to.include(SMTP_TEXT).and.not.match(/\b550\b|SMTP|EENVELOPE|EMESSAGE/);

  it('answers every customer action as usual, never a 500 nor the server’s answer', async () => {
    const email = 'refused@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD, language: 'it' });
    const client = new PortalClient(host.portal);

    const page = await client.submit('/forgot-password', '/forgot-password', { email });
    expect(page.response.status).to.equal(200);
    leaks(page.html);
    const forgot = await client.api('/auth/forgot', { email });
    expect(forgot.status).to.equal(202);
    leaks(await forgot.text());

    // A recovery link (its mail was refused) still sets the password; the confirmation fails quietly.
    const token = 'A'.repeat(43);
    const now = new Date();
    await host.exec('INSERT INTO bp_reset_tokens (contact_id, token_hash, created_at, expires_at, used_at, ip) VALUES (:contactId, :hash, :now, :later, NULL, :ip)', {
      contactId,
      hash: hashToken(token),
      now,
      later: new Date(now.getTime() + 30 * 60_000),
      ip: '127.0.0.1',
    });
    const reset = await new PortalClient(host.portal).api('/auth/reset', { token, newPassword: 'A brand new passphrase 5' });
    expect(reset.status).to.be.within(200, 299);
    leaks(await reset.text());

    const signedIn = new PortalClient(host.portal);
    const login = await signedIn.api('/auth/login', { email, password: 'A brand new passphrase 5' });
    expect(login.status).to.equal(200);
    const change = await signedIn.api('/auth/password', { currentPassword: 'A brand new passphrase 5', newPassword: PASSWORD });
    expect(change.status).to.equal(204);

    const before = smtp.attempts;
    for (let i = 0; i < 6; i++) {
      const refused = await new PortalClient(host.portal).api('/auth/login', { email, password: 'Wrong-password-9' });
      expect(refused.status).to.equal(401);
      leaks(await refused.text());
    }
    for (let waited = 0; smtp.attempts === before && waited < 5000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(smtp.attempts, 'the lock mail was tried').to.be.greaterThan(before);
    expect(smtp.attempts, 'the recovery, reset and change mails were tried').to.be.greaterThanOrEqual(4);
  });

  it('tells the admin who turns portal access on that the access details could not be sent', async () => {
    const email = 'refused.access@example.com';
    const { response, contact } = await switchPortalUserOn(host, { firstname: 'Ada', lastname: 'Refused', email, language: 'en' });
    const html = await response.text();
    expect(response.status).to.equal(200);
    leaks(html);
    // Saved (the contact is a portal user), but not said to be mailed: the admin knows to send new details.
    expect(html).not.to.include('The access details were sent');
    expect(html).to.include(`The contact is now a portal user, but the access details could not be sent to ${email}.`);
    const [account] = await host.sql<{ portal_enabled: unknown }>('SELECT portal_enabled FROM bp_portal_accounts WHERE contact_id = :id', { id: contact.id });
    expect(Boolean(Number(account?.portal_enabled) || account?.portal_enabled === true)).to.equal(true);
  });

  it('records in the contact’s login history that new access details after an email change could not be sent, and puts the customer’s own password back', async () => {
    const admin = await adminClient(host.test);
    const contactId = await host.addCustomer({ email: 'moving.refused@example.com', password: PASSWORD, language: 'en' });
    const before = smtp.attempts;
    await host.test.host.api.records.update('Contacts', contactId, { values: { email: 'moved.refused@example.com' } });
    for (let waited = 0; smtp.attempts === before && waited < 5000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(smtp.attempts, 'the new access details were offered').to.be.greaterThan(before);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const page = await (await admin.get(`/contacts/${contactId}`)).text();
    leaks(page);
    expect(page).not.to.include('Email changed: new access details sent');
    expect(page).to.include('Email changed: the new access details could not be sent. The password was kept: the customer signs in with the new email address and their current password');
    // Nobody learned the password the change made: the customer's own is back, with the new email.
    expect((await new PortalClient(host.portal).api('/auth/login', { email: 'moved.refused@example.com', password: PASSWORD })).status).to.equal(200);
    const [row] = await host.sql<{ reason: unknown }>("SELECT reason FROM bp_login_history WHERE contact_id = :id AND event = 'access_sent'", { id: contactId });
    expect(row!.reason).to.equal('mail_failed_password_kept');
  });

  it('a locked portal user whose new access details after an email change could not be sent stays locked as it was', async () => {
    const admin = await adminClient(host.test);
    const contactId = await host.addCustomer({ email: 'locked.refused@example.com', password: PASSWORD, language: 'en' });
    const tried = smtp.attempts;
    for (let i = 1; i <= 5; i++) expect((await new PortalClient(host.portal).api('/auth/login', { email: 'locked.refused@example.com', password: `Wrong-guess-${i}` })).status).to.equal(401);
    for (let waited = 0; smtp.attempts === tried && waited < 5000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(smtp.attempts, 'the lock mail was tried').to.be.greaterThan(tried);
    const state = async () => {
      const [account] = await host.sql<Record<string, unknown>>('SELECT locked_at, failed_attempts, first_failed_at FROM bp_portal_accounts WHERE contact_id = :id', { id: contactId });
      const [links] = await host.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_unlock_links WHERE contact_id = :id AND used_at IS NULL AND revoked_at IS NULL', { id: contactId });
      return { lockedAt: account!.locked_at, firstFailedAt: account!.first_failed_at, failedAttempts: Number(account!.failed_attempts), liveLinks: Number(links!.n) };
    };
    const before = await state();
    expect(before.lockedAt).not.to.equal(null);

    const offered = smtp.attempts;
    await host.test.host.api.records.update('Contacts', contactId, { values: { email: 'locked.moved@example.com' } });
    for (let waited = 0; smtp.attempts === offered && waited < 5000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(smtp.attempts, 'the new access details were offered').to.be.greaterThan(offered);
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Nobody was told a new password: the customer's own is back, and the lock that protects it stays;
    // the unlock link mailed to the old address dies with the change of address.
    expect(before.liveLinks, 'the lock mail carried a live unlock link').to.equal(1);
    expect(await state()).to.deep.equal({ ...before, liveLinks: 0 });
    const history = await host.sql<{ event: unknown; reason: unknown }>("SELECT event, reason FROM bp_login_history WHERE contact_id = :id AND event IN ('unlocked', 'access_sent')", { id: contactId });
    expect(history).to.deep.equal([{ event: 'access_sent', reason: 'mail_failed_password_kept' }]);
    expect((await new PortalClient(host.portal).api('/auth/login', { email: 'locked.moved@example.com', password: PASSWORD })).status, 'still locked').to.equal(401);
    const page = await (await admin.get('/settings/business-portal/login-check')).text();
    const locked = /<table class="bp-stack bp-locked">[\s\S]*?<\/table>/.exec(page)?.[0] ?? '';
    expect(locked, 'still listed as locked').to.include(`data-contact-id="${contactId}"`);
  });
});

describe('notifications: a mail server that accepts the connection and never answers', function () {
  this.timeout(30_000);
  let host: SignInHost;
  let smtp: SilentSmtp;

  before(async () => {
    smtp = await startSilentSmtp();
    host = await startSignInHost({ baseUrl: BASE_URL, smtpUrl: smtp.url });
  });
  after(async () => {
    await host?.stop();
    await smtp?.close();
  });

  // The only test here that waits for the real bound (the greeting timeout, 10 s): nodemailer's own
  // defaults (2 min to connect, 30 s for the greeting, 10 min of silence) held the admin for minutes.
  // A timeout is a failure of the moment: the host keeps the access details to send them again
  // (`crm_mail_queue`), as taken for delivery.
  it('answers the admin who turns portal access on within the greeting timeout, the access details kept to be tried again', async () => {
    const admin = await adminClient(host.test);
    const email = 'silent.server@example.com';
    const contact = await host.test.host.api.records.create('Contacts', { values: { firstname: 'Sid', lastname: 'Silent', email, language: 'en' } });
    const page = await (await admin.get(`/contacts/${contact.id}`)).text();
    const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(page)![0];
    const started = Date.now();
    const response = await fetch(`${host.url}/settings/business-portal/contacts/${contact.id}/portal-user`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: admin.cookie },
      body: new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(form)![1]!, version: /name="version" value="(\d+)"/.exec(form)![1]!, portalUser: 'yes', profileId: '', supportStartDate: '', supportEndDate: '' }).toString(),
      signal: AbortSignal.timeout(13_000),
    });
    const html = await response.text();
    expect(Date.now() - started, 'the admin waited at most about the greeting timeout').to.be.below(13_000);
    expect(smtp.connections, 'the mail server was tried').to.be.at.least(1);
    expect(response.status).to.equal(200);
    expect(html).not.to.match(/timeout|ETIMEDOUT|ESOCKET|ECONNECTION|SMTP/i);
    // Kept to be tried again, not sent: the page says so (contract 1.10.0's `queued`).
    expect(html).not.to.include('The access details were sent');
    expect(html).to.include(`The contact is now a portal user. The mail server did not take the access details just now: they will be sent to ${email} as soon as it answers.`);
    const kept = await host.test.host.api.database.sequelize.query<{ to_addresses: string }>('SELECT to_addresses FROM crm_mail_queue', { type: QueryTypes.SELECT });
    expect(kept.map((row) => JSON.parse(row.to_addresses)[0].address)).to.deep.equal([email]);
  });
});

describe('notifications: a mail server that refuses for the moment (421) @db', function () {
  this.timeout(60_000);
  let host: SignInHost;
  let smtp: ScriptedSmtp;
  // The mail server's answer is the operator's business: never on a page.
  const leaks = (body: string) => expect(body).not.to.match(/Try again later|\b421\b|SMTP/);

  before(async () => {
    smtp = await startRefusingSmtp(421, 'Try again later');
    host = await startSignInHost({ baseUrl: BASE_URL, smtpUrl: smtp.url });
  });
  after(async () => {
    await host?.stop();
    await smtp?.close();
  });

  async function switchOn(email: string, language: string): Promise<string> {
    const { response } = await switchPortalUserOn(host, { firstname: 'Quinn', lastname: 'Queued', email, language });
    expect(response.status).to.equal(200);
    return response.text();
  }

  it('tells the admin who turns portal access on that the access details will be sent when the mail server answers, not that they were sent', async () => {
    const email = 'queued.access@example.com';
    const html = await switchOn(email, 'en');
    leaks(html);
    expect(html).not.to.include('The access details were sent');
    expect(html).not.to.include('could not be sent');
    expect(html).to.include(`The contact is now a portal user. The mail server did not take the access details just now: they will be sent to ${email} as soon as it answers.`);
    const kept = await host.sql<{ to_addresses: string }>('SELECT to_addresses FROM crm_mail_queue', {});
    expect(kept.map((row) => JSON.parse(row.to_addresses)[0].address)).to.include(email);
  });

  it('records in the login history that the new access details after an email change wait for the mail server, and the password mailed stays', async () => {
    const admin = await adminClient(host.test);
    const contactId = await host.addCustomer({ email: 'moving.queued@example.com', password: PASSWORD, language: 'en' });
    const before = smtp.attempts;
    await host.test.host.api.records.update('Contacts', contactId, { values: { email: 'moved.queued@example.com' } });
    const row = async () => (await host.sql<{ reason: unknown }>("SELECT reason FROM bp_login_history WHERE contact_id = :id AND event = 'access_sent'", { id: contactId }))[0];
    for (let waited = 0; !(await row()) && waited < 5000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(smtp.attempts, 'the new access details were offered').to.be.greaterThan(before);
    expect((await row())!.reason).to.equal('kept_for_retry');
    const page = await (await admin.get(`/contacts/${contactId}`)).text();
    leaks(page);
    expect(page).not.to.include('Email changed: new access details sent');
    expect(page).to.include('Email changed: the mail server did not take the new access details just now; they will be sent when it answers');
    // Taken for delivery: the password they carry is the one that works, the customer's own no longer.
    expect((await new PortalClient(host.portal).api('/auth/login', { email: 'moved.queued@example.com', password: PASSWORD })).status).to.equal(401);
  });

  it('answers “I forgot my password” the same for an address with an account and one without, while the mail waits', async () => {
    await host.addCustomer({ email: 'forgetful.queued@example.com', password: PASSWORD, language: 'en' });
    const known = await new PortalClient(host.portal).api('/auth/forgot', { email: 'forgetful.queued@example.com' });
    const unknown = await new PortalClient(host.portal).api('/auth/forgot', { email: 'nobody.queued@example.com' });
    expect([known.status, unknown.status]).to.deep.equal([202, 202]);
    expect(await known.text()).to.equal(await unknown.text());
  });
});
