/**
 * What version 1's settings do for mail and ownership (SPEC 2.2), on an install on version 1,
 * through a real SMTP server on loopback:
 * - "Select template" is the template of the access-details mail: turning a contact's portal
 *   access on (and re-sending after an email change) mails the chosen template, with a password
 *   that signs in; with no template chosen, or a chosen one since deleted, the standard one (and
 *   the deleted choice does not stop the admin from saving the rest of the page).
 * - "Select user" (an inactive user too): a ticket created from the portal is assigned to that
 *   user, who is mailed at once, and the portal's dropdowns offer the picklist values that user's
 *   role sees.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { passwordIn } from '../contacts/contacts-fixture.js';
import { apiClient, portalLogin } from '../portal-api/api-test-kit.js';
import { addEmailTemplate, adminClient, deleteEmailTemplate, rows, type AdminClient } from '../profiles/profile-test-kit.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { enablePortalUser, SETTINGS, UPGRADED_FROM_V1, userId } from './settings-test-kit.js';

const CLASSIC = `${SETTINGS}/classic`;
const STANDARD_SUBJECT = 'Your access to the customer portal';

describe('settings: version 1’s access-details template and select user @db', function () {
  this.timeout(60_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;
  let classicTemplate: number;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ installOrigin: UPGRADED_FROM_V1, smtpUrl: mailbox.url });
    api = test.host.api;
    admin = await adminClient(test);
    classicTemplate = await addEmailTemplate(api, {
      name: 'Classic access details',
      module: 'Contacts',
      subject: 'Classic access for {{contact.firstname}}',
      body: 'Classic welcome {{contact.firstname}}. Login: {{portal.email}} Password: {{portal.password}} at {{portal.url}}',
    });
  });
  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  /** Turns portal access on from the contact's page, as an admin does; answers the mail sent. */
  const enable = (contactId: number, email: string) => enablePortalUser(test.url, admin, contactId, mailbox, email);

  const contact = async (firstname: string, email: string) => (await api.records.create('Contacts', { values: { firstname, lastname: 'Classic', email, language: 'en' } })).id;

  it('mails the standard template while none is chosen', async () => {
    const mail = await enable(await contact('Stan', 'stan.classic@example.com'), 'stan.classic@example.com');
    expect(mail.subject).to.equal(STANDARD_SUBJECT);
  });

  it('mails the chosen template, with a password that signs in, also when the email changes', async () => {
    expect((await admin.post(`${CLASSIC}/template`, { templateId: String(classicTemplate) })).status).to.equal(303);
    const id = await contact('Carla', 'carla.classic@example.com');
    const mail = await enable(id, 'carla.classic@example.com');
    expect(mail.subject).to.equal('Classic access for Carla');
    expect(mail.text).to.include('Classic welcome Carla. Login: carla.classic@example.com').and.include('/portal');
    expect(await portalLogin(test, 'carla.classic@example.com', passwordIn(mail))).to.match(/^bp_session=/);

    const since = mailbox.received.length;
    await api.records.update('Contacts', id, { values: { email: 'carla.new@example.com' } });
    expect((await mailbox.waitFor('carla.new@example.com', { since })).subject).to.equal('Classic access for Carla');
  });

  it('falls back to the standard template when the chosen one is deleted', async () => {
    await deleteEmailTemplate(api, classicTemplate);
    const mail = await enable(await contact('Dora', 'dora.classic@example.com'), 'dora.classic@example.com');
    expect(mail.subject).to.equal(STANDARD_SUBJECT);
    // The page says so, and saving another part of it does not fail on the missing template.
    const page = await (await admin.get(CLASSIC)).text();
    expect(page).to.match(/<p class="bp-warning" id="bp-classic-template-missing" role="status">The chosen template no longer exists in the CRM/);
    // Read with the template dropdown, as the privileges page does with its templates.
    expect(page).to.include('<select id="bp-classic-template-id" name="templateId" aria-describedby="bp-classic-template-missing">');
    const saved = await admin.post(`${CLASSIC}/advanced`, { 'related.HelpDesk': 'yes' });
    expect(saved.status, /role="alert"[\s\S]{0,400}/.exec(await saved.text())?.[0]).to.equal(303);
  });
  it('assigns a portal ticket to the select user, mails them at once, and offers the picklist values their role sees', async () => {
    const tom = await userId(api, 'tom.support');
    const chosen = await admin.post(`${CLASSIC}/user`, { userId: String(tom) });
    expect(chosen.status, /role="alert"[\s\S]{0,400}/.exec(await chosen.text())?.[0]).to.equal(303);
    const [role] = await rows<{ id: unknown }>(api, "SELECT id FROM crm_roles WHERE name = 'Support'");
    await test.host.registry.setPicklistRoleValues('HelpDesk', 'priority', Number(role!.id), ['Low', 'Normal']);

    const id = await contact('Tina', 'tina.classic@example.com');
    const password = passwordIn(await enable(id, 'tina.classic@example.com'));
    await api.database.sequelize.query('UPDATE bp_portal_accounts SET must_change_password = :no WHERE contact_id = :id', { replacements: { no: false, id } });
    const tina = apiClient(test, await portalLogin(test, 'tina.classic@example.com', password));

    const priority = ((await tina.get('/modules/HelpDesk/fields')).body.fields as { name: string; options?: unknown[] }[]).find((f) => f.name === 'priority')!;
    expect(JSON.stringify(priority.options)).to.include('Normal').and.not.include('Urgent');

    const since = mailbox.received.length;
    const created = await tina.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Classic printer jam', priority: 'Normal' } });
    expect(created.status).to.equal(201);
    expect((await api.records.get('HelpDesk', created.body.id))!.owner).to.deep.equal({ kind: 'user', id: tom });
    const toOwner = await mailbox.waitFor('tom.support@example.com', { since });
    expect(toOwner.subject).to.equal('New ticket from the customer portal: Classic printer jam');

    const refused = await tina.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Classic urgent', priority: 'Urgent' } });
    expect(refused.status, 'a value the select user’s role does not see').to.equal(422);
  });
});
