/**
 * Version 1's Select user and Select template when the stored choice has since been removed from
 * the CRM: the page offers it as the selected option, marked as no longer in the CRM, beside the
 * warning — so the form sent back unchanged keeps it instead of silently clearing it. Choosing
 * another id the CRM does not have is still refused, and the stored choice stays on offer.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { CLASSIC_SETTINGS_KEY, type ClassicSettings } from '../../plugin/settings/classic-settings.js';
import { addEmailTemplate, adminClient, deleteEmailTemplate, type AdminClient } from '../profiles/profile-test-kit.js';
import { sentValue } from '../support/form-values.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { SETTINGS, storedSetting, UPGRADED_FROM_V1 } from './settings-test-kit.js';

const CLASSIC = `${SETTINGS}/classic`;
/** A user id the CRM does not have: the select user, deleted since it was chosen. */
const GONE_USER = 987654;

describe('settings: version 1’s user or template removed from the CRM since it was chosen @db', () => {
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;
  let goneTemplate: number;

  const stored = async () => (await storedSetting(api, CLASSIC_SETTINGS_KEY)) as ClassicSettings;
  const select = (page: string, id: string) => new RegExp(`<select id="${id}"[\\s\\S]*?</select>`).exec(page)?.[0] ?? '';
  const revision = (page: string, form: string) => new RegExp(`action="[^"]+/classic/${form}"[\\s\\S]*?name="revision" value="([^"]+)"`).exec(page)?.[1] ?? '';

  before(async () => {
    test = await startTestHost({ installOrigin: UPGRADED_FROM_V1 });
    api = test.host.api;
    admin = await adminClient(test);
    goneTemplate = await addEmailTemplate(api, { name: 'Classic access soon deleted', module: 'Contacts', subject: 'Access', body: 'Password: {{portal.password}}' });
    expect((await admin.post(`${CLASSIC}/template`, { templateId: String(goneTemplate) })).status).to.equal(303);
    await deleteEmailTemplate(api, goneTemplate);
    const key = api.database.sequelize.getQueryInterface().quoteIdentifier('key');
    await api.database.sequelize.query(`UPDATE bp_settings SET value = :value WHERE ${key} = :key`, {
      replacements: { key: CLASSIC_SETTINGS_KEY, value: JSON.stringify({ ...(await stored()), userId: GONE_USER }) },
    });
  });
  after(async () => {
    await test?.stop();
  });

  it('shows the stored user and template selected, marked as no longer in the CRM, beside the warnings', async () => {
    const page = await (await admin.get(CLASSIC)).text();
    const user = select(page, 'bp-classic-user-id');
    expect(user).to.include(`<option value="${GONE_USER}" selected>User no. ${GONE_USER} — no longer in the CRM</option>`);
    expect(user).to.include('<option value="">No user chosen</option>');
    expect(page).to.include('<p class="bp-warning" id="bp-classic-user-missing" role="status">The chosen user no longer exists in the CRM: until you choose another one, tickets opened on the portal get no owner, as with no user chosen, and no one is mailed about them.</p>');
    const template = select(page, 'bp-classic-template-id');
    expect(template).to.include(`<option value="${goneTemplate}" selected>Template no. ${goneTemplate} — no longer in the CRM</option>`);
    expect(page).to.match(/<p class="bp-warning" id="bp-classic-template-missing" role="status">The chosen template no longer exists in the CRM/);
  });

  it('keeps both when their forms are sent back unchanged, as the browser sends them', async () => {
    const before = await stored();
    let page = await (await admin.get(CLASSIC)).text();
    const userSaved = await admin.post(`${CLASSIC}/user`, { revision: revision(page, 'user'), userId: sentValue(select(page, 'bp-classic-user-id')) });
    expect(userSaved.status, /role="alert"[\s\S]{0,400}/.exec(await userSaved.text())?.[0]).to.equal(303);
    page = await (await admin.get(CLASSIC)).text();
    const templateSaved = await admin.post(`${CLASSIC}/template`, { revision: revision(page, 'template'), templateId: sentValue(select(page, 'bp-classic-template-id')) });
    expect(templateSaved.status, /role="alert"[\s\S]{0,400}/.exec(await templateSaved.text())?.[0]).to.equal(303);
    expect(await stored()).to.deep.equal(before);
    expect((await stored()).userId).to.equal(GONE_USER);
    expect((await stored()).credentialsTemplateId).to.equal(goneTemplate);
    // Still said after the save.
    page = await (await admin.get(CLASSIC)).text();
    expect(page).to.include('id="bp-classic-user-missing"').and.include('id="bp-classic-template-missing"');
  });

  it('still refuses another id the CRM does not have, storing nothing and offering the stored one beside it', async () => {
    const before = await stored();
    const user = await admin.post(`${CLASSIC}/user`, { userId: '555555' });
    expect(user.status).to.equal(400);
    const userPage = select(await user.text(), 'bp-classic-user-id');
    expect(userPage).to.include('<option value="555555" selected>User no. 555555 — not in the CRM</option>');
    expect(userPage).to.include(`<option value="${GONE_USER}">User no. ${GONE_USER} — no longer in the CRM</option>`);
    const template = await admin.post(`${CLASSIC}/template`, { templateId: '555555' });
    expect(template.status).to.equal(400);
    const templatePage = select(await template.text(), 'bp-classic-template-id');
    expect(templatePage).to.include('<option value="555555" selected>Template no. 555555 — not in the CRM</option>');
    expect(templatePage).to.include(`<option value="${goneTemplate}">Template no. ${goneTemplate} — no longer in the CRM</option>`);
    expect(await stored()).to.deep.equal(before);
  });

  it('lets the admin clear them on purpose', async () => {
    expect((await admin.post(`${CLASSIC}/user`, { userId: '' })).status).to.equal(303);
    expect((await admin.post(`${CLASSIC}/template`, { templateId: '' })).status).to.equal(303);
    expect((await stored()).userId).to.equal(null);
    expect((await stored()).credentialsTemplateId).to.equal(null);
    const page = await (await admin.get(CLASSIC)).text();
    expect(page).not.to.include('no longer in the CRM');
    expect(page).not.to.include('id="bp-classic-user-missing"');
  });

  it('says it in Italian for an Italian admin', async () => {
    const key = api.database.sequelize.getQueryInterface().quoteIdentifier('key');
    await api.database.sequelize.query(`UPDATE bp_settings SET value = :value WHERE ${key} = :key`, {
      replacements: { key: CLASSIC_SETTINGS_KEY, value: JSON.stringify({ ...(await stored()), userId: GONE_USER, credentialsTemplateId: goneTemplate }) },
    });
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const page = await (await admin.get(CLASSIC)).text();
      expect(select(page, 'bp-classic-user-id')).to.include(`<option value="${GONE_USER}" selected>Utente n. ${GONE_USER} — non più presente nel CRM</option>`);
      expect(select(page, 'bp-classic-template-id')).to.include(`<option value="${goneTemplate}" selected>Template n. ${goneTemplate} — non più presente nel CRM</option>`);
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });
});
