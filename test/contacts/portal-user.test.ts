/**
 * The Contact record's portal-user section (SPEC §3) against the reference host over HTTP, with
 * mail through a real SMTP server on loopback: switching portal access on and off, the refusals
 * the admin is told about, the host's contact events, and the attacks (CSRF, non-admins, stale
 * forms, malformed input, script in the contact's name).
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { ScryptPasswordHasher } from '../../plugin/auth/password-hasher.js';
import { addYears, todayIn } from '../../plugin/auth/support-period.js';
import { formatSupportDay } from '../../plugin/contacts/support-reminders.js';
import { XSS, passwordIn, startContactsHost, type ContactsHost } from './contacts-fixture.js';
import { deleteEmailTemplate } from '../profiles/profile-test-kit.js';
import { resetTokenIn } from '../sign-in/sign-in-fixture.js';

const NEW_PASSWORD = 'Correct-horse-battery-9';

describe('contacts: the portal-user section of the Contact record @db', function () {
  this.timeout(60_000);
  let h: ContactsHost;
  let today: string;

  before(async () => {
    h = await startContactsHost();
    today = todayIn(h.api.regional.timeZone());
  });
  after(async () => h?.stop());

  async function enable(contactId: number, email: string, fields: Record<string, string> = {}) {
    const since = h.mailbox.received.length;
    const saved = await h.savePortalUser(contactId, { portalUser: 'yes', ...fields });
    expect(saved.status, saved.html).to.equal(200);
    const mail = await h.mailbox.waitFor(email, { since });
    return { saved, mail, password: passwordIn(mail) };
  }

  it('shows the form to admins, before the login history, with Default chosen', async () => {
    const id = await h.addContact({ firstname: 'Form', lastname: 'Shown', email: 'form.shown@example.com' });
    const { status, html } = await h.contactPage(id);
    expect(status).to.equal(200);
    expect(html).to.include('id="bp-contact-portal-user"');
    expect(html.indexOf('id="bp-contact-portal-user"')).to.be.lessThan(html.indexOf('id="bp-contact-login-history"'));
    expect(html).to.include(`action="/settings/business-portal/contacts/${id}/portal-user"`);
    expect(html).to.match(/<option value="\d+" selected>Default<\/option>/);
    // The row's label says what it is about; its value is the answer alone, not "Portal user: no" again.
    expect(html).to.match(/<dt>Portal access<\/dt>\s*<dd data-state="none">No<\/dd>/);
    expect(html).not.to.include('Portal user: ');
  });

  it('reads the contact’s portal access as a plain answer in Italian too', async () => {
    const id = await h.addContact({ firstname: 'Stato', lastname: 'Italiano', email: 'stato.italiano@example.com' });
    await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const { html } = await h.contactPage(id);
      expect(html).to.match(/<dt>Accesso al portale<\/dt>\s*<dd data-state="none">No<\/dd>/);
      expect(html).not.to.include('Utente portale: ');
    } finally {
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('turning portal user on creates the account, mails a working password and forces its change', async () => {
    const id = await h.addContact({ firstname: 'Jane', lastname: 'Enabled', email: 'Jane.Enabled@Example.com' });
    const { saved, mail, password } = await enable(id, 'jane.enabled@example.com');
    expect(saved.html).to.include('The access details were sent to jane.enabled@example.com');
    // The answer is a status present at load, which screen readers do not announce: the title says it first.
    expect(saved.html).to.include('<title>The contact is now a portal user. The access details were sent to jane.enabled@example.com. · Portal access · Reference CRM</title>');
    expect(mail.subject).to.equal('Your access to the customer portal');
    expect(mail.text).to.include('/portal/login');
    expect(password).to.match(/^[A-Za-z2-9]{5}(-[A-Za-z2-9]{5}){3}$/);

    const account = await h.account(id);
    expect(account).to.include({ email: 'jane.enabled@example.com' });
    expect(Boolean(account!.portal_enabled)).to.equal(true);
    expect(Boolean(account!.must_change_password)).to.equal(true);
    expect(String(account!.support_start_date).slice(0, 10)).to.equal(today);
    expect(String(account!.support_end_date).slice(0, 10), 'the end defaults to one year after the start').to.equal(addYears(today, 1));

    const login = await h.portalLogin('jane.enabled@example.com', password);
    expect(login.status).to.equal(200);
    expect(await h.modules(login.cookie!), 'the generated password must be changed first').to.equal(403);
    const changed = await h.changePassword(login.cookie!, password, NEW_PASSWORD);
    expect(changed.status).to.equal(204);
    expect(await h.me(changed.cookie!)).to.equal(200);

    const { html } = await h.contactPage(id);
    expect(html).to.match(/<dt>Portal access<\/dt>\s*<dd data-state="enabled">Yes<\/dd>/);
    expect(html).to.include('Portal user switched on by Ada Admin');
    expect(html).to.match(/<dd data-must-change="no">No<\/dd>/);
    expect(html).to.match(/Last sign-in<\/dt>\s*<dd><time datetime=/);
    expect(h.logs.some((line) => line.message.includes('portal user enabled'))).to.equal(true);
    expect(h.logs.every((line) => !line.fields.includes(password) && !line.message.includes(password)), 'no password in the log').to.equal(true);
  });

  it('sends the access details in the contact’s language', async () => {
    const id = await h.addContact({ firstname: 'Mario', lastname: 'Italiano', email: 'mario.italiano@example.com', language: 'it' });
    const { mail } = await enable(id, 'mario.italiano@example.com');
    expect(mail.subject).to.equal('Il tuo accesso al portale clienti');
    expect(mail.text).to.include('Gentile Mario');
  });

  it('keeps the dates and profile the admin chose, and a later save sends nothing', async () => {
    const id = await h.addContact({ firstname: 'Dated', lastname: 'Contact', email: 'dated@example.com' });
    await enable(id, 'dated@example.com', { supportStartDate: '2026-01-15', supportEndDate: '2099-12-31' });
    let account = await h.account(id);
    expect(String(account!.support_start_date).slice(0, 10)).to.equal('2026-01-15');
    expect(String(account!.support_end_date).slice(0, 10)).to.equal('2099-12-31');
    const since = h.mailbox.received.length;
    const saved = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate: '2026-01-15', supportEndDate: '' });
    expect(saved.status).to.equal(200);
    expect(saved.html).to.include('The portal access settings were saved.');
    account = await h.account(id);
    expect(String(account!.support_end_date).slice(0, 10)).to.equal('2027-01-15');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'no new password for a change of dates').to.equal(since);
  });

  it('no email: nothing is saved or sent and the admin is told why (in their language)', async () => {
    const id = await h.addContact({ firstname: 'No', lastname: 'Email' });
    const since = h.mailbox.received.length;
    const saved = await h.savePortalUser(id, { portalUser: 'yes' });
    expect(saved.status).to.equal(422);
    expect(saved.html).to.include('the contact has no valid email address');
    expect(saved.html).to.include('<title>Error: Portal access · Reference CRM</title>');
    expect(await h.account(id)).to.equal(undefined);
    const page = await h.contactPage(id);
    expect(page.html).to.include('has no valid email address: add one before');

    await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await h.savePortalUser(id, { portalUser: 'yes' });
      expect(italian.status).to.equal(422);
      expect(italian.html).to.include('il contatto non ha un indirizzo email valido');
      // The form again, with the reason beside its field: the title says first that it was refused.
      expect(italian.html).to.include('<title>Errore: Accesso al portale · Reference CRM</title>');
    } finally {
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length).to.equal(since);
  });

  it('a support end date already past, or before the start, is refused and nothing changes', async () => {
    const id = await h.addContact({ firstname: 'Past', lastname: 'End', email: 'past.end@example.com' });
    const since = h.mailbox.received.length;
    const past = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate: '2020-01-01', supportEndDate: '2020-12-31' });
    expect(past.status).to.equal(422);
    expect(past.html).to.include('the support end date is already past');
    const reversed = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate: '2030-02-01', supportEndDate: '2030-01-01' });
    expect(reversed.status).to.equal(422);
    expect(reversed.html).to.include('the support end date is before the start date');
    expect(await h.account(id)).to.equal(undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length).to.equal(since);
  });

  it('with the start left empty (today), an end date already past is refused as past, not as before the start', async () => {
    const id = await h.addContact({ firstname: 'Empty', lastname: 'Start', email: 'empty.start@example.com' });
    const saved = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate: '', supportEndDate: addYears(today, -1) });
    expect(saved.status).to.equal(422);
    expect(saved.html).to.include('the support end date is already past');
    // An admin elsewhere (Los Angeles, an evening when Rome is a day on) is told which day is today, and where.
    const zone = h.api.regional.timeZone();
    expect(saved.html).to.include(`support dates are days in the CRM’s time zone, ${zone}, where today is ${formatSupportDay(today, 'en')}`);
    expect(saved.html).not.to.include('before the start date');
    expect(await h.account(id)).to.equal(undefined);
  });

  it('a year outside 1000–9999 is a field to check (400), not a 500 on PostgreSQL; a start in 9999 ends on its last day', async () => {
    const id = await h.addContact({ firstname: 'Year', lastname: 'Zero', email: 'year.zero@example.com' });
    for (const supportStartDate of ['0000-01-01', '0999-12-31']) {
      const saved = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate, supportEndDate: addYears(today, 1) });
      expect(saved.status, supportStartDate).to.equal(400);
      expect(saved.html).to.include('Check these fields: Support start date.');
    }
    const ended = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate: today, supportEndDate: '0000-01-01' });
    expect(ended.status).to.equal(400);
    expect(ended.html).to.include('Check these fields: Support end date.');
    expect(await h.account(id)).to.equal(undefined);
    const far = await enable(id, 'year.zero@example.com', { supportStartDate: '9999-03-01' });
    expect(far.saved.status).to.equal(200);
    expect(await h.account(id)).to.include({ support_start_date: '9999-03-01', support_end_date: '9999-12-31' });
  });

  it('a refusal shows the form again with what the admin typed and the reason beside the field; saving it again works', async () => {
    const id = await h.addContact({ firstname: 'Typed', lastname: 'Again', email: 'typed.again@example.com' });
    const refused = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate: '2030-02-01', supportEndDate: '2030-01-01' });
    expect(refused.status).to.equal(422);
    const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(refused.html)?.[0] ?? '';
    expect(form, 'the form is on the answer page').to.include(`action="/settings/business-portal/contacts/${id}/portal-user"`);
    expect(form).to.match(/<option value="yes" selected>/);
    expect(form).to.match(/name="supportStartDate" value="2030-02-01"/);
    expect(form).to.match(/name="supportEndDate" value="2030-01-01" aria-invalid="true" aria-describedby="bp-portal-end-hint-\d+ bp-portal-user-refusal-\d+"/);
    expect(form).to.match(/<p class="bp-portal-user-refusal" id="bp-portal-user-refusal-\d+" role="alert">Nothing was saved: the support end date is before the start date.<\/p>/);
    expect(form).to.include(`href="/contacts/${id}"`);
    expect(refused.html).to.match(/href="\/portal\/assets\/contacts\/contact-block\.css\?v&#x3D;[0-9a-f]{12}"/);

    // The form on the answer page saves like the one on the contact: its token and version work.
    const token = /name="_csrf" value="([^"]+)"/.exec(form)![1]!;
    const version = /name="version" value="(\d+)"/.exec(form)![1]!;
    const since = h.mailbox.received.length;
    const saved = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate: '2030-02-01', supportEndDate: '2031-01-31', version }, { csrf: token });
    expect(saved.status, saved.html).to.equal(200);
    expect(saved.html).not.to.include('bp-portal-user-form');
    await h.mailbox.waitFor('typed.again@example.com', { since });

    // A malformed date: the form again, the field named and marked, the text escaped.
    const malformed = await h.savePortalUser(id, { portalUser: 'no', supportStartDate: '2030-02-01', supportEndDate: XSS });
    expect(malformed.status).to.equal(400);
    expect(malformed.html).to.match(/<option value="no" selected>/);
    expect(malformed.html).to.match(/name="supportEndDate" value="&lt;script&gt;alert\(&quot;xss&quot;\)&lt;\/script&gt;" aria-invalid="true"/);
    expect(malformed.html).to.include('Check these fields: Support end date.');
    expect(malformed.html).not.to.include(XSS);

    // In Italian for an Italian admin.
    await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await h.savePortalUser(id, { portalUser: 'yes', supportStartDate: '', supportEndDate: '2020-01-01' });
      expect(italian.status).to.equal(422);
      expect(italian.html).to.match(/name="supportEndDate" value="2020-01-01" aria-invalid="true"/);
      expect(italian.html).to.include('la data di fine supporto è già passata');
      expect(italian.html).to.include('Torna al contatto');
    } finally {
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('serves the block’s stylesheet to every CRM user who sees the block, not only to admins', async () => {
    const id = await h.addContact({ firstname: 'Styled', lastname: 'Block', email: 'styled.block@example.com' });
    for (const cookie of [h.admin, h.clerk]) {
      const page = await h.contactPage(id, cookie);
      const href = /<link rel="stylesheet" href="([^"]+contact-block\.css[^"]*)">/.exec(page.html)?.[1];
      // Handlebars writes the `=` of an address as `&#x3D;` (the browser reads it back).
      expect(href).to.match(/^\/portal\/assets\/contacts\/contact-block\.css\?v&#x3D;[0-9a-f]{12}$/);
      const css = await fetch(`${h.url}${href!.replace('&#x3D;', '=')}`, { headers: { cookie } });
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.match(/^text\/css/);
      expect(await css.text()).to.include('.bp-contact-block');
    }
  });

  it('turning it off ends every session of the contact at once', async () => {
    const id = await h.addContact({ firstname: 'Off', lastname: 'Switch', email: 'off.switch@example.com' });
    const { password } = await enable(id, 'off.switch@example.com');
    const login = await h.portalLogin('off.switch@example.com', password);
    const changed = await h.changePassword(login.cookie!, password, NEW_PASSWORD);
    const other = await h.portalLogin('off.switch@example.com', NEW_PASSWORD);
    expect(await h.me(changed.cookie!)).to.equal(200);
    expect(await h.me(other.cookie!)).to.equal(200);

    const saved = await h.savePortalUser(id, { portalUser: 'no' });
    expect(saved.status).to.equal(200);
    expect(saved.html).to.include('no longer a portal user');
    expect(await h.me(changed.cookie!)).to.equal(401);
    expect(await h.me(other.cookie!)).to.equal(401);
    const [sessions] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_sessions WHERE contact_id = :id', { id });
    expect(Number(sessions!.n)).to.equal(0);
    expect((await h.portalLogin('off.switch@example.com', NEW_PASSWORD)).status).to.equal(401);
    const { html } = await h.contactPage(id);
    expect(html).to.match(/<dt>Portal access<\/dt>\s*<dd data-state="disabled">No \(switched off\)<\/dd>/);
    expect(html).to.include('Portal user switched off by Ada Admin');

    // Switched on again: a new password, the old one is dead.
    const again = await enable(id, 'off.switch@example.com');
    expect((await h.portalLogin('off.switch@example.com', NEW_PASSWORD)).status).to.equal(401);
    expect((await h.portalLogin('off.switch@example.com', again.password)).status).to.equal(200);
  });

  it('a locked portal user switched off and on again can sign in with the access details just mailed', async () => {
    const id = await h.addContact({ firstname: 'Locked', lastname: 'Again', email: 'locked.again@example.com' });
    await enable(id, 'locked.again@example.com');
    for (let i = 1; i <= 5; i++) expect((await h.portalLogin('locked.again@example.com', `Wrong-guess-${i}`)).status).to.equal(401);
    expect((await h.account(id))!.locked_at).not.to.equal(null);
    await h.mailbox.waitFor('locked.again@example.com', { subject: /locked/ });

    expect((await h.savePortalUser(id, { portalUser: 'no' })).status).to.equal(200);
    const again = await enable(id, 'locked.again@example.com');
    const account = await h.account(id);
    expect(account!.locked_at, 'the lock went with the old password').to.equal(null);
    expect(Number(account!.failed_attempts)).to.equal(0);
    expect((await h.portalLogin('locked.again@example.com', again.password)).status).to.equal(200);
    const { html } = await h.contactPage(id);
    expect(html).to.include('Unlocked by Ada Admin');
  });

  /** Five wrong passwords lock the account; answers the lock mail (with its unlock link), as the customer got it. */
  async function lockByWrongPasswords(id: number, email: string) {
    const since = h.mailbox.received.length;
    for (let i = 1; i <= 5; i++) expect((await h.portalLogin(email, `Wrong-guess-${i}`)).status).to.equal(401);
    expect((await h.account(id))!.locked_at).not.to.equal(null);
    return h.mailbox.waitFor(email, { since, subject: /locked/ });
  }

  /** The rows of the Check Business Portal login page's locked list that are this contact's. */
  async function listedAsLocked(id: number): Promise<boolean> {
    const response = await fetch(`${h.url}/settings/business-portal/login-check`, { headers: { cookie: h.admin } });
    expect(response.status).to.equal(200);
    const locked = /<table class="bp-stack bp-locked">[\s\S]*?<\/table>/.exec(await response.text())?.[0] ?? '';
    return locked.includes(`data-contact-id="${id}"`);
  }

  it('a locked portal user whose email the CRM changes can sign in with the access details mailed to the new address', async () => {
    const id = await h.addContact({ firstname: 'Lena', lastname: 'Locked', email: 'lena.before@example.com' });
    const { password } = await enable(id, 'lena.before@example.com');
    await lockByWrongPasswords(id, 'lena.before@example.com');
    expect(await listedAsLocked(id), 'the page lists the lock').to.equal(true);
    const [links] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_unlock_links WHERE contact_id = :id AND used_at IS NULL AND revoked_at IS NULL', { id });
    expect(Number(links!.n), 'the lock mail carries a live unlock link').to.equal(1);

    const since = h.mailbox.received.length;
    await h.api.records.update('Contacts', id, { values: { email: 'lena.after@example.com' } });
    const fresh = passwordIn(await h.mailbox.waitFor('lena.after@example.com', { since }));
    expect(fresh).not.to.equal(password);
    const account = await h.account(id);
    expect(account!.locked_at, 'the lock went with the password it protected').to.equal(null);
    expect(Number(account!.failed_attempts)).to.equal(0);
    expect((await h.portalLogin('lena.after@example.com', fresh)).status, 'the access details just mailed work').to.equal(200);
    expect(await listedAsLocked(id), 'no longer listed as locked').to.equal(false);
    const [live] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_unlock_links WHERE contact_id = :id AND used_at IS NULL AND revoked_at IS NULL', { id });
    expect(Number(live!.n), 'the unlock link sent for the lock is dead').to.equal(0);

    const unlocks = await h.sql<{ reason: unknown }>("SELECT reason FROM bp_login_history WHERE contact_id = :id AND event = 'unlocked'", { id });
    expect(unlocks.map((row) => row.reason)).to.deep.equal(['email_changed']);
    const { html } = await h.contactPage(id);
    expect(html).to.include('Unlocked: the email changed and new access details were sent to the new address');
    expect(html).to.include('Email changed: new access details sent');
    await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      expect((await h.contactPage(id)).html).to.include('Sbloccato: l’email è cambiata e al nuovo indirizzo sono stati inviati nuovi dati di accesso');
    } finally {
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }

    // A later run of five failures locks the account again, as after any unlock.
    await lockByWrongPasswords(id, 'lena.after@example.com');
  });

  it('failures short of a lock do not outlive new access details: after an email change or a switch-on one typo locks nobody', async () => {
    // Four wrong guesses at the old password, then the CRM changes the email and mails a new password.
    const id = await h.addContact({ firstname: 'Tina', lastname: 'Typo', email: 'tina.before@example.com' });
    await enable(id, 'tina.before@example.com');
    for (let i = 1; i <= 4; i++) expect((await h.portalLogin('tina.before@example.com', `Wrong-guess-${i}`)).status).to.equal(401);
    expect(Number((await h.account(id))!.failed_attempts)).to.equal(4);
    const since = h.mailbox.received.length;
    await h.api.records.update('Contacts', id, { values: { email: 'tina.after@example.com' } });
    const fresh = passwordIn(await h.mailbox.waitFor('tina.after@example.com', { since }));
    let account = await h.account(id);
    expect(Number(account!.failed_attempts), 'the count starts again with the new password').to.equal(0);
    expect(account!.first_failed_at).to.equal(null);
    // One typo with the new password: not the fifth failure of a run that began with the old one.
    expect((await h.portalLogin('tina.after@example.com', `${fresh}x`)).status).to.equal(401);
    expect((await h.account(id))!.locked_at, 'one typo locks nobody').to.equal(null);
    expect((await h.portalLogin('tina.after@example.com', fresh)).status).to.equal(200);

    // The same by an admin: switched off with four failures counted, then on again with a new password.
    const other = await h.addContact({ firstname: 'Ugo', lastname: 'Typo', email: 'ugo.typo@example.com' });
    await enable(other, 'ugo.typo@example.com');
    for (let i = 1; i <= 4; i++) expect((await h.portalLogin('ugo.typo@example.com', `Wrong-guess-${i}`)).status).to.equal(401);
    expect((await h.savePortalUser(other, { portalUser: 'no' })).status).to.equal(200);
    const again = await enable(other, 'ugo.typo@example.com');
    account = await h.account(other);
    expect(Number(account!.failed_attempts), 'the count starts again with the new password').to.equal(0);
    expect(account!.first_failed_at).to.equal(null);
    expect((await h.portalLogin('ugo.typo@example.com', `${again.password}x`)).status).to.equal(401);
    expect((await h.account(other))!.locked_at, 'one typo locks nobody').to.equal(null);
    expect((await h.portalLogin('ugo.typo@example.com', again.password)).status).to.equal(200);
  });

  it('an unlock after an email change whose save fails leaves the account locked as it was', async () => {
    const id = await h.addContact({ firstname: 'Ugo', lastname: 'Unsaved', email: 'ugo.before@example.com' });
    await enable(id, 'ugo.before@example.com');
    await lockByWrongPasswords(id, 'ugo.before@example.com');
    const before = await h.account(id);

    // The unlock's last statement (its login history row) fails.
    const sequelize = h.api.database.sequelize;
    sequelize.addHook('beforeQuery', 'unlock-fails', (options: unknown) => {
      const replacements = (options as { replacements?: Record<string, unknown> }).replacements;
      if (replacements?.contactId === id && replacements?.event === 'unlocked') throw new Error('The database went away');
    });
    const since = h.mailbox.received.length;
    try {
      await h.api.records.update('Contacts', id, { values: { email: 'ugo.after@example.com' } });
    } finally {
      sequelize.removeHook('beforeQuery', 'unlock-fails');
    }
    await h.mailbox.waitFor('ugo.after@example.com', { since });
    const after = await h.account(id);
    expect(String(after!.locked_at), 'still locked').to.equal(String(before!.locked_at));
    expect(Number(after!.failed_attempts)).to.equal(Number(before!.failed_attempts));
    expect(await listedAsLocked(id), 'still listed: an admin unlocks it there').to.equal(true);
    const [live] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_unlock_links WHERE contact_id = :id AND used_at IS NULL AND revoked_at IS NULL', { id });
    expect(Number(live!.n), 'the unlock link mailed to the old address died with the email change, which committed').to.equal(0);
    const [unlocks] = await h.sql<{ n: unknown }>("SELECT COUNT(*) AS n FROM bp_login_history WHERE contact_id = :id AND event = 'unlocked'", { id });
    expect(Number(unlocks!.n)).to.equal(0);
    expect(h.logs.some((line) => line.level === 'error' && line.message.includes('keeping a portal account in step with its contact failed'))).to.equal(true);
  });

  it('a changed email moves the login and re-sends access details; the old email no longer signs in', async () => {
    const id = await h.addContact({ firstname: 'Moving', lastname: 'Mail', email: 'old.mail@example.com' });
    const { password } = await enable(id, 'old.mail@example.com');
    const login = await h.portalLogin('old.mail@example.com', password);
    const changed = await h.changePassword(login.cookie!, password, NEW_PASSWORD);
    expect(await h.me(changed.cookie!)).to.equal(200);

    const since = h.mailbox.received.length;
    await h.api.records.update('Contacts', id, { values: { email: 'New.Mail@example.com' } });
    const mail = await h.mailbox.waitFor('new.mail@example.com', { since });
    const fresh = passwordIn(mail);
    expect(fresh).not.to.equal(password);
    expect((await h.account(id))!.email).to.equal('new.mail@example.com');
    expect(await h.me(changed.cookie!), 'sessions of the old credentials end').to.equal(401);
    expect((await h.portalLogin('old.mail@example.com', NEW_PASSWORD)).status).to.equal(401);
    expect((await h.portalLogin('new.mail@example.com', NEW_PASSWORD)).status, 'the old password is replaced').to.equal(401);
    expect((await h.portalLogin('new.mail@example.com', fresh)).status).to.equal(200);

    // The same event delivered again (another process, a retry) changes and sends nothing.
    const versionBefore = (await h.account(id))!.version;
    const count = h.mailbox.received.length;
    await h.listeners.contactUpdated({ record: (await h.api.records.get('Contacts', id))! });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length).to.equal(count);
    expect((await h.account(id))!.version).to.equal(versionBefore);
    expect((await h.contactPage(id)).html).to.include('Email changed: new access details sent');
  });

  /**
   * Clears (or replaces with `newEmail`) the contact's email in the database (as another CRM user
   * saving it would, without the event) right before the first read of the contact once `arm` has matched a statement that ran:
   * the read the mailer makes after the save committed, when the email had been checked before.
   */
  function clearEmailBeforeNextRead(
    contactId: number,
    arm: (sql: string, replacements: Record<string, unknown> | undefined) => boolean,
    newEmail = '',
    meanwhile?: () => Promise<void>,
  ) {
    const sequelize = h.api.database.sequelize;
    const name = `email-vanishes-${contactId}`;
    let armed = false;
    let cleared = false;
    sequelize.addHook('afterQuery', `${name}-arm`, (options: unknown, query: unknown) => {
      if (!cleared && arm(String((query as { sql?: unknown }).sql ?? ''), (options as { replacements?: Record<string, unknown> }).replacements)) armed = true;
    });
    sequelize.addHook('beforeQuery', name, async (options: unknown) => {
      // Before it runs a statement has no SQL yet: the host's read of a record is the SELECT bound to its id alone.
      const { bind, type } = options as { bind?: Record<string, unknown>; type?: string };
      if (!armed || cleared || type !== 'SELECT' || bind?.id !== contactId || Object.keys(bind).length !== 1) return;
      cleared = true;
      await sequelize.query('UPDATE mod_contacts SET email = :newEmail WHERE id = :contactId', { replacements: { contactId, newEmail } });
      await meanwhile?.();
    });
    return {
      get cleared() {
        return cleared;
      },
      remove() {
        sequelize.removeHook('afterQuery', `${name}-arm`);
        sequelize.removeHook('beforeQuery', name);
      },
    };
  }

  /**
   * Turns portal access on for `id` while its email is cleared (or set to `replacement`) between the
   * save and the mail: armed by the save's own history row, written in its transaction, so the next
   * read of the contact is the mailer's.
   */
  async function switchOnWhileTheEmailChanges(id: number, replacement?: string): Promise<{ status: number; html: string }> {
    const race = clearEmailBeforeNextRead(id, (sql, r) => /INSERT INTO bp_login_history/i.test(sql) && r?.contactId === id && r?.event === 'enabled', replacement);
    try {
      const saved = await h.savePortalUser(id, { portalUser: 'yes' });
      expect(race.cleared, 'the email was changed between the save and the mail').to.equal(true);
      return saved;
    } finally {
      race.remove();
    }
  }

  it('an email that vanishes between the save and the mail: the admin is told that, not that a template is missing', async () => {
    const id = await h.addContact({ firstname: 'Vera', lastname: 'Vanishing', email: 'vera.vanishing@example.com' });
    const since = h.mailbox.received.length;
    const saved = await switchOnWhileTheEmailChanges(id);
    expect(saved.status, saved.html).to.equal(200);
    expect(saved.html).not.to.include('The access details were sent');
    expect(saved.html).not.to.include('no email template');
    expect(saved.html).to.include('The contact is now a portal user, but no access details were sent: the contact’s email address was changed or removed meanwhile.');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'nothing was sent').to.equal(since);
  });

  it('an email changed to another address between the save and the mail: nothing goes to that unchecked address, and the admin is told', async () => {
    const id = await h.addContact({ firstname: 'Wanda', lastname: 'Changing', email: 'wanda.checked@example.com' });
    const since = h.mailbox.received.length;
    const saved = await switchOnWhileTheEmailChanges(id, 'wanda.unchecked@example.com');
    expect(saved.status, saved.html).to.equal(200);
    expect(saved.html).not.to.include('The access details were sent to wanda.checked@example.com');
    expect(saved.html).to.include('The contact is now a portal user, but no access details were sent: the contact’s email address was changed or removed meanwhile.');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.slice(since), 'nothing was sent, to either address').to.deep.equal([]);
  });

  it('an email that vanishes between an email change and its mail: the login history says no access details were sent, and why', async () => {
    const id = await h.addContact({ firstname: 'Otto', lastname: 'Vanishing', email: 'otto.before@example.com' });
    const { password } = await enable(id, 'otto.before@example.com');
    const since = h.mailbox.received.length;
    // Armed by the change's last statement in its transaction (its sessions end): the next read of the contact is the mailer's.
    const race = clearEmailBeforeNextRead(id, (sql, r) => /DELETE FROM bp_sessions WHERE contact_id/i.test(sql) && r?.contactId === id);
    try {
      await h.api.records.update('Contacts', id, { values: { email: 'otto.after@example.com' } });
    } finally {
      race.remove();
    }
    expect(race.cleared, 'the email was cleared between the change and the mail').to.equal(true);
    const { html } = await h.contactPage(id);
    expect(html).not.to.include('Email changed: new access details sent');
    expect(html).to.include('Email changed: no new access details were sent: the contact’s email address had changed again or been removed by then. The password was kept: the customer signs in with the new email address and their current password');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'nothing was sent').to.equal(since);
    // Nobody was told the password the change made: the one the customer had is back, to change at the first sign-in as before.
    const account = await h.account(id);
    expect(account!.email).to.equal('otto.after@example.com');
    expect(Boolean(account!.must_change_password)).to.equal(true);
    expect((await h.portalLogin('otto.after@example.com', password)).status, 'the new email with the current password').to.equal(200);
    const [row] = await h.sql<{ reason: unknown }>("SELECT reason FROM bp_login_history WHERE contact_id = :id AND event = 'access_sent'", { id });
    expect(row!.reason).to.equal('no_email_password_kept');
  });

  it('a password set between an email change and its mail that did not leave is not replaced by the one before', async () => {
    const id = await h.addContact({ firstname: 'Pia', lastname: 'Meanwhile', email: 'pia.before@example.com' });
    const { password } = await enable(id, 'pia.before@example.com');
    const since = h.mailbox.received.length;
    // As an admin's switch-on or a reset would while the mail is on its way: a password someone is told.
    const hash = await new ScryptPasswordHasher().hash(NEW_PASSWORD);
    const race = clearEmailBeforeNextRead(id, (sql, r) => /DELETE FROM bp_sessions WHERE contact_id/i.test(sql) && r?.contactId === id, '', async () => {
      await h.api.database.sequelize.query('UPDATE bp_portal_accounts SET password_hash = :hash, must_change_password = :no WHERE contact_id = :id', { replacements: { hash, no: false, id } });
    });
    try {
      await h.api.records.update('Contacts', id, { values: { email: 'pia.after@example.com' } });
    } finally {
      race.remove();
    }
    expect(race.cleared).to.equal(true);
    expect((await h.portalLogin('pia.after@example.com', NEW_PASSWORD)).status, 'the password set meanwhile holds').to.equal(200);
    expect((await h.portalLogin('pia.after@example.com', password)).status).to.equal(401);
    const [row] = await h.sql<{ reason: unknown }>("SELECT reason FROM bp_login_history WHERE contact_id = :id AND event = 'access_sent'", { id });
    expect(row!.reason, 'not said to be kept: the customer’s password is the one set meanwhile').to.equal('no_email');
    const { html } = await h.contactPage(id);
    expect(html).to.include('Email changed: no new access details were sent: the contact’s email address had changed again or been removed by then');
    expect(html).not.to.include('The password was kept');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'nothing was sent').to.equal(since);
  });

  it('an email removed from the contact switches the portal user off', async () => {
    const id = await h.addContact({ firstname: 'Losing', lastname: 'Mail', email: 'losing.mail@example.com' });
    const { password } = await enable(id, 'losing.mail@example.com');
    const login = await h.portalLogin('losing.mail@example.com', password);
    await h.api.records.update('Contacts', id, { values: { email: '' } });
    expect(Boolean((await h.account(id))!.portal_enabled)).to.equal(false);
    expect(await h.me(login.cookie!)).to.equal(401);
  });

  it('deleting the contact removes its portal account and ends its sessions (twice is harmless)', async () => {
    const id = await h.addContact({ firstname: 'Gone', lastname: 'Soon', email: 'gone.soon@example.com' });
    const { password } = await enable(id, 'gone.soon@example.com');
    const login = await h.portalLogin('gone.soon@example.com', password);
    expect(login.status).to.equal(200);
    await h.api.records.delete('Contacts', id);
    expect(await h.account(id)).to.equal(undefined);
    const [sessions] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_sessions WHERE contact_id = :id', { id });
    expect(Number(sessions!.n)).to.equal(0);
    expect(await h.me(login.cookie!)).to.equal(401);
    await h.listeners.contactDeleted(id);
    expect(await h.account(id)).to.equal(undefined);
  });

  it('deleting the contact also removes its password-reset links, sign-in codes and unlock links', async () => {
    const id = await h.addContact({ firstname: 'Gone', lastname: 'Clean', email: 'gone.clean@example.com' });
    await enable(id, 'gone.clean@example.com');
    const since = h.mailbox.received.length;
    const forgot = await fetch(`${h.url}/portal/api/v1/auth/forgot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'gone.clean@example.com' }),
    });
    expect(forgot.status).to.equal(202);
    const resetMail = await h.mailbox.waitFor('gone.clean@example.com', { since, subject: /password/i });
    // Five wrong passwords lock the account and mail an unlock link.
    for (let i = 0; i < 5; i++) expect((await h.portalLogin('gone.clean@example.com', `Wrong-password-${i}`)).status).to.equal(401);
    await h.mailbox.waitFor('gone.clean@example.com', { since: h.mailbox.received.indexOf(resetMail) + 1 });
    // A second factor's code step under way (its challenge, as the code step stores it).
    const now = new Date();
    await h.api.database.sequelize.query(
      `INSERT INTO bp_two_factor_challenges (id, contact_id, method, code_hash, remember, attempts, created_at, expires_at) VALUES (:challenge, :id, 'email', :hash, :no, 0, :now, :later)`,
      { replacements: { challenge: 'c'.repeat(64), id, hash: 'd'.repeat(64), no: false, now, later: new Date(now.getTime() + 600_000) } },
    );
    const count = async (table: string) => Number((await h.sql<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table} WHERE contact_id = :id`, { id }))[0]!.n);
    const tables = ['bp_reset_tokens', 'bp_two_factor_challenges', 'bp_unlock_links'];
    for (const table of tables) expect(await count(table), table).to.equal(1);
    await h.api.records.delete('Contacts', id);
    for (const table of tables) expect(await count(table), table).to.equal(0);
  });

  it('deleting the contact removes its login history: a contact given its id later shows none of it', async () => {
    const email = 'gone.history@example.com';
    const id = await h.addContact({ firstname: 'Gone', lastname: 'History', email });
    const { password } = await enable(id, email);
    expect((await h.portalLogin(email, 'Wrong-password-1')).status).to.equal(401);
    expect((await h.portalLogin(email, password)).status).to.equal(200);
    const history = async (contactId: number) => h.sql<{ event: string; ip: string | null }>('SELECT event, ip FROM bp_login_history WHERE contact_id = :contactId', { contactId });
    expect((await history(id)).map((row) => row.event)).to.include.members(['enabled', 'failed', 'login']);
    const historyPage = async (contactId: number) => {
      const response = await fetch(`${h.url}/settings/business-portal/contacts/${contactId}/login-history`, { headers: { cookie: h.admin } });
      return { status: response.status, html: await response.text() };
    };
    expect((await historyPage(id)).html).to.include('data-event="failed"');

    await h.api.records.delete('Contacts', id);
    expect(await history(id), 'the history rows, with their client addresses').to.deep.equal([]);

    // A host that gives a later contact this id (the reference host does not: here the new
    // contact's row takes it).
    const later = await h.addContact({ firstname: 'Later', lastname: 'Person', email: 'later.person@example.com' });
    await h.api.database.sequelize.query(`UPDATE ${h.test.host.registry.tableName('Contacts')} SET id = :id WHERE id = :later`, { replacements: { id, later } });
    expect((await h.api.records.get('Contacts', id))?.values.lastname).to.equal('Person');
    const page = await historyPage(id);
    expect(page.status).to.equal(200);
    expect(page.html).not.to.include('data-event=');
    expect(page.html).to.include('No portal sign-in events yet');
    const block = await h.contactPage(id);
    expect(block.status).to.equal(200);
    expect(block.html).not.to.include('data-event=');
  });

  describe('attacks', () => {
    it('without the CSRF token, or with another one, nothing changes (403)', async () => {
      const id = await h.addContact({ firstname: 'Csrf', lastname: 'Target', email: 'csrf.target@example.com' });
      const since = h.mailbox.received.length;
      for (const csrf of [null, '', 'forged-token', 'A'.repeat(43)]) {
        const saved = await h.savePortalUser(id, { portalUser: 'yes', version: '0' }, { csrf });
        expect(saved.status, String(csrf)).to.equal(403);
      }
      expect(await h.account(id)).to.equal(undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(h.mailbox.received.length).to.equal(since);
    });

    it('a non-admin CRM user sees no form and is refused (403); anonymous goes to the login', async () => {
      const id = await h.addContact({ firstname: 'Clerk', lastname: 'Target', email: 'clerk.target@example.com' });
      const page = await h.contactPage(id, h.clerk);
      expect(page.status).to.equal(200);
      expect(page.html).to.include('id="bp-contact-portal-user"');
      expect(page.html).not.to.include('bp-portal-user-form');
      expect(page.html).to.include('Only CRM administrators can change portal access.');
      const { token } = await h.formToken(id);
      const saved = await h.savePortalUser(id, { portalUser: 'yes', version: '0' }, { cookie: h.clerk, csrf: token });
      expect(saved.status).to.equal(403);
      const anonymous = await h.savePortalUser(id, { portalUser: 'yes', version: '0' }, { cookie: '', csrf: token });
      expect(anonymous.status).to.equal(303);
      expect(await h.account(id)).to.equal(undefined);
    });

    it('a non-admin CRM user reads the support dates as days in the page’s language, as the reminder mail writes them', async () => {
      const id = await h.addContact({ firstname: 'Clerk', lastname: 'Reader', email: 'clerk.reader@example.com' });
      await enable(id, 'clerk.reader@example.com', { supportStartDate: '2027-03-28', supportEndDate: '2027-10-31' });
      const page = await h.contactPage(id, h.clerk);
      expect(page.status).to.equal(200);
      const settings = /<dl class="bp-portal-user-settings">[\s\S]*?<\/dl>/.exec(page.html)?.[0] ?? '';
      expect(settings).to.include('<time datetime="2027-03-28">March 28, 2027</time>').and.include('<time datetime="2027-10-31">October 31, 2027</time>');
      // No support end date: said so, not an empty line.
      await h.api.database.sequelize.query('UPDATE bp_portal_accounts SET support_end_date = NULL WHERE contact_id = :id', { replacements: { id } });
      const open = /<dl class="bp-portal-user-settings">[\s\S]*?<\/dl>/.exec((await h.contactPage(id, h.clerk)).html)?.[0] ?? '';
      expect(open).to.match(/<dt>Support end date<\/dt>\s*<dd>None<\/dd>/);
    });

    it('a form saved over someone else’s change is refused (409), sending nothing', async () => {
      const id = await h.addContact({ firstname: 'Two', lastname: 'Admins', email: 'two.admins@example.com' });
      const { token, version } = await h.formToken(id);
      await enable(id, 'two.admins@example.com');
      const since = h.mailbox.received.length;
      const stale = await h.savePortalUser(id, { portalUser: 'yes', version, supportEndDate: '2099-01-01' }, { csrf: token });
      expect(stale.status).to.equal(409);
      expect(stale.html).to.include('someone else changed');
      expect(String((await h.account(id))!.support_end_date).slice(0, 10)).not.to.equal('2099-01-01');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(h.mailbox.received.length).to.equal(since);
    });

    it('a customer signing in, or failing to, while the form is open changes none of its settings: switching off still ends the sessions', async () => {
      const id = await h.addContact({ firstname: 'Busy', lastname: 'Customer', email: 'busy.customer@example.com' });
      const { password } = await enable(id, 'busy.customer@example.com');
      const { token, version } = await h.formToken(id);
      // Whoever holds the password signs in and out of the portal as the admin moves to stop them.
      const login = await h.portalLogin('busy.customer@example.com', password);
      expect(login.status).to.equal(200);
      expect((await h.portalLogin('busy.customer@example.com', 'Wrong-password-1')).status).to.equal(401);
      const saved = await h.savePortalUser(id, { portalUser: 'no', version }, { csrf: token });
      expect(saved.status, saved.html).to.equal(200);
      expect(saved.html).to.include('no longer a portal user');
      expect(await h.me(login.cookie!)).to.equal(401);
    });

    it('malformed forms get a 400 naming the field, never a 500', async () => {
      const id = await h.addContact({ firstname: 'Bad', lastname: 'Input', email: 'bad.input@example.com' });
      const cases: Record<string, string>[] = [
        { supportStartDate: '2026-02-31' },
        { supportEndDate: '31/12/2026' },
        { supportEndDate: XSS },
        { portalUser: 'maybe' },
        { profileId: '-1' },
        { profileId: "1' OR 1=1" },
        { version: 'x' },
        { contactId: '1' },
      ];
      for (const fields of cases) {
        const saved = await h.savePortalUser(id, fields);
        expect(saved.status, JSON.stringify(fields)).to.equal(400);
        expect(saved.html).not.to.include(XSS);
      }
      const dated = await h.savePortalUser(id, { supportStartDate: '2026-02-31' });
      expect(dated.html).to.include('Check these fields: Support start date.');
      const unknownProfile = await h.savePortalUser(id, { profileId: '999999' });
      expect(unknownProfile.status).to.equal(422);
      for (const path of ['/settings/business-portal/contacts/abc/portal-user', '/settings/business-portal/contacts/999999/portal-user']) {
        const { token } = await h.formToken(id);
        const response = await fetch(`${h.url}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: h.admin },
          body: new URLSearchParams({ _csrf: token, portalUser: 'yes', profileId: '', supportStartDate: '', supportEndDate: '', version: '0' }).toString(),
        });
        expect(response.status, path).to.equal(404);
      }
      expect(await h.account(id)).to.equal(undefined);
    });

    it('a script in the contact’s name and email is shown escaped in the section and the pages', async () => {
      const id = await h.addContact({ firstname: XSS, lastname: 'Canary', email: 'canary@example.com' });
      await enable(id, 'canary@example.com');
      const { html } = await h.contactPage(id);
      const section = /<div class="bp-contact-section" id="bp-contact-portal-user">[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
      expect(section).to.include('Portal access of &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt; Canary');
      expect(html).not.to.include(XSS);
      const noMail = await h.addContact({ firstname: XSS, lastname: 'NoMail' });
      const page = await h.contactPage(noMail);
      expect(page.html).not.to.include(XSS);
      expect(page.html).to.include('&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt; NoMail has no valid email address');
    });
  });
});

describe('contacts: turning portal user on with no access-details template in the CRM @db', function () {
  this.timeout(60_000);
  let h: ContactsHost;

  before(async () => {
    h = await startContactsHost();
    const [row] = await h.api.database.sequelize.query<{ id: unknown }>('SELECT id FROM crm_email_templates WHERE name = :name', {
      replacements: { name: 'Customer portal: access details' },
      type: QueryTypes.SELECT,
    });
    await deleteEmailTemplate(h.api, Number(row!.id));
  });
  after(async () => h?.stop());

  it('saves the portal user but tells the admin that no access details were sent', async () => {
    const id = await h.addContact({ firstname: 'Nora', lastname: 'Template', email: 'no.template@example.com' });
    const since = h.mailbox.received.length;
    const saved = await h.savePortalUser(id, { portalUser: 'yes' });
    expect(saved.status, saved.html).to.equal(200);
    expect(saved.html).not.to.include('The access details were sent');
    expect(saved.html).to.include('The contact is now a portal user, but no access details were sent to no.template@example.com: no email template for them is chosen or found in the CRM.');
    expect(Boolean((await h.account(id))!.portal_enabled)).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'nothing was sent').to.equal(since);
  });

  it('a portal user’s email changed in the CRM: the login history says no new access details were sent, and why', async () => {
    const id = await h.addContact({ firstname: 'Nils', lastname: 'Template', email: 'nils.before@example.com' });
    expect((await h.savePortalUser(id, { portalUser: 'yes' })).status).to.equal(200);
    const since = h.mailbox.received.length;
    const logged = h.logs.length;
    await h.api.records.update('Contacts', id, { values: { email: 'nils.after@example.com' } });
    expect((await h.account(id))!.email, 'the login still follows the contact').to.equal('nils.after@example.com');
    const { html } = await h.contactPage(id);
    expect(html).not.to.include('Email changed: new access details sent');
    expect(html).to.include('Email changed: no new access details were sent: no email template for them is chosen or found in the CRM');
    expect(html).to.include('Email changed: no new access details were sent: no email template for them is chosen or found in the CRM. The password was kept: the customer signs in with the new email address and their current password');
    const [row] = await h.sql<{ reason: unknown }>("SELECT reason FROM bp_login_history WHERE contact_id = :id AND event = 'access_sent'", { id });
    expect(row!.reason).to.equal('no_template_password_kept');
    await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await h.contactPage(id);
      expect(italian.html).to.include('Email cambiata: nessun nuovo dato di accesso inviato: nel CRM non è scelto né presente alcun template email');
      expect(italian.html).to.include('La password è rimasta la stessa: il cliente accede con il nuovo indirizzo email e la password attuale');
      expect(italian.html).not.to.include('nuovi dati di accesso inviati');
    } finally {
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
    const lines = h.logs.slice(logged).map((line) => `${line.level} ${line.message}`);
    expect(lines.filter((line) => /access details sent/.test(line)), 'the host log says nothing was sent').to.deep.equal([]);
    expect(lines).to.include('warn Business Portal: new portal access details not sent');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'nothing was sent').to.equal(since);
  });

  it('a portal user’s email changed with no template: the customer signs in with the new email and their current password, and stays signed in', async () => {
    const id = await h.addContact({ firstname: 'Kim', lastname: 'Kept', email: 'kim.before@example.com' });
    expect((await h.savePortalUser(id, { portalUser: 'yes' })).status).to.equal(200);
    // The password the customer chose (no access details can be mailed here to sign in with first).
    const hash = await new ScryptPasswordHasher().hash(NEW_PASSWORD);
    await h.api.database.sequelize.query('UPDATE bp_portal_accounts SET password_hash = :hash, must_change_password = :no WHERE contact_id = :id', { replacements: { hash, no: false, id } });
    const login = await h.portalLogin('kim.before@example.com', NEW_PASSWORD);
    expect(login.status).to.equal(200);
    // A recovery link mailed to the old address before the change.
    const asked = h.mailbox.received.length;
    const forgot = await fetch(`${h.url}/portal/api/v1/auth/forgot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'kim.before@example.com' }) });
    expect(forgot.status).to.equal(202);
    const token = resetTokenIn(await h.mailbox.waitFor('kim.before@example.com', { since: asked }));

    const since = h.mailbox.received.length;
    await h.api.records.update('Contacts', id, { values: { email: 'Kim.After@example.com' } });
    const account = await h.account(id);
    expect(account!.email).to.equal('kim.after@example.com');
    expect(Boolean(account!.must_change_password), 'no password to change: it is still the customer’s own').to.equal(false);
    expect(await h.me(login.cookie!), 'only the login name changed: the session goes on').to.equal(200);
    expect((await h.portalLogin('kim.after@example.com', NEW_PASSWORD)).status, 'the new email with the current password').to.equal(200);
    expect((await h.portalLogin('kim.before@example.com', NEW_PASSWORD)).status, 'the old email no longer signs in').to.equal(401);

    // The link went to the address that is no longer the login: it sets no password.
    const reset = await fetch(`${h.url}/portal/api/v1/auth/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, newPassword: 'Taken over passphrase 4' }) });
    expect(reset.status).to.equal(400);
    expect((await h.portalLogin('kim.after@example.com', 'Taken over passphrase 4')).status).to.equal(401);
    expect((await h.portalLogin('kim.after@example.com', NEW_PASSWORD)).status).to.equal(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'nothing was sent').to.equal(since);
  });

  it('attack: the unlock link mailed to the old address no longer unlocks once the CRM changed the email, though nothing was sent', async () => {
    const id = await h.addContact({ firstname: 'Lou', lastname: 'Locked', email: 'lou.before@example.com' });
    expect((await h.savePortalUser(id, { portalUser: 'yes' })).status).to.equal(200);
    const hash = await new ScryptPasswordHasher().hash(NEW_PASSWORD);
    await h.api.database.sequelize.query('UPDATE bp_portal_accounts SET password_hash = :hash, must_change_password = :no WHERE contact_id = :id', { replacements: { hash, no: false, id } });
    const since = h.mailbox.received.length;
    for (let i = 1; i <= 5; i++) expect((await h.portalLogin('lou.before@example.com', `Wrong-guess-${i}`)).status).to.equal(401);
    const lockMail = await h.mailbox.waitFor('lou.before@example.com', { since, subject: /locked/ });
    const token = /\/portal\/unlock\?token=([A-Za-z0-9_-]{43})/.exec(lockMail.text ?? '')?.[1];
    expect(token, 'the lock mail carries an unlock link').to.be.a('string');
    const lockedAt = (await h.account(id))!.locked_at;
    expect(lockedAt).not.to.equal(null);

    // The CRM moves the contact to another address (no access details can be sent: no template).
    await h.api.records.update('Contacts', id, { values: { email: 'lou.after@example.com' } });
    expect((await h.account(id))!.email).to.equal('lou.after@example.com');

    // Whoever still reads the old mailbox follows the link: the same dead-link answer as a token nobody was given.
    const unlock = async (method: 'GET' | 'POST', value: string) => {
      const response =
        method === 'GET'
          ? await fetch(`${h.url}/portal/unlock?token=${value}`)
          : await fetch(`${h.url}/portal/unlock`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: value }).toString() });
      return { status: response.status, html: await response.text() };
    };
    const unknown = 'A'.repeat(43);
    for (const method of ['GET', 'POST'] as const) {
      const old = await unlock(method, token!);
      const never = await unlock(method, unknown);
      expect(old.status, method).to.equal(400);
      // The page's language form holds a form token of its own, new on each answer to a visitor without a session.
      const formToken = (html: string) => html.replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="…"');
      expect(formToken(old.html), `${method}: no oracle between a dead link and an unknown one`).to.equal(formToken(never.html.replaceAll(unknown, token!)));
      expect(old.html).to.include('This unlock link is no longer valid');
    }
    const account = await h.account(id);
    expect(String(account!.locked_at), 'still locked').to.equal(String(lockedAt));
    expect((await h.portalLogin('lou.after@example.com', NEW_PASSWORD)).status).to.equal(401);
    const [live] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_unlock_links WHERE contact_id = :id AND used_at IS NULL AND revoked_at IS NULL', { id });
    expect(Number(live!.n), 'no live link left for the old address').to.equal(0);
  });

  it('an email change whose save fails changes nothing; the same event delivered again follows it', async () => {
    const id = await h.addContact({ firstname: 'Fay', lastname: 'Failing', email: 'fay.before@example.com' });
    expect((await h.savePortalUser(id, { portalUser: 'yes' })).status).to.equal(200);
    const hash = await new ScryptPasswordHasher().hash(NEW_PASSWORD);
    await h.api.database.sequelize.query('UPDATE bp_portal_accounts SET password_hash = :hash, must_change_password = :no WHERE contact_id = :id', { replacements: { hash, no: false, id } });
    const asked = h.mailbox.received.length;
    const forgot = await fetch(`${h.url}/portal/api/v1/auth/forgot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'fay.before@example.com' }) });
    expect(forgot.status).to.equal(202);
    await h.mailbox.waitFor('fay.before@example.com', { since: asked });
    const before = await h.account(id);

    // The change's last statement (its login history row) fails.
    const sequelize = h.api.database.sequelize;
    sequelize.addHook('beforeQuery', 'history-fails', (options: unknown) => {
      const replacements = (options as { replacements?: Record<string, unknown> }).replacements;
      if (replacements?.contactId === id && replacements?.event === 'access_sent') throw new Error('The database went away');
    });
    try {
      await h.api.records.update('Contacts', id, { values: { email: 'fay.after@example.com' } });
    } finally {
      sequelize.removeHook('beforeQuery', 'history-fails');
    }
    const after = await h.account(id);
    expect(after!.email).to.equal('fay.before@example.com');
    expect(after!.version).to.equal(before!.version);
    const [tokens] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_reset_tokens WHERE contact_id = :id', { id });
    expect(Number(tokens!.n), 'the reset link is dropped only with the change').to.equal(1);
    expect((await h.portalLogin('fay.before@example.com', NEW_PASSWORD)).status).to.equal(200);
    expect(h.logs.some((line) => line.level === 'error' && line.message.includes('keeping a portal account in step with its contact failed'))).to.equal(true);

    await h.listeners.contactUpdated({ record: (await h.api.records.get('Contacts', id))! });
    expect((await h.account(id))!.email).to.equal('fay.after@example.com');
    expect((await h.portalLogin('fay.after@example.com', NEW_PASSWORD)).status).to.equal(200);
    const [left] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_reset_tokens WHERE contact_id = :id', { id });
    expect(Number(left!.n)).to.equal(0);
  });
});
