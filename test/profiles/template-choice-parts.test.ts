/**
 * The privileges page's template dropdowns judge a template by the parts it sends, as the save
 * does: an HTML-only template (no plain text) that merges {{portal.password}} or the reset link
 * fits, and is offered without the "lacks" marker; one that merges it in neither part is marked,
 * and refused. The marker and the save agree, in English and Italian, choice by choice; version
 * 1's "Select template" (the access details) as well.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { UPGRADED_FROM_V1 } from '../settings/settings-test-kit.js';
import { adminActor, adminClient, deleteEmailTemplate, profileService, rows, SETTINGS, type AdminClient } from './profile-test-kit.js';

/** A CRM template with one English and one Italian version of the same parts (`html`, `text`, either blank). */
async function addTemplate(api: HostApi, name: string, parts: { readonly html: string; readonly text: string }): Promise<number> {
  const now = new Date();
  await api.database.sequelize.query('INSERT INTO crm_email_templates (name, description, module, default_language, created_at, updated_at) VALUES (:name, :d, :m, :l, :now, :now)', {
    replacements: { name, d: '', m: 'Contacts', l: 'en', now },
  });
  const id = Number((await rows<{ id: unknown }>(api, 'SELECT id FROM crm_email_templates WHERE name = :name', { name }))[0]!.id);
  for (const language of ['en', 'it']) {
    await api.database.sequelize.query('INSERT INTO crm_email_template_versions (template_id, language, subject, html, text, updated_at) VALUES (:id, :l, :s, :h, :t, :now)', {
      replacements: { id, l: language, s: `Portal ${language}`, h: parts.html, t: parts.text, now },
    });
  }
  return id;
}

const CASES = [
  { name: 'Parts: HTML only, with the password', kind: 'registration', html: '<p>Password: <b>{{portal.password}}</b></p>', text: '', fits: true },
  { name: 'Parts: HTML only, without the password', kind: 'registration', html: '<p>Welcome to the portal</p>', text: '', fits: false },
  { name: 'Parts: text only, with the password', kind: 'registration', html: '', text: 'Password: {{portal.password}}', fits: true },
  { name: 'Parts: both, password in the HTML only', kind: 'registration', html: '<p>{{portal.password}}</p>', text: 'Welcome', fits: false },
  { name: 'Parts: HTML only, with the reset link', kind: 'passwordRecovery', html: '<p><a href="{{portal.resetUrl}}">Choose a password</a></p>', text: '', fits: true },
  { name: 'Parts: HTML only, without the reset link', kind: 'passwordRecovery', html: '<p>Ask us for a new password</p>', text: '   \n', fits: false },
] as const;

const MARKERS = {
  en: { registration: 'lacks {{portal.password}}', passwordRecovery: 'lacks {{portal.resetUrl}}' },
  it: { registration: 'manca {{portal.password}}', passwordRecovery: 'manca {{portal.resetUrl}}' },
} as const;

describe('privileges page: template choices judged by the parts they send @db', () => {
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;
  let profileId: number;
  const ids = new Map<string, number>();

  const page = async () => (await admin.get(`${SETTINGS}/profiles/${profileId}/privileges`)).text();
  const select = (html: string, kind: string) => new RegExp(`<select id="bp-template-${kind}"[\\s\\S]*?</select>`).exec(html)?.[0] ?? '';
  const option = (html: string, id: number) => new RegExp(`<option value="${id}"[^>]*>[^<]*</option>`).exec(html)?.[0] ?? '';

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    admin = await adminClient(test);
    profileId = (await service.create({ name: 'Template parts', description: '', startFrom: null }, await adminActor(api))).id;
    for (const c of CASES) ids.set(c.name, await addTemplate(api, c.name, c));
  });
  after(async () => {
    for (const id of ids.values()) await deleteEmailTemplate(api, id);
    await test?.stop();
  });

  for (const language of ['en', 'it'] as const) {
    it(`marks a template that lacks the merge field in what it sends, and not one whose only part has it (${language})`, async () => {
      await api.database.sequelize.query('UPDATE crm_users SET language = :language WHERE user_name = :name', { replacements: { language, name: 'admin' } });
      const html = await page();
      for (const c of CASES) {
        const shown = option(select(html, c.kind), ids.get(c.name)!);
        expect(shown, c.name).to.include(c.name);
        if (c.fits) expect(shown, c.name).not.to.include(MARKERS[language][c.kind]).and.not.to.include(' disabled');
        else expect(shown, c.name).to.include(MARKERS[language][c.kind]).and.to.include(' disabled');
      }
    });
  }

  it('saves the choices the page offers, and refuses the ones it marks', async () => {
    await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    for (const c of CASES) {
      const before = await service.document(profileId);
      const templates = { ...before.notifications.templates, [c.kind]: ids.get(c.name)! };
      const saved = await admin.json('PUT', `${SETTINGS}/profiles/${profileId}/sections/notifications`, {
        version: before.profile.version,
        value: { ...before.notifications, templates },
      });
      expect(saved.status, `${c.name}: ${await saved.clone().text()}`).to.equal(c.fits ? 200 : 400);
      const after = await service.document(profileId);
      expect(after.notifications.templates[c.kind], c.name).to.equal(c.fits ? ids.get(c.name) : before.notifications.templates[c.kind]);
      // The page shows the stored choice selected, with no warning that it is unfit.
      if (c.fits) expect(option(select(await page(), c.kind), ids.get(c.name)!), c.name).to.include(' selected').and.not.to.include('lacks');
    }
  });
});

describe('version 1 "Select template": choices judged by the parts they send @db', () => {
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;
  const ids = new Map<string, number>();
  const registration = CASES.filter((c) => c.kind === 'registration');
  const CLASSIC = `${SETTINGS}/classic`;

  before(async () => {
    test = await startTestHost({ installOrigin: UPGRADED_FROM_V1 });
    api = test.host.api;
    admin = await adminClient(test);
    for (const c of registration) ids.set(c.name, await addTemplate(api, c.name, c));
  });
  after(async () => test?.stop());

  for (const language of ['en', 'it'] as const) {
    it(`marks the templates without the password in what they send, saves the others (${language})`, async () => {
      await api.database.sequelize.query('UPDATE crm_users SET language = :language WHERE user_name = :name', { replacements: { language, name: 'admin' } });
      const select = /<select id="bp-classic-template-id"[\s\S]*?<\/select>/.exec(await (await admin.get(CLASSIC)).text())?.[0] ?? '';
      for (const c of registration) {
        const shown = new RegExp(`<option value="${ids.get(c.name)}"[^>]*>[^<]*</option>`).exec(select)?.[0] ?? '';
        expect(shown, c.name).to.include(c.name);
        if (c.fits) expect(shown, c.name).not.to.include(MARKERS[language].registration).and.not.to.include(' disabled');
        else expect(shown, c.name).to.include(MARKERS[language].registration).and.to.include(' disabled');
        const saved = await admin.post(`${CLASSIC}/template`, { templateId: String(ids.get(c.name)) });
        expect(saved.status, c.name).to.equal(c.fits ? 303 : 400);
      }
    });
  }
});
