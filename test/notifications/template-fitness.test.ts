/**
 * The sending side of template fitness, through a real SMTP server on loopback: a profile that
 * holds a template unfit for its kind (chosen before the save checked it, or by an older release)
 * sends the standard template of the kind instead — the access details with their password, the
 * recovery mail with its link — never an unusable mail; a fitting choice is still sent.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { passwordIn } from '../contacts/contacts-fixture.js';
import { addEmailTemplate, adminClient, type AdminClient } from '../profiles/profile-test-kit.js';
import { PortalClient, resetTokenIn, startSignInHost, type SignInHost } from '../sign-in/sign-in-fixture.js';
import { enablePortalUser } from '../settings/settings-test-kit.js';

describe('notifications: a stored template unfit for its kind falls back to the standard one @db', function () {
  this.timeout(60_000);
  let host: SignInHost;
  let api: HostApi;
  let admin: AdminClient;
  let invoice: number;
  let defaultProfile: number;

  before(async () => {
    host = await startSignInHost();
    api = host.test.host.api;
    admin = await adminClient(host.test);
    invoice = (await api.emailTemplates.templates()).find((t) => t.name === 'Invoice payment reminder')!.id;
    const [row] = await host.sql<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { yes: true });
    defaultProfile = Number(row!.id);
  });
  after(async () => host?.stop());

  /** A new contact whose portal access an admin turns on from its page; answers the mail sent. */
  async function enable(email: string) {
    const contactId = (await api.records.create('Contacts', { values: { firstname: 'Fit', lastname: 'Ness', email, language: 'en' } })).id;
    return enablePortalUser(host.url, admin, contactId, host.mailbox, email);
  }

  it('sends the standard access details, with a password that signs in, instead of a stored template without the password', async () => {
    await host.exec('UPDATE bp_profiles SET template_registration = :invoice WHERE id = :id', { invoice, id: defaultProfile });
    const mail = await enable('fit.registration@example.com');
    expect(mail.subject).to.equal('Your access to the customer portal');
    const password = passwordIn(mail);
    const login = await new PortalClient(host.portal).api('/auth/login', { email: 'fit.registration@example.com', password });
    expect(login.status).to.equal(200);
  });

  it('still sends a chosen template that has the password', async () => {
    const own = await addEmailTemplate(api, { name: 'Fitness: welcome', module: 'Contacts', subject: 'Our own welcome', body: 'Password: {{portal.password}}' });
    await host.exec('UPDATE bp_profiles SET template_registration = :own WHERE id = :id', { own, id: defaultProfile });
    const mail = await enable('fit.own@example.com');
    expect(mail.subject).to.equal('Our own welcome');
    expect(passwordIn(mail)).to.have.length.greaterThan(10);
  });

  it('sends the standard access details instead of a stored template whose plain-text part lacks the password', async () => {
    // The HTML part merges the password, the plain-text alternative (what a text-only mail client shows) does not.
    await host.exec('INSERT INTO crm_email_templates (name, description, module, default_language, created_at, updated_at) VALUES (:name, :d, :m, :l, :now, :now)', {
      name: 'Fitness: HTML only password',
      d: '',
      m: 'Contacts',
      l: 'en',
      now: new Date(),
    });
    const [row] = await host.sql<{ id: unknown }>('SELECT id FROM crm_email_templates WHERE name = :name', { name: 'Fitness: HTML only password' });
    const htmlOnly = Number(row!.id);
    await host.exec('INSERT INTO crm_email_template_versions (template_id, language, subject, html, text, updated_at) VALUES (:id, :l, :s, :h, :t, :now)', {
      id: htmlOnly,
      l: 'en',
      s: 'Half a welcome',
      h: '<p>Password: <strong>{{portal.password}}</strong></p>',
      t: 'Your password is in the HTML version of this message.',
      now: new Date(),
    });
    await host.exec('UPDATE bp_profiles SET template_registration = :htmlOnly WHERE id = :id', { htmlOnly, id: defaultProfile });
    const mail = await enable('fit.text@example.com');
    expect(mail.subject).to.equal('Your access to the customer portal');
    const password = passwordIn(mail);
    expect(mail.html).to.include(password);
    const login = await new PortalClient(host.portal).api('/auth/login', { email: 'fit.text@example.com', password });
    expect(login.status).to.equal(200);
  });

  it('sends a chosen template of plain text only as plain text, with no blank HTML part to hide it', async () => {
    await host.exec('INSERT INTO crm_email_templates (name, description, module, default_language, created_at, updated_at) VALUES (:name, :d, :m, :l, :now, :now)', {
      name: 'Fitness: text only',
      d: '',
      m: 'Contacts',
      l: 'en',
      now: new Date(),
    });
    const [row] = await host.sql<{ id: unknown }>('SELECT id FROM crm_email_templates WHERE name = :name', { name: 'Fitness: text only' });
    const textOnly = Number(row!.id);
    await host.exec('INSERT INTO crm_email_template_versions (template_id, language, subject, html, text, updated_at) VALUES (:id, :l, :s, :h, :t, :now)', {
      id: textOnly,
      l: 'en',
      s: 'Plain welcome',
      h: '',
      t: 'Password: {{portal.password}}',
      now: new Date(),
    });
    await host.exec('UPDATE bp_profiles SET template_registration = :textOnly WHERE id = :id', { textOnly, id: defaultProfile });
    const mail = await enable('fit.plain@example.com');
    expect(mail.subject).to.equal('Plain welcome');
    expect(passwordIn(mail)).to.have.length.greaterThan(10);
    // A mail client shows the HTML part when there is one: a blank one would show nothing, the password neither.
    expect(mail.html, 'no HTML part').to.equal(false);
  });

  it('sends the standard recovery mail, with its link, instead of a stored template without the link', async () => {
    const accessDetails = (await api.emailTemplates.templates()).find((t) => t.name === 'Customer portal: access details')!.id;
    await host.exec('UPDATE bp_profiles SET template_password_recovery = :accessDetails WHERE id = :id', { accessDetails, id: defaultProfile });
    const email = 'fit.recovery@example.com';
    await host.addCustomer({ email, password: 'Correct-horse-7' });
    const since = host.mailbox.received.length;
    expect((await new PortalClient(host.portal).api('/auth/forgot', { email })).status).to.equal(202);
    const mail = await host.mailbox.waitFor(email, { since });
    expect(mail.subject).to.equal('Reset your portal password');
    expect(resetTokenIn(mail)).to.have.length(43);
  });
});
