/**
 * The profile admin pages over HTTP on the reference host (the plugin loaded through its entry):
 * admin-only access and CSRF, new / duplicate / rename / delete, export → import round trip,
 * import reports, invalid bodies refused in the admin's language with nothing changed, and the
 * licence switched off.
 */
import { expect } from 'chai';
import { hashPassword } from '../../host/users/password-hash.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ProfileSections } from '../../plugin/profiles/profile-document.js';
import type { ProfileExport } from '../../plugin/profiles/profile-schemas.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { forgedOutcomes, unsigned } from '../support/admin-outcomes.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { addEmailTemplate, addPortalAccount, adminActor, adminClient, count, deleteEmailTemplate, profileIdByName, profileService, rows, SETTINGS, type AdminClient } from './profile-test-kit.js';

const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-test-password-1';

const sections = ({ general, notifications, buttons, rules, globals, modules }: ProfileSections) => ({ general, notifications, buttons, rules, globals, modules });

/** Handlebars escapes quotes: compare page text with this. */
const html = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

describe('profile admin pages @db', () => {
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    admin = await adminClient(test);
  });
  after(async () => {
    await test?.stop();
  });

  it('lets only CRM admins in: anonymous → login, non-admin → 403, admin → 200', async () => {
    await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
      replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK },
    });
    const clerk = await adminClient(test, CLERK, CLERK_PASSWORD);
    const id = (await service.list())[0]!.id;
    for (const path of ['/', '/profiles/new', '/profiles/import', '/profiles/deleted', `/profiles/${id}`, `/profiles/${id}/duplicate`, `/profiles/${id}/delete`, `/profiles/${id}/export`, `/profiles/${id}/document`]) {
      const anonymous = await fetch(`${test.url}${SETTINGS}${path}`, { redirect: 'manual' });
      expect(anonymous.status, `anonymous ${path}`).to.equal(303);
      expect(anonymous.headers.get('location'), path).to.match(/\/login/);
      expect((await clerk.get(`${SETTINGS}${path}`)).status, `clerk ${path}`).to.equal(403);
      expect((await admin.get(`${SETTINGS}${path}`)).status, `admin ${path}`).to.equal(200);
    }
    const before = await count(api, 'bp_profiles');
    expect((await clerk.post(`${SETTINGS}/profiles`, { name: 'By a clerk' })).status).to.equal(403);
    expect((await admin.post(`${SETTINGS}/profiles`, { name: 'No token' }, { csrf: false })).status).to.equal(403);
    expect((await admin.post(`${SETTINGS}/profiles`, { _csrf: 'forged', name: 'Forged token' }, { csrf: false })).status).to.equal(403);
    expect(await count(api, 'bp_profiles')).to.equal(before);
  });

  it('lists the profiles with their tools, count, New profile and Import', async () => {
    const page = await (await admin.get(`${SETTINGS}/`)).text();
    expect(page).to.include(`href="${SETTINGS}/profiles/new"`);
    expect(page).to.include(`href="${SETTINGS}/profiles/import"`);
    const defaultId = (await service.list()).find((p) => p.isDefault)!.id;
    expect(page).to.include(`href="${SETTINGS}/profiles/${defaultId}/duplicate"`);
    expect(page, 'no delete tool for Default').not.to.include(`${SETTINGS}/profiles/${defaultId}/delete`);
    const total = (await service.list()).length;
    expect(page, 'the total count of profiles, as the original list shows it').to.include(
      `data-profile-total="${total}">Total: ${total} ${total === 1 ? 'profile' : 'profiles'}</p>`,
    );
  });

  it('creates a profile from the New profile form, starting from another one, and shows its audit', async () => {
    const defaultId = (await service.list()).find((p) => p.isDefault)!.id;
    const response = await admin.post(`${SETTINGS}/profiles`, { name: 'Resellers', description: 'Partners', startFrom: String(defaultId) });
    expect(response.status).to.equal(303);
    const id = await profileIdByName(api, 'Resellers');
    expect(unsigned(response.headers.get('location'))).to.equal(`${SETTINGS}/profiles/${id}/privileges?done=created`);
    const privileges = await (await admin.get(response.headers.get('location')!)).text();
    expect(privileges).to.include('The profile was created.');
    // A notice in the page at load is not announced: the title, read first, starts with it; the h1 stays the page's name.
    expect(privileges).to.include('<title>The profile was created. · Privileges: Resellers · Reference CRM</title>');
    expect(privileges).to.include('<h1>Privileges: Resellers</h1>');
    expect(privileges).to.include('data-bp-privileges');
    const page = await (await admin.get(`${SETTINGS}/profiles/${id}`)).text();
    expect(page).to.include('data-audit-action="create"');
    expect(await count(api, 'bp_profile_audit', "profile_id = :id AND action = 'create'", { id })).to.equal(1);
    expect(page).to.include('<li>Created starting from Default</li>');
    // Every entry's link to its own page is the same words: each says which entry it opens (its time and action).
    const described = /<a href="[^"]+" aria-describedby="([\w-]+) ([\w-]+)">Every change and the stored values<\/a>/.exec(page);
    expect(described, 'the link is described').to.not.equal(null);
    expect(page).to.match(new RegExp(`<td id="${described![1]}" data-label="When"><time datetime="[^"]+">`));
    expect(page).to.match(new RegExp(`<td id="${described![2]}" data-label="What">Created</td>`));
  });

  it('pages the audit: every change stays readable, newest first, however many there are', async () => {
    const actor = await adminActor(api);
    const profile = await service.create({ name: 'Often changed', description: '', startFrom: null }, actor);
    let version = profile.version;
    for (let save = 0; save < 230; save += 1) {
      version = (await service.saveSection(profile.id, 'globals', { viewAll: save % 2 === 0, editAll: false }, version, actor)).document.profile.version;
    }
    const actions = (page: string) => [...page.matchAll(/data-audit-action="(\w+)"/g)].map((m) => m[1]);
    const first = await (await admin.get(`${SETTINGS}/profiles/${profile.id}`)).text();
    expect(actions(first)).to.have.length(50);
    expect(first).to.include('Page 1 of 5');
    expect(first).not.to.include('Newer changes');
    expect(first).to.include(`<a href="${SETTINGS}/profiles/${profile.id}?auditPage&#x3D;2#bp-audit-heading" rel="next">Older changes</a>`);
    const last = await (await admin.get(`${SETTINGS}/profiles/${profile.id}?auditPage=5`)).text();
    // 230 saves and the creation: the creation, the oldest, ends the last page.
    expect(actions(last)).to.have.length(31);
    expect(actions(last).at(-1)).to.equal('create');
    expect(last).to.include('Page 5 of 5');
    expect(last).to.include(`<a href="${SETTINGS}/profiles/${profile.id}?auditPage&#x3D;4#bp-audit-heading" rel="prev">Newer changes</a>`);
    expect(last).not.to.include('Older changes');
    for (const odd of ['0', '-1', 'x', '99999999999', '6']) {
      const page = await admin.get(`${SETTINGS}/profiles/${profile.id}?auditPage=${odd}`);
      expect(page.status, odd).to.equal(200);
      expect(actions(await page.text()), odd).to.have.length(50);
    }
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await (await admin.get(`${SETTINGS}/profiles/${profile.id}?auditPage=2`)).text();
      for (const text of ['Pagina 2 di 5', 'Modifiche più recenti', 'Modifiche meno recenti']) expect(italian).to.include(text);
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('names in its audit the owner and the templates chosen, as the privileges page offers them, and by number once they are gone', async () => {
    const actor = await adminActor(api);
    const profile = await service.create({ name: 'Audited names', description: '', startFrom: null }, actor);
    const sara = (await api.users.users()).find((user) => user.userName === 'sara.support')!;
    const group = (await api.users.groups()).find((g) => g.name === 'Support team')!;
    const template = (await api.emailTemplates.templates()).find((t) => t.name === 'Customer portal: new ticket')!;
    const notifications = (newTicket: number | null) => ({
      templates: { registration: null, passwordChanged: null, passwordRecovery: null, newTicket, ticketReply: null },
      smtpAccount: 'default',
      senderEmail: null,
      senderName: null,
    });
    let version = profile.version;
    for (const [section, value] of [
      ['general', { owner: { kind: 'user', id: sara.id }, twoFactorType: 'none', twoFactorFallback: 'none' }],
      ['general', { owner: { kind: 'group', id: group.id }, twoFactorType: 'none', twoFactorFallback: 'none' }],
      ['notifications', notifications(template.id)],
    ] as const) {
      version = (await service.saveSection(profile.id, section, value, version, actor)).document.profile.version;
    }
    // In a CRM of thousands of users, the page reads the users its entries name, not every one.
    const sequelize = api.database.sequelize;
    for (let at = 0; at < 3_000; at += 500) {
      const users = Array.from({ length: 500 }, (_, i) => `('bulk.user${at + i}', 'Bulk', 'User ${at + i}', 'bulk${at + i}@example.com', '!', :now, :now)`);
      await sequelize.query(`INSERT INTO crm_users (user_name, first_name, last_name, email, password_hash, created_at, updated_at) VALUES ${users.join(', ')}`, { replacements: { now: new Date() } });
    }
    const read: number[] = [];
    const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
    (sequelize as unknown as { query: typeof original }).query = async (sql, options) => {
      const result = await original(sql, options);
      if (typeof sql === 'string' && /^\s*SELECT\b[\s\S]*\bFROM crm_users\b/i.test(sql) && Array.isArray(result)) read.push(result.length);
      return result;
    };
    let page: string;
    try {
      page = await (await admin.get(`${SETTINGS}/profiles/${profile.id}`)).text();
    } finally {
      (sequelize as unknown as { query: typeof original }).query = original;
      await sequelize.query(`DELETE FROM crm_users WHERE user_name LIKE 'bulk.user%'`);
    }
    expect(Math.max(...read), `rows of crm_users per statement: ${read.join(', ')}`).to.be.at.most(1);
    expect(page).to.include('Owner of records created from the portal: not set → Sara Bianchi (sara.support)');
    expect(page).to.include('Owner of records created from the portal: Sara Bianchi (sara.support) → Support team (group)');
    expect(page).to.include('New ticket (to the customer): not set → Customer portal: new ticket');
    expect(page).not.to.include('user no.');
    expect(page).not.to.include('template no.');
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await (await admin.get(`${SETTINGS}/profiles/${profile.id}`)).text();
      expect(italian).to.include('Sara Bianchi (sara.support) → Support team (gruppo)');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
    // A template deleted from the CRM since: its number, as the audit keeps it.
    const gone = await addEmailTemplate(api, { name: 'Short-lived template', module: 'HelpDesk', subject: 'Ticket', body: 'Ticket' });
    version = (await service.saveSection(profile.id, 'notifications', notifications(gone), version, actor)).document.profile.version;
    await deleteEmailTemplate(api, gone);
    const later = await (await admin.get(`${SETTINGS}/profiles/${profile.id}`)).text();
    expect(later).to.include(`New ticket (to the customer): Customer portal: new ticket → template no. ${gone}`);
  });

  it('lists the deleted profiles: who deleted them, when, where their contacts went and what they were, escaped', async () => {
    const actor = await adminActor(api);
    const gone = await service.create({ name: 'Gone <b>soon</b>', description: '', startFrom: null }, actor);
    await addPortalAccount(api, 7101, gone.id);
    const removed = await admin.post(`${SETTINGS}/profiles/${gone.id}/delete`, { moveTo: '', version: String(gone.version) });
    expect(removed.status).to.equal(200);
    expect(await (await admin.get(`${SETTINGS}/`)).text()).to.include(`<a href="${SETTINGS}/profiles/deleted">Deleted profiles</a>`);
    const response = await admin.get(`${SETTINGS}/profiles/deleted`);
    expect(response.status).to.equal(200);
    const page = await response.text();
    expect(page).to.include('<title>Deleted portal profiles · Reference CRM</title>');
    const row = /<tr data-audit-action="delete">([\s\S]*?)<\/tr>/.exec(page)?.[1] ?? '';
    expect(row).to.include('>Gone &lt;b&gt;soon&lt;/b&gt;</td>');
    expect(row).to.include('<td>admin</td>');
    expect(row).to.include('1 contact moved to Default');
    // What the profile was: its export, as the audit row keeps it, on the change's own page.
    const link = new RegExp(`<a href="(${SETTINGS}/profiles/${gone.id}/changes/[0-9]+)" aria-describedby`).exec(row)?.[1];
    expect(link, 'the link to the deletion').to.be.a('string');
    const entry = await (await admin.get(link!)).text();
    expect(entry).to.include('&quot;kind&quot;: &quot;business-portal-profile&quot;');
    expect(entry).to.include('<li>1 contact moved to Default</li>');
    expect(entry).to.include(`<a href="${SETTINGS}/profiles/deleted">Deleted profiles</a>`);
    expect(entry).not.to.include('<b>soon');
    expect(page).not.to.include('<b>soon');
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await (await admin.get(`${SETTINGS}/profiles/deleted`)).text();
      for (const text of ['<title>Profili portale eliminati · Reference CRM</title>', '1 contatto spostato in Default']) expect(italian).to.include(text);
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('refuses an invalid form with messages in the admin’s language and creates nothing', async () => {
    const before = await count(api, 'bp_profiles');
    const empty = await admin.post(`${SETTINGS}/profiles`, { name: '   ', startFrom: 'abc' });
    expect(empty.status).to.equal(400);
    const english = await empty.text();
    // Named by the label the administrator reads on the form, and tied to the field.
    expect(english).to.include('Name: the value cannot be empty.');
    expect(english).to.match(/<input id="bp-profile-name"[^>]*aria-invalid="true" aria-describedby="bp-errors-list" autofocus>/);
    expect(english).to.include('role="alert"');
    const invisible = await admin.post(`${SETTINGS}/profiles`, { name: '\u200B\u200E' });
    expect(invisible.status).to.equal(400);
    expect(await invisible.text()).to.include('Name: the value cannot be empty.');
    const taken = await admin.post(`${SETTINGS}/profiles`, { name: 'Default' });
    expect(taken.status).to.equal(409);
    expect(await taken.text()).to.include(html('A profile named "Default" already exists.'));

    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await admin.post(`${SETTINGS}/profiles`, { name: '' });
      expect(italian.status).to.equal(400);
      expect(await italian.text()).to.include('Nome: il valore non può essere vuoto.');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
    expect(await count(api, 'bp_profiles')).to.equal(before);
  });

  it('says "created" or "duplicated" only after this admin\'s own save: never for a crafted, altered, moved or another session\'s link', async () => {
    const created = await admin.post(`${SETTINGS}/profiles`, { name: 'Notice check', description: '' });
    expect(created.status).to.equal(303);
    const createdAt = created.headers.get('location')!;
    const id = (await profileIdByName(api, 'Notice check'))!;
    const duplicated = await admin.post(`${SETTINGS}/profiles/${id}/duplicate`, {});
    const duplicatedAt = duplicated.headers.get('location')!;
    expect(await (await admin.get(createdAt)).text()).to.include('The profile was created.');
    expect(await (await admin.get(duplicatedAt)).text()).to.include('The profile was duplicated');
    const other = await adminClient(test);
    const links = {
      ...Object.fromEntries(Object.entries(forgedOutcomes(createdAt, { done: 'creat' })).map(([name, link]) => [`privileges ${name}`, link])),
      ...Object.fromEntries(Object.entries(forgedOutcomes(duplicatedAt, { done: 'renamed' })).map(([name, link]) => [`profile ${name}`, link])),
      'privileges made': `${SETTINGS}/profiles/${id}/privileges?done=created`,
      'profile made': `${SETTINGS}/profiles/${id}?done=renamed`,
      // The copy's signed notice on the original's page.
      'profile moved': duplicatedAt.replace(`/profiles/${/profiles\/(\d+)/.exec(duplicatedAt)![1]}?`, `/profiles/${id}?`),
    };
    const shown: Record<string, boolean> = {};
    for (const [name, link] of Object.entries(links)) shown[name] = /The profile was (created|duplicated)|The name and description were saved/.test(await (await admin.get(link)).text());
    shown['privileges other session'] = (await (await other.get(createdAt)).text()).includes('The profile was created.');
    shown['profile other session'] = (await (await other.get(duplicatedAt)).text()).includes('The profile was duplicated');
    expect(Object.entries(shown).filter(([, visible]) => visible).map(([name]) => name)).to.deep.equal([]);
  });

  it('duplicates, renames (refusing a stale version) and deletes with "move contacts to"', async () => {
    const source = await service.create({ name: 'Installers', description: 'Field staff', startFrom: null }, await adminActor(api));
    expect(await (await admin.get(`${SETTINGS}/profiles/${source.id}/duplicate`)).text()).to.include('name="name"');
    const duplicated = await admin.post(`${SETTINGS}/profiles/${source.id}/duplicate`, {});
    expect(duplicated.status).to.equal(303);
    const copyId = (await profileIdByName(api, 'Installers 2'))!;
    expect(unsigned(duplicated.headers.get('location'))).to.equal(`${SETTINGS}/profiles/${copyId}?done=duplicated`);
    expect(await (await admin.get(duplicated.headers.get('location')!)).text()).to.include('<title>The profile was duplicated: this is the copy. · Portal profile: Installers 2 · Reference CRM</title>');

    const renamed = await admin.post(`${SETTINGS}/profiles/${copyId}/rename`, { name: 'Installers (north)', description: 'North', version: '1' });
    expect(renamed.status).to.equal(303);
    const stale = await admin.post(`${SETTINGS}/profiles/${copyId}/rename`, { name: 'Lost update', description: '', version: '1' });
    expect(stale.status).to.equal(409);
    expect(await stale.text()).to.include('changed by someone else');
    expect((await service.get(copyId)).name).to.equal('Installers (north)');
    // A name another profile has: said at the top and tied to the field, with what was typed kept.
    const taken = await admin.post(`${SETTINGS}/profiles/${copyId}/rename`, { name: 'Installers', description: 'Typed', version: '2' });
    expect(taken.status).to.equal(409);
    const takenPage = await taken.text();
    expect(takenPage).to.include(html('A profile named "Installers" already exists.'));
    expect(takenPage).to.match(/<input id="bp-profile-name"[^>]*value="Installers" aria-invalid="true" aria-describedby="bp-errors-list" autofocus>/);
    expect(takenPage).to.include('<ul id="bp-errors-list">').and.include('>Typed</textarea>');
    expect((await service.get(copyId)).name).to.equal('Installers (north)');

    await addPortalAccount(api, 7001, copyId);
    const confirm = await (await admin.get(`${SETTINGS}/profiles/${copyId}/delete`)).text();
    expect(confirm).to.include('name="moveTo"');
    const deleted = await admin.post(`${SETTINGS}/profiles/${copyId}/delete`, { moveTo: String(source.id), version: '2' });
    expect(deleted.status).to.equal(200);
    expect(await deleted.text()).to.include('The profile Installers (north) was deleted; 1 contact moved to Installers.');
    const [account] = await rows<{ profile_id: unknown }>(api, 'SELECT profile_id FROM bp_portal_accounts WHERE contact_id = 7001');
    expect(Number(account!.profile_id)).to.equal(source.id);
    expect(await profileIdByName(api, 'Installers (north)')).to.equal(null);

    const defaultProfile = (await service.list()).find((p) => p.isDefault)!;
    const refused = await admin.post(`${SETTINGS}/profiles/${defaultProfile.id}/delete`, { version: String(defaultProfile.version) });
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.include('The Default profile cannot be deleted.');
    expect(await profileIdByName(api, 'Default')).to.equal(defaultProfile.id);
  });

  it('shows the Default profile’s own description in the admin’s language in its form, and keeps it so when saved unchanged', async () => {
    const defaultId = (await profileService(api).list()).find((p) => p.isDefault)!.id;
    const english = 'The profile of every portal contact that has no other one.';
    const italian = 'Il profilo di ogni contatto portale che non ne ha un altro.';
    const textarea = (page: string) => /<textarea id="bp-profile-description"[^>]*>([^<]*)<\/textarea>/.exec(page)![1];
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const page = await (await admin.get(`${SETTINGS}/profiles/${defaultId}`)).text();
      expect(textarea(page)).to.equal(italian);
      const { profile } = await profileService(api).document(defaultId);
      const saved = await admin.post(`${SETTINGS}/profiles/${defaultId}/rename`, { name: profile.name, description: italian, version: String(profile.version) });
      expect(saved.status).to.equal(303);
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
    // An English admin still reads it in English, on the list and in the form.
    expect(await (await admin.get(`${SETTINGS}/`)).text()).to.include(english);
    expect(textarea(await (await admin.get(`${SETTINGS}/profiles/${defaultId}`)).text())).to.equal(english);
  });

  it('saves a section through the editor API and refuses invalid bodies with messages, changing nothing', async () => {
    const profile = await service.create({ name: 'Editor API', description: '', startFrom: null }, await adminActor(api));
    const document = (await (await admin.get(`${SETTINGS}/profiles/${profile.id}/document`)).json()) as { profile: { version: number } };
    const auditBefore = await count(api, 'bp_profile_audit', 'profile_id = :id', { id: profile.id });

    const invalid = await admin.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/buttons`, {
      version: document.profile.version,
      value: [{ title: '', description: 'x', colour: 'pink', icon: 'list', action: 'list', module: 'HelpDesk' }],
    });
    expect(invalid.status).to.equal(400);
    const body = (await invalid.json()) as { error: { code: string; problems: { path: string; message: string }[] } };
    expect(body.error.code).to.equal('invalid');
    expect(body.error.problems.map((p) => p.message)).to.include.members([
      'buttons[0].title: the value cannot be empty.',
      'buttons[0].colour: the value must be one of primary, secondary, success, danger, warning, info.',
    ]);
    const noVersion = await admin.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/globals`, { value: { viewAll: true, editAll: true } });
    expect(noVersion.status).to.equal(400);
    const unknownSection = await admin.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/secrets`, { version: 1, value: {} });
    expect(unknownSection.status).to.equal(404);
    expect((await service.get(profile.id)).version).to.equal(profile.version);
    expect(await count(api, 'bp_profile_audit', 'profile_id = :id', { id: profile.id })).to.equal(auditBefore);

    const saved = await admin.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/globals`, { version: profile.version, value: { viewAll: true, editAll: false } });
    expect(saved.status).to.equal(200);
    expect(((await saved.json()) as { document: ProfileSections }).document.globals).to.deep.equal({ viewAll: true, editAll: false });
    const stale = await admin.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/globals`, { version: profile.version, value: { viewAll: false, editAll: false } });
    expect(stale.status).to.equal(409);
  });

  it('exports a profile as a JSON download and imports it back identical', async () => {
    const actor = await adminActor(api);
    const profile = await service.create({ name: 'Exported', description: 'To move between CRMs', startFrom: null }, actor);
    const document = await service.document(profile.id);
    const group = (await api.users.groups())[0]!;
    const template = (await api.emailTemplates.templates())[0]!;
    let version = profile.version;
    for (const [section, value] of [
      ['general', { owner: { kind: 'group', id: group.id }, twoFactorType: 'email', twoFactorFallback: 'none' }],
      ['notifications', { templates: { registration: template.id, passwordChanged: null, passwordRecovery: null, newTicket: template.id, ticketReply: null }, smtpAccount: 'default', senderEmail: 'portal@example.com', senderName: 'Portal' }],
      ['modules', [{ ...document.modules.find((m) => m.module === 'HelpDesk')!, shown: true, view: true, create: true, listColumns: ['ticket_title', 'status'] }]],
      ['buttons', [{ title: 'Open a ticket', description: '', colour: 'danger', icon: 'plus', action: 'create', module: 'HelpDesk' }]],
      ['rules', [{ name: 'Urgent', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'priority', op: 'in', value: ['Urgent', 'High'] }], effects: [{ field: 'severity', effect: 'mandatory' }], allReadOnly: false }]],
    ] as const) {
      version = (await service.saveSection(profile.id, section, value, version, actor)).document.profile.version;
    }

    const download = await admin.get(`${SETTINGS}/profiles/${profile.id}/export`);
    expect(download.status).to.equal(200);
    expect(download.headers.get('content-type')).to.match(/^application\/json/);
    expect(download.headers.get('content-disposition')).to.match(/^attachment; filename="?business-portal-profile-exported\.json"?$/);
    const file = (await download.json()) as ProfileExport;
    expect(file).to.include({ schemaVersion: 1, kind: 'business-portal-profile' });
    expect(file.general.owner).to.deep.equal({ kind: 'group', name: group.name });
    expect(file.notifications.templates.registration).to.equal(template.name);

    const imported = await admin.json('POST', `${SETTINGS}/profiles/import?name=${encodeURIComponent('Exported again')}`, file);
    expect(imported.status).to.equal(201);
    const outcome = (await imported.json()) as { profile: { id: number }; skipped: unknown[] };
    expect(outcome.skipped).to.deep.equal([]);
    expect(sections(await service.document(outcome.profile.id))).to.deep.equal(sections(await service.document(profile.id)));
    expect((await service.audit(outcome.profile.id))[0]).to.include({ action: 'import' });
  });

  it('imports the rest of a file that names modules and fields this host lacks, and lists what it skipped', async () => {
    const file = (await service.exportProfile((await service.list()).find((p) => p.isDefault)!.id)) as ProfileExport;
    const tickets = file.modules.find((m) => m.module === 'HelpDesk')!;
    const foreign: ProfileExport = {
      ...file,
      profile: { name: 'From another CRM', description: 'Has extras' },
      general: { ...file.general, owner: { kind: 'user', userName: 'nobody.here' } },
      // A template of the same name exists here, but without the password the access-details mail must carry.
      notifications: { ...file.notifications, templates: { ...file.notifications.templates, registration: 'Invoice payment reminder', ticketReply: 'A template elsewhere' } },
      modules: [
        ...file.modules.filter((m) => m.module !== 'HelpDesk'),
        { ...tickets, shown: true, view: true, fields: { ...tickets.fields, warranty_code: 'readonly' }, listColumns: ['ticket_title', 'warranty_code'] },
        { ...tickets, module: 'Warranties', shown: true, view: true },
      ],
      buttons: [
        { title: 'Tickets', description: '', colour: 'primary', icon: 'list', action: 'list', module: 'HelpDesk' },
        { title: 'Warranties', description: '', colour: 'primary', icon: 'list', action: 'list', module: 'Warranties' },
      ],
      rules: [{ name: 'Expired', module: 'Warranties', origin: { kind: 'portal' }, conditions: [], effects: [], allReadOnly: true }],
    };
    const response = await admin.post(`${SETTINGS}/profiles/import`, { document: JSON.stringify(foreign), name: '' });
    expect(response.status).to.equal(201);
    const page = await response.text();
    // The result is a status present at load, which screen readers do not announce: the title says it first.
    expect(page).to.include('<title>The profile From another CRM was imported · Import a portal profile · Reference CRM</title>');
    for (const line of [
      'Module Warranties: this CRM has no such module for the portal.',
      'Field HelpDesk.warranty_code: this CRM has no such field.',
      'List column HelpDesk.warranty_code: this CRM has no such field.',
      html('Button "Warranties": its module is not available on the portal of this profile.'),
      html('Conditional rule "Expired": its module or fields do not exist on this CRM.'),
      'Owner nobody.here: no such user or group on this CRM.',
      html('Email template "A template elsewhere": no such template on this CRM.'),
      html('Email template "Invoice payment reminder": it lacks the password or the reset link this notification must send; the standard template is used.'),
    ]) {
      expect(page).to.include(line);
    }
    const id = (await profileIdByName(api, 'From another CRM'))!;
    const imported = await service.document(id);
    expect(imported.modules.find((m) => m.module === 'HelpDesk')).to.deep.include({ shown: true, listColumns: ['ticket_title'] });
    expect(imported.buttons.map((b) => b.title)).to.deep.equal(['Tickets']);
    expect(imported.rules).to.deep.equal([]);
    expect(imported.general.owner).to.equal(null);
    expect(imported.notifications.templates).to.include({ registration: null, ticketReply: null });
  });

  it('refuses an import file that fails its schema, creating nothing', async () => {
    const before = await count(api, 'bp_profiles');
    const file = await service.exportProfile((await service.list()).find((p) => p.isDefault)!.id);
    const wrongVersion = await admin.json('POST', `${SETTINGS}/profiles/import`, { ...file, schemaVersion: 2, profile: { name: 'V2' } });
    expect(wrongVersion.status).to.equal(400);
    const messages = ((await wrongVersion.json()) as { error: { problems: { message: string }[] } }).error.problems.map((p) => p.message);
    expect(messages).to.include.members(['schemaVersion: the value must be one of 1.', 'profile.description: a value is required.']);
    const notJson = await admin.post(`${SETTINGS}/profiles/import`, { document: '{ not json' });
    expect(notJson.status).to.equal(400);
    expect(await notJson.text()).to.include('document: the file is not valid JSON.');
    expect(await count(api, 'bp_profiles')).to.equal(before);
  });

  it('starts a refused form’s title with "Error:" (GOV.UK’s pattern), in English and Italian; the forms themselves keep theirs', async () => {
    const titleOf = async (response: Response) => /<title>([^<]*)<\/title>/.exec(await response.text())?.[1];
    expect(await titleOf(await admin.get(`${SETTINGS}/profiles/new`))).to.equal('New portal profile · Reference CRM');
    expect(await titleOf(await admin.get(`${SETTINGS}/profiles/import`))).to.equal('Import a portal profile · Reference CRM');
    const refusedNew = await admin.post(`${SETTINGS}/profiles`, { name: '', description: '' });
    expect(refusedNew.status).to.equal(400);
    expect(await titleOf(refusedNew)).to.equal('Error: New portal profile · Reference CRM');
    const refusedImport = await admin.post(`${SETTINGS}/profiles/import`, { document: '{ not json' });
    expect(refusedImport.status).to.equal(400);
    expect(await titleOf(refusedImport)).to.equal('Error: Import a portal profile · Reference CRM');
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      expect(await titleOf(await admin.post(`${SETTINGS}/profiles`, { name: '', description: '' }))).to.equal('Errore: Nuovo profilo portale · Reference CRM');
      expect(await titleOf(await admin.post(`${SETTINGS}/profiles/import`, { document: '{ not json' }))).to.equal('Errore: Importa un profilo portale · Reference CRM');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });
});

describe('profile admin pages without the Business Portal licence @db', () => {
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;

  before(async () => {
    test = await startTestHost({ licences: [] });
    api = test.host.api;
    admin = await adminClient(test);
  });
  after(async () => {
    await test?.stop();
  });

  it('says why, and refuses new, duplicate and import', async () => {
    const home = await (await admin.get(`${SETTINGS}/`)).text();
    expect(home).to.include('This CRM has no Business Portal licence');
    expect(home).not.to.include(`href="${SETTINGS}/profiles/new"`);
    const newPage = await admin.get(`${SETTINGS}/profiles/new`);
    expect(newPage.status).to.equal(403);
    expect(await newPage.text()).to.include('only the Default profile exists');

    const before = await count(api, 'bp_profiles');
    const created = await admin.post(`${SETTINGS}/profiles`, { name: 'Not allowed' });
    expect(created.status).to.equal(403);
    const defaultId = (await profileIdByName(api, 'Default'))!;
    expect((await admin.get(`${SETTINGS}/profiles/${defaultId}/duplicate`)).status).to.equal(403);
    expect((await admin.post(`${SETTINGS}/profiles/${defaultId}/duplicate`, {})).status).to.equal(403);
    const file = await profileService(api).exportProfile(defaultId);
    expect((await admin.json('POST', `${SETTINGS}/profiles/import?name=Other`, file)).status).to.equal(403);
    expect(await count(api, 'bp_profiles')).to.equal(before);
  });

  it('enables only the base modules', async () => {
    const service = profileService(api);
    const defaultId = (await profileIdByName(api, 'Default'))!;
    const document = await service.document(defaultId);
    const invoice = { ...document.modules.find((m) => m.module === 'Invoice')!, shown: true, view: true };
    const refused = await admin.json('PUT', `${SETTINGS}/profiles/${defaultId}/sections/modules`, { version: document.profile.version, value: [invoice] });
    expect(refused.status).to.equal(400);
    const body = (await refused.json()) as { error: { problems: { message: string }[] } };
    expect(body.error.problems[0]!.message).to.equal('modules[0].module: without the Business Portal licence the module Invoice cannot be enabled.');

    const tickets = { ...document.modules.find((m) => m.module === 'HelpDesk')!, shown: true, view: true };
    const saved = await admin.json('PUT', `${SETTINGS}/profiles/${defaultId}/sections/modules`, { version: document.profile.version, value: [tickets] });
    expect(saved.status).to.equal(200);
  });
});
