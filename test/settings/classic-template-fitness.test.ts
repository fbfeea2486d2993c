/**
 * Version 1's "Select template" is the template of the access-details mail: a template without the
 * password (`{{portal.password}}`) would leave new portal users unable to sign in. The page offers
 * such templates disabled, saying what they lack; choosing one is refused (400, nothing stored);
 * one stored before the check is kept, explained, and passed over for the standard mail.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { passwordIn } from '../contacts/contacts-fixture.js';
import { portalLogin } from '../portal-api/api-test-kit.js';
import { addEmailTemplate, adminClient, deleteEmailTemplate, type AdminClient } from '../profiles/profile-test-kit.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { enablePortalUser, SETTINGS, UPGRADED_FROM_V1, storedSetting } from './settings-test-kit.js';
import { recordStatements } from '../support/database.js';

const CLASSIC = `${SETTINGS}/classic`;

describe('settings: version 1’s template must carry the password @db', function () {
  this.timeout(60_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;
  let invoice: number;
  let fitting: number;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ installOrigin: UPGRADED_FROM_V1, smtpUrl: mailbox.url });
    api = test.host.api;
    admin = await adminClient(test);
    invoice = (await api.emailTemplates.templates()).find((t) => t.name === 'Invoice payment reminder')!.id;
    fitting = await addEmailTemplate(api, { name: 'Classic fit access', module: 'Contacts', subject: 'Classic fit', body: 'Password: {{portal.password}}' });
  });
  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  const templateSelect = async () => /<select id="bp-classic-template-id"[\s\S]*?<\/select>/.exec(await (await admin.get(CLASSIC)).text())?.[0] ?? '';

  it('offers a template without the password disabled, saying what it lacks', async () => {
    const select = await templateSelect();
    expect(select).to.include(`<option value="${invoice}" disabled>Invoice payment reminder — lacks {{portal.password}}</option>`);
    expect(select).to.include(`<option value="${fitting}">Classic fit access</option>`);
  });

  it('reads the templates in a fixed number of statements, however many the CRM has', async () => {
    const recorded = recordStatements(api.database.sequelize, (sql) => sql.includes('crm_email_template'));
    const statements = recorded.sql;
    const added: number[] = [];
    try {
      const reads = async () => {
        statements.length = 0;
        return { select: await templateSelect(), count: statements.length };
      };
      const before = await reads();
      for (let n = 0; n < 5; n++) {
        added.push(await addEmailTemplate(api, { name: `Classic many ${n}`, module: 'Contacts', subject: `Many ${n}`, body: n % 2 === 0 ? 'Password: {{portal.password}}' : 'Welcome' }));
      }
      const after = await reads();
      expect(after.count, `statements on the templates with 5 more of them (${before.count} before)`).to.equal(before.count);
      expect(after.select).to.include(`<option value="${added[0]}">Classic many 0</option>`);
      expect(after.select).to.include(`<option value="${added[1]}" disabled>Classic many 1 — lacks {{portal.password}}</option>`);
    } finally {
      recorded.stop();
      for (const id of added) await deleteEmailTemplate(api, id);
    }
  });

  it('refuses choosing it, stores nothing, and accepts a template with the password', async () => {
    const refused = await admin.post(`${CLASSIC}/template`, { templateId: String(invoice) });
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.include(
      'Portal registration (access credentials): the template “Invoice payment reminder” does not contain the password ({{portal.password}}), so new portal users could not sign in.',
    );
    expect(((await storedSetting(api, 'portal.v1')) as { credentialsTemplateId?: unknown } | undefined)?.credentialsTemplateId ?? null).to.equal(null);
    expect((await admin.post(`${CLASSIC}/template`, { templateId: String(fitting) })).status).to.equal(303);
  });

  it('keeps a stored choice without the password, says so, and sends the standard access details instead', async () => {
    const stored = (await storedSetting(api, 'portal.v1')) as Record<string, unknown>;
    const key = api.database.sequelize.getQueryInterface().quoteIdentifier('key');
    await api.database.sequelize.query(`UPDATE bp_settings SET value = :value WHERE ${key} = 'portal.v1'`, {
      replacements: { value: JSON.stringify({ ...stored, credentialsTemplateId: invoice }) },
    });
    const page = await (await admin.get(CLASSIC)).text();
    expect(page).to.include('The chosen template does not contain the password ({{portal.password}}): the default email is sent until you choose another one.');
    // What the page says about the stored choice is read with its dropdown.
    expect(page).to.match(/<p class="bp-warning" id="bp-classic-template-unfit" role="status" data-bp-template-unfit>/);
    expect(page).to.include('<select id="bp-classic-template-id" name="templateId" aria-describedby="bp-classic-template-unfit">');
    expect(await templateSelect()).to.include(`<option value="${invoice}" selected>Invoice payment reminder — lacks {{portal.password}}</option>`);
    // The template form sent back unchanged is not refused.
    expect((await admin.post(`${CLASSIC}/template`, { templateId: String(invoice) })).status).to.equal(303);

    // A stored select user that no longer exists: said, and read with the user dropdown too.
    await api.database.sequelize.query(`UPDATE bp_settings SET value = :value WHERE ${key} = 'portal.v1'`, {
      replacements: { value: JSON.stringify({ ...(await storedSetting(api, 'portal.v1')) as Record<string, unknown>, userId: 987654 }) },
    });
    const withoutUser = await (await admin.get(CLASSIC)).text();
    expect(withoutUser).to.include('<p class="bp-warning" id="bp-classic-user-missing" role="status">The chosen user no longer exists in the CRM: until you choose another one, tickets opened on the portal get no owner, as with no user chosen, and no one is mailed about them.</p>');
    expect(withoutUser).to.include('<select id="bp-classic-user-id" name="userId" aria-describedby="bp-classic-user-missing">');
    await api.database.sequelize.query(`UPDATE bp_settings SET value = :value WHERE ${key} = 'portal.v1'`, {
      replacements: { value: JSON.stringify({ ...(await storedSetting(api, 'portal.v1')) as Record<string, unknown>, userId: stored.userId ?? null }) },
    });

    const contactId = (await api.records.create('Contacts', { values: { firstname: 'Vera', lastname: 'Classic', email: 'vera.classic@example.com', language: 'en' } })).id;
    const mail = await enablePortalUser(test.url, admin, contactId, mailbox, 'vera.classic@example.com');
    expect(mail.subject).to.equal('Your access to the customer portal');
    expect(await portalLogin(test, 'vera.classic@example.com', passwordIn(mail))).to.match(/^bp_session=/);
  });
});
