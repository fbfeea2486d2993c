/**
 * The privileges page when a profile's owner (a CRM user or group) or a notification template has
 * been removed from the CRM since it was chosen: the page offers the stored choice as the selected
 * option, marked as no longer in the CRM, beside a warning — so the section sent back unchanged
 * (the admin changing something else in it) keeps it instead of silently clearing it. Choosing
 * another id the CRM does not have is still refused, storing nothing.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ProfileActor } from '../../plugin/profiles/profile-document.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { sentValue } from '../support/form-values.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { addEmailTemplate, adminActor, adminClient, deleteEmailTemplate, profileService, SETTINGS, type AdminClient } from './profile-test-kit.js';

/** Ids the CRM does not have: a user and a group deleted since they were chosen. */
const GONE_USER = 987654;
const GONE_GROUP = 987655;

describe('privileges page: an owner or template removed from the CRM since it was chosen @db', () => {
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;
  let actor: ProfileActor;
  let id: number;
  let goneTemplate: number;

  const page = async () => (await admin.get(`${SETTINGS}/profiles/${id}/privileges`)).text();
  const select = (html: string, selectId: string) => new RegExp(`<select id="${selectId}"[\\s\\S]*?</select>`).exec(html)?.[0] ?? '';
  const setOwner = (kind: 'user' | 'group', ownerId: number) =>
    api.database.sequelize.query('UPDATE bp_profiles SET owner_kind = :kind, owner_id = :ownerId WHERE id = :id', { replacements: { kind, ownerId, id } });
  /** Saves a section as the page's script does: the version shown and the section's whole value. */
  const put = async (section: string, value: unknown) => {
    const { profile } = await service.document(id);
    return admin.json('PUT', `${SETTINGS}/profiles/${id}/sections/${section}`, { version: profile.version, value });
  };
  /** The owner as the page's script sends it from the dropdown's value (`user:5`, `group:2`, empty). */
  const ownerFrom = (value: string) => (value ? { kind: value.split(':')[0], id: Number(value.split(':')[1]) } : null);
  /** The notification templates as the page's script sends them, read from each dropdown. */
  const templatesFrom = (html: string) =>
    Object.fromEntries(
      [...html.matchAll(/<select id="bp-template-(\w+)"[\s\S]*?<\/select>/g)].map((m) => {
        const value = sentValue(m[0]);
        return [m[1]!, value ? Number(value) : null];
      }),
    );

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    admin = await adminClient(test);
    actor = await adminActor(api);
    id = (await service.create({ name: 'Removed choices', description: '', startFrom: null }, actor)).id;
    goneTemplate = await addEmailTemplate(api, { name: 'New ticket, deleted later', module: 'HelpDesk', subject: 'New {{ticket.ticket_title}}', body: 'Thanks' });
    const { notifications, profile } = await service.document(id);
    await service.saveSection(id, 'notifications', { ...notifications, templates: { ...notifications.templates, newTicket: goneTemplate } }, profile.version, actor);
    await deleteEmailTemplate(api, goneTemplate);
    await setOwner('user', GONE_USER);
  });
  after(async () => {
    await test?.stop();
  });

  it('shows the stored owner and template selected, marked as no longer in the CRM, with a warning', async () => {
    const html = await page();
    const owner = select(html, 'bp-owner');
    expect(owner).to.include(`<option value="user:${GONE_USER}" selected>User no. ${GONE_USER} — no longer in the CRM</option>`);
    expect(owner).to.include('<option value="">Not set</option>');
    expect(owner).to.include('aria-describedby="bp-owner-hint bp-owner-missing"');
    expect(html).to.include('<small id="bp-owner-missing" class="bp-reason" data-bp-owner-missing>The chosen user or group no longer exists in the CRM');
    const newTicket = select(html, 'bp-template-newTicket');
    expect(newTicket).to.include(`<option value="${goneTemplate}" selected>Template no. ${goneTemplate} — no longer in the CRM</option>`);
    expect(newTicket).not.to.include('<option value="" selected>');
    expect(html).to.include('id="bp-template-missing-newTicket"');
  });

  it('keeps both when their sections are saved with another change, as the page sends them', async () => {
    let html = await page();
    const general = await put('general', { owner: ownerFrom(sentValue(select(html, 'bp-owner'))), twoFactorType: 'email', twoFactorFallback: 'none' });
    expect(general.status, await general.clone().text()).to.equal(200);
    const notifications = await put('notifications', { templates: templatesFrom(html), smtpAccount: 'global', senderEmail: null, senderName: 'Support desk' });
    expect(notifications.status, await notifications.clone().text()).to.equal(200);
    const document = await service.document(id);
    expect(document.general).to.deep.equal({ owner: { kind: 'user', id: GONE_USER }, twoFactorType: 'email', twoFactorFallback: 'none' });
    expect(document.notifications.templates.newTicket).to.equal(goneTemplate);
    expect(document.notifications.senderName).to.equal('Support desk');
    html = await page();
    expect(html).to.include('id="bp-owner-missing"').and.include('id="bp-template-missing-newTicket"');
  });

  it('does the same for a group', async () => {
    await setOwner('group', GONE_GROUP);
    const html = await page();
    expect(select(html, 'bp-owner')).to.include(`<option value="group:${GONE_GROUP}" selected>Group no. ${GONE_GROUP} — no longer in the CRM</option>`);
    const saved = await put('general', { owner: ownerFrom(sentValue(select(html, 'bp-owner'))), twoFactorType: 'none', twoFactorFallback: 'none' });
    expect(saved.status, await saved.clone().text()).to.equal(200);
    expect((await service.document(id)).general.owner).to.deep.equal({ kind: 'group', id: GONE_GROUP });
  });

  it('still refuses another owner or template the CRM does not have, storing nothing', async () => {
    const before = await service.document(id);
    const owner = await put('general', { owner: { kind: 'user', id: 555555 }, twoFactorType: 'none', twoFactorFallback: 'none' });
    expect(owner.status).to.equal(400);
    expect(await owner.text()).to.include('this user or group does not exist in the CRM');
    // The same id under the other kind is another owner.
    expect((await put('general', { owner: { kind: 'user', id: GONE_GROUP }, twoFactorType: 'none', twoFactorFallback: 'none' })).status).to.equal(400);
    const templates = { ...before.notifications.templates, registration: 555555 };
    const template = await put('notifications', { ...before.notifications, templates });
    expect(template.status).to.equal(400);
    expect(await template.text()).to.include('this email template does not exist in the CRM');
    const after = await service.document(id);
    expect(after.general).to.deep.equal(before.general);
    expect(after.notifications).to.deep.equal(before.notifications);
  });

  it('lets the admin clear them on purpose', async () => {
    const { notifications } = await service.document(id);
    expect((await put('general', { owner: null, twoFactorType: 'none', twoFactorFallback: 'none' })).status).to.equal(200);
    expect((await put('notifications', { ...notifications, templates: { ...notifications.templates, newTicket: null } })).status).to.equal(200);
    const html = await page();
    expect(html).not.to.include('no longer in the CRM</option>');
    expect(html).not.to.include('id="bp-owner-missing"');
    expect(select(html, 'bp-owner')).to.include('<option value="" selected>Not set</option>');
  });

  it('says it in Italian for an Italian admin', async () => {
    await setOwner('user', GONE_USER);
    const { notifications, profile } = await service.document(id);
    const kept = await addEmailTemplate(api, { name: 'Reply, deleted later', module: 'HelpDesk', subject: 'Reply', body: 'Reply' });
    await service.saveSection(id, 'notifications', { ...notifications, templates: { ...notifications.templates, ticketReply: kept } }, profile.version, actor);
    await deleteEmailTemplate(api, kept);
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const html = await page();
      expect(select(html, 'bp-owner')).to.include(`<option value="user:${GONE_USER}" selected>Utente n. ${GONE_USER} — non più presente nel CRM</option>`);
      expect(html).to.include('<small id="bp-owner-missing" class="bp-reason" data-bp-owner-missing>L’utente o il gruppo scelto non esiste più nel CRM');
      expect(select(html, 'bp-template-ticketReply')).to.include(`<option value="${kept}" selected>Template n. ${kept} — non più presente nel CRM</option>`);
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });
});
