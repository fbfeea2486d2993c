/**
 * The privileges page over HTTP on the reference host: who may open it, that it renders every
 * section's current values (escaped: script canaries in a button, a rule, the sender name and a
 * condition value stay text), flags and the Accounts rule, the admin's language, the licence
 * switched off, and the assets it loads (SortableJS from the package, no inline script).
 */
import { expect } from 'chai';
import { hashPassword } from '../../host/users/password-hash.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ProfileActor, ProfileSection } from '../../plugin/profiles/profile-document.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { expectSecurityHeaders } from '../support/expectations.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { addEmailTemplate, adminActor, adminClient, deleteEmailTemplate, profileService, SETTINGS, type AdminClient } from './profile-test-kit.js';
import { recordStatements } from '../support/database.js';

const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-test-password-1';
const TITLE_CANARY = '<img src=x onerror=alert(1)>';
const RULE_CANARY = '<script>alert("rule")</script>';
const SENDER_CANARY = '"><script>alert(2)</script>';
const VALUE_CANARY = '<b>bold</b>';

/** Handlebars' escaping of text in a page. */
const escaped = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;');

/** The `<option>` of a select whose value is `value`, as the page renders it. */
function option(page: string, value: string): string {
  const found = new RegExp(`<option value="${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>[^<]*</option>`).exec(page);
  if (!found) throw new Error(`no option ${value}`);
  return found[0];
}

/** The markup of one module's rows (`<tbody data-bp-module="…">`). */
function moduleRows(page: string, module: string): string {
  const start = page.indexOf(`data-bp-module="${module}"`);
  if (start < 0) throw new Error(`no module ${module}`);
  return page.slice(start, page.indexOf('</tbody>', start));
}

async function saveAll(service: DatabaseProfileService, id: number, actor: ProfileActor, sections: readonly [ProfileSection, unknown][]): Promise<void> {
  for (const [section, value] of sections) {
    const { profile } = await service.document(id);
    await service.saveSection(id, section, value, profile.version, actor);
  }
}

describe('privileges page @db', () => {
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;
  let actor: ProfileActor;
  let id: number;
  const path = () => `${SETTINGS}/profiles/${id}/privileges`;

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    admin = await adminClient(test);
    actor = await adminActor(api);
    id = (await service.create({ name: 'Resellers', description: '', startFrom: null }, actor)).id;
  });
  after(async () => {
    await test?.stop();
  });

  it('lets only CRM admins in: anonymous → login, non-admin → 403, admin → 200; unknown profile → 404', async () => {
    await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
      replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK },
    });
    const clerk = await adminClient(test, CLERK, CLERK_PASSWORD);
    const anonymous = await fetch(`${test.url}${path()}`, { redirect: 'manual' });
    expect(anonymous.status).to.equal(303);
    expect(anonymous.headers.get('location')).to.match(/\/login/);
    expect((await clerk.get(path())).status).to.equal(403);
    const page = await admin.get(path());
    expect(page.status).to.equal(200);
    expectSecurityHeaders(page, 'privileges page', ["script-src 'self'"]);
    expect((await admin.get(`${SETTINGS}/profiles/999999/privileges`)).status).to.equal(404);
    expect((await admin.get(`${SETTINGS}/profiles/abc/privileges`)).status).to.equal(404);
    // A portal session is no CRM session: the same login redirect.
    expect((await fetch(`${test.url}${path()}`, { redirect: 'manual', headers: { cookie: 'bp_portal_sid=whatever' } })).status).to.equal(303);
  });

  it('is linked from the profile page and loads its script, style and SortableJS from the package, with no inline script', async () => {
    const profilePage = await (await admin.get(`${SETTINGS}/profiles/${id}`)).text();
    expect(profilePage).to.include(`href="${SETTINGS}/profiles/${id}/privileges"`);
    const page = await (await admin.get(path())).text();
    const scripts = [...page.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!);
    expect(scripts.length).to.be.at.least(2);
    for (const attributes of scripts) expect(attributes, 'every script has a src on this host').to.match(/src="\/settings\/business-portal\/assets\//);
    expect(page).not.to.match(/\son[a-z]+="/i);
    for (const [asset, type] of [
      ['vendor/sortable.min.js', 'javascript'],
      ['privileges.js', 'javascript'],
      ['privileges.css', 'text/css'],
    ] as const) {
      const response = await admin.get(`${SETTINGS}/assets/${asset}`);
      expect(response.status, asset).to.equal(200);
      expect(response.headers.get('content-type'), asset).to.include(type);
    }
    expect(await (await admin.get(`${SETTINGS}/assets/vendor/sortable.min.js`)).text()).to.include('Sortable');
  });

  it('renders every section’s current values, escaped, with flags and the Accounts rule', async () => {
    const users = await api.users.users();
    const former = users.find((u) => u.userName === 'paul.former')!;
    expect(former.active).to.equal(false);
    const templates = await api.emailTemplates.templates();
    const registration = templates[0]!;
    const tools = { comments: true, documents: false, search: true, export: false };
    await saveAll(service, id, actor, [
      ['general', { owner: { kind: 'user', id: former.id }, twoFactorType: 'email', twoFactorFallback: 'none' }],
      [
        'notifications',
        {
          templates: { registration: registration.id, passwordChanged: null, passwordRecovery: null, newTicket: null, ticketReply: null },
          smtpAccount: 'global',
          senderEmail: 'support@example.com',
          senderName: SENDER_CANARY,
        },
      ],
      [
        'modules',
        [
          { module: 'HelpDesk', shown: true, view: true, create: true, edit: true, delete: false, scope: 'account-and-subsidiaries', tools, fields: { status: 'readonly', solution: 'hidden' }, listColumns: ['ticket_title', 'priority'] },
          { module: 'Faq', shown: true, view: true, create: false, edit: false, delete: false, scope: 'contact', tools, listColumns: ['question'] },
        ],
      ],
      [
        'buttons',
        [
          { title: TITLE_CANARY, description: 'Say "hello" & more', colour: 'danger', icon: 'ticket', action: 'create', module: 'HelpDesk' },
          { title: 'Knowledge base', description: '', colour: 'info', icon: 'question', action: 'list', module: 'Faq' },
        ],
      ],
      [
        'rules',
        [{ name: RULE_CANARY, module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: VALUE_CANARY }], effects: [{ field: 'solution', effect: 'readonly' }], allReadOnly: false }],
      ],
      ['globals', { viewAll: true, editAll: false }],
    ]);
    // FAQ is then taken away (and View all with it): its button is flagged.
    await saveAll(service, id, actor, [
      ['globals', { viewAll: false, editAll: false }],
      ['modules', [{ module: 'Faq', shown: false, view: false, create: false, edit: false, delete: false, scope: 'contact', tools }]],
      ['globals', { viewAll: false, editAll: true }],
    ]);
    // An icon name outside the set, as an older release may have stored (saves refuse it now).
    await api.database.sequelize.query("UPDATE bp_profile_buttons SET icon = 'no-such-icon' WHERE profile_id = :id AND icon = 'ticket'", { replacements: { id } });

    const response = await admin.get(path());
    const page = await response.text();
    expect(response.status).to.equal(200);

    // No canary reaches the page as markup: only as text.
    expect(page).not.to.include('<img src=x');
    expect(page).not.to.include('<script>alert');
    expect(page).not.to.include('<b>bold</b>');
    expect(page).to.include(`<strong data-bp-preview-title>${escaped(TITLE_CANARY)}</strong>`);
    expect(page).to.include(`value="${escaped(TITLE_CANARY)}"`);
    expect(page).to.include(`<strong>${escaped(RULE_CANARY)}</strong>`);
    expect(page).to.include(`value="${escaped(SENDER_CANARY)}"`);
    expect(page).to.include(escaped(VALUE_CANARY));

    // General: the inactive owner, selected and marked; two-factor types.
    expect(option(page, `user:${former.id}`)).to.match(/ selected data-inactive="1">Paul Former \(paul\.former\) — inactive</);
    expect(page).to.match(/<select id="bp-two-factor" name="twoFactorType"><option value="none">Not active<\/option><option value="email" selected>/);
    expect(page).to.match(/name="twoFactorFallback"[^>]*><option value="none" selected>/);
    for (const group of await api.users.groups()) expect(page).to.include(`<option value="group:${group.id}">${escaped(group.name)}</option>`);

    // Notifications: the template, the SMTP account with its sentences, the sender.
    expect(page).to.match(new RegExp(`id="bp-template-registration"[^]*?<option value="${registration.id}" selected>`));
    expect(page).to.match(/id="bp-smtp-global" name="smtpAccount" value="global" checked/);
    expect(page).to.include('Always the CRM&#x27;s global mail server');
    expect(page).to.include('value="support@example.com"');

    // Buttons: their values, the fallback icon for a name outside the set, the flags.
    expect(page).to.include('value="Say &quot;hello&quot; &amp; more"');
    expect(page).to.include('<use href="#bp-icon-star"></use>');
    expect(page).to.include('<use href="#bp-icon-question"></use>');
    expect(page).to.include('<symbol id="bp-icon-ticket"');
    expect(page).to.include('Points at FAQ, which this profile does not show or may not view.');
    expect(page).to.include('FAQ (not allowed)');
    expect(page).to.match(/bp-home-button bp-colour-danger/);

    // Rules: the rule with its condition and effect; the CRM's rules offered for import.
    expect(page).to.include(escaped('Status = <b>bold</b>'));
    expect(page).to.include('Solution: read-only');
    expect(page).to.include('data-bp-rule="{&quot;name&quot;:');
    for (const rule of await api.conditionalRules.rules()) expect(page).to.include(`<strong>${escaped(rule.name)}</strong>`);

    // Globals and modules.
    expect(page).not.to.match(/id="bp-view-all" name="viewAll" checked/);
    expect(page).to.match(/id="bp-edit-all" name="editAll" checked/);
    const helpDesk = moduleRows(page, 'HelpDesk');
    for (const flag of ['shown', 'view', 'create', 'edit']) expect(helpDesk).to.match(new RegExp(`name="${flag}" checked`));
    expect(helpDesk).to.match(/name="delete">/);
    expect(helpDesk).to.include('<option value="account-and-subsidiaries" selected>');
    // A module's fields and columns: drawn when its part is opened (the script asks for them), or in the page named by `?fields=`.
    expect(helpDesk, 'fields wait until the module is opened').not.to.include('data-bp-field=');
    const fieldsPart = await admin.get(`${path()}/modules/HelpDesk?version=${(await service.document(id)).profile.version}`);
    expect(fieldsPart.status).to.equal(200);
    const noScript = moduleRows(await (await admin.get(`${path()}?fields=HelpDesk`)).text(), 'HelpDesk');
    for (const fields of [await fieldsPart.text(), noScript]) {
      expect(fields).to.match(/id="bp-field-HelpDesk-status" data-bp-field="status"><option value="hidden">Hidden<\/option><option value="readonly" selected>/);
      expect(fields).to.match(/id="bp-field-HelpDesk-solution" data-bp-field="solution"><option value="hidden" selected>/);
      expect([...fields.matchAll(/data-bp-column="([a-z_]+)"/g)].map((m) => m[1])).to.deep.equal(['ticket_title', 'priority']);
      expect(fields, 'a hidden field is not offered as a column').not.to.match(/<option value="solution">/);
    }
    expect(helpDesk).to.match(/data-bp-tool="comments" checked/);
    expect(helpDesk).to.match(/data-bp-tool="documents">/);
    const accounts = moduleRows(page, 'Accounts');
    expect(accounts).to.match(/<input type="checkbox" name="create" disabled aria-describedby="bp-accounts-no-create">/);
    expect(accounts).to.include('Never created from the portal.');
    // FAQ and Products are public catalogues, read-only on the portal whatever the flags: the page
    // showed Create, Edit and Delete as if they would work, and a saved "Create" changed nothing.
    for (const catalogue of ['Faq', 'Products']) {
      const rows = moduleRows(page, catalogue);
      for (const flag of ['create', 'edit', 'delete']) {
        expect(rows, `${catalogue} ${flag}`).to.match(new RegExp(`<input type="checkbox" name="${flag}" disabled aria-describedby="bp-catalogue-${catalogue}">`));
      }
      expect(rows).to.include(`<small id="bp-catalogue-${catalogue}" class="bp-reason">A public catalogue: customers only read it, all of it.</small>`);
    }
  });

  it('says which template is sent when none is chosen, and when the chosen one was deleted from the CRM', async () => {
    const own = await service.create({ name: 'Template choices', description: '', startFrom: null }, actor);
    const read = async () => (await admin.get(`${SETTINGS}/profiles/${own.id}/privileges`)).text();
    let page = await read();
    const select = (kind: string) => new RegExp(`<select id="bp-template-${kind}"[\\s\\S]*?</select>(\\s*<small[^>]*>[^<]*</small>)*`).exec(page)?.[0] ?? '';
    // Nothing chosen: the CRM's standard template of each kind is what goes out, and the page names it.
    expect(select('registration')).to.include('<option value="" selected>Standard template</option>').and.include('Standard: “Customer portal: access details”.');
    expect(select('ticketReply')).to.include('Standard: “Customer portal: reply to a ticket”.');

    const chosen = await addEmailTemplate(api, { name: 'Template choices: new ticket', module: 'HelpDesk', subject: 'New {{ticket.ticket_title}}', body: 'Thanks' });
    const document = await service.document(own.id);
    await service.saveSection(own.id, 'notifications', { ...document.notifications, templates: { ...document.notifications.templates, newTicket: chosen } }, document.profile.version, actor);
    page = await read();
    expect(select('newTicket')).to.include(`<option value="${chosen}" selected>Template choices: new ticket</option>`).and.not.include('data-bp-template-missing');

    await deleteEmailTemplate(api, chosen);
    page = await read();
    expect(select('newTicket')).to.include('aria-describedby="bp-template-standard-newTicket bp-template-missing-newTicket"').and.include('no longer exists in the CRM: the first choice applies');
    // Still chosen, marked: the section saved with another change keeps it (privileges-missing-choice.test.ts).
    expect(select('newTicket')).to.include(`<option value="${chosen}" selected>Template no. ${chosen} — no longer in the CRM</option>`).and.not.include('<option value="" selected>');
    expect(select('registration')).not.to.include('data-bp-template-missing');
  });

  it('speaks the admin’s language', async () => {
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const page = await (await admin.get(path())).text();
      expect(page).to.include('Privilegi: Resellers');
      expect(page).to.include('Assegnatario dei record creati dal portale');
      expect(page).to.include('Sempre il server di posta globale del CRM');
      expect(page).to.include('Mai create dal portale.');
      expect(page).to.include('Punta a FAQ, che questo profilo non mostra o non può visualizzare.');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('names a button’s other languages in the admin’s language, as words of its sentences (Title in Italian, Titolo in italiano)', async () => {
    // The CRM's language menu names each language in itself (English, Italiano); inside a sentence
    // the admin reads the name in their own language.
    const english = await (await admin.get(path())).text();
    expect(english).to.match(/Title in Italian\s*</).and.match(/Description in Italian\s*</).and.include('(written in English)');
    expect(english).not.to.include('in Italiano');
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await (await admin.get(path())).text();
      expect(italian).to.match(/Titolo in italiano\s*</).and.match(/Descrizione in italiano\s*</).and.include('(scritti in inglese)');
      expect(italian).not.to.include('in Italiano').and.not.to.include('in English');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('reads a rule’s picklist values by their labels in the admin’s language, and offers them to the rule form', async () => {
    const other = (await service.create({ name: 'Rule labels', description: '', startFrom: null }, actor)).id;
    const conditions = [
      { field: 'status', op: 'in', value: ['Open', 'Wait For Response', 'Not a status'] },
      { field: 'priority', op: 'eq', value: 'Urgent' },
    ];
    await saveAll(service, other, actor, [['rules', [{ name: 'Labelled', module: 'HelpDesk', origin: { kind: 'portal' }, conditions, effects: [], allReadOnly: true }]]]);
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const page = await (await admin.get(`${SETTINGS}/profiles/${other}/privileges`)).text();
      // A value the CRM has no label for reads as stored.
      expect(page).to.include('<span class="bp-chip">Stato è uno tra Aperto, In attesa di risposta, Not a status</span>');
      expect(page).to.include('<span class="bp-chip">Priorità &#x3D; Urgente</span>');
      // The rule form's fields carry their values' labels, for the form and for the rules it adds: with the module's fields, when asked for.
      const part = await (await admin.get(`${SETTINGS}/profiles/${other}/privileges/modules/HelpDesk`)).text();
      const attribute = /data-bp-module-info="([^"]*)"/.exec(part)![1]!;
      const entities: Record<string, string> = { '&quot;': '"', '&#x3D;': '=', '&#x27;': "'", '&#x60;': '`', '&lt;': '<', '&gt;': '>', '&amp;': '&' };
      const fields = JSON.parse(attribute.replace(/&quot;|&#x3D;|&#x27;|&#x60;|&lt;|&gt;|&amp;/g, (entity) => entities[entity]!));
      const status = fields.find((f: { name: string }) => f.name === 'status');
      expect(status.options).to.deep.include({ value: 'Closed', label: 'Chiuso' });
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('saves through the section route the page posts to, and refuses a missing CSRF header', async () => {
    const { profile } = await service.document(id);
    const noToken = await fetch(`${test.url}${SETTINGS}/profiles/${id}/sections/globals`, {
      method: 'PUT',
      headers: { cookie: admin.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ version: profile.version, value: { viewAll: true, editAll: false } }),
    });
    expect(noToken.status).to.equal(403);
    expect((await service.document(id)).globals.viewAll).to.equal(false);
    const saved = await admin.json('PUT', `${SETTINGS}/profiles/${id}/sections/globals`, { version: profile.version, value: { viewAll: true, editAll: false } });
    expect(saved.status).to.equal(200);
    expect(await (await admin.get(path())).text()).to.match(/id="bp-view-all" name="viewAll" checked/);
  });

  it('reads the templates it offers in a fixed number of statements, however many the CRM has, each still checked', async () => {
    const sequelize = api.database.sequelize;
    const recorded = recordStatements(sequelize, (sql) => sql.includes('crm_email_template'));
    const statements = recorded.sql;
    const added: number[] = [];
    try {
      const reads = async () => {
        statements.length = 0;
        const page = await (await admin.get(path())).text();
        return { page, count: statements.length };
      };
      const before = await reads();
      // Six more templates, half of them without the password the access details need; two with an Italian version too.
      for (let n = 0; n < 6; n++) {
        const body = n % 2 === 0 ? 'Your password: {{portal.password}}' : 'Welcome';
        const template = await addEmailTemplate(api, { name: `Many templates ${n}`, module: 'Contacts', subject: `Access ${n}`, body });
        added.push(template);
        if (n >= 4) {
          // The Italian version lacks the password: the template is unfit whatever its English version holds.
          await sequelize.query('INSERT INTO crm_email_template_versions (template_id, language, subject, html, text, updated_at) VALUES (:id, :l, :s, :h, :t, :now)', {
            replacements: { id: template, l: 'it', s: `Accesso ${n}`, h: '<p>Benvenuto</p>', t: 'Benvenuto', now: new Date() },
          });
        }
      }
      const after = await reads();
      expect(after.count, `statements on the templates with 6 more of them (${before.count} before)\n${statements.join('\n')}`).to.equal(before.count);

      const registration = /<select id="bp-template-registration"[\s\S]*?<\/select>/.exec(after.page)?.[0] ?? '';
      const fits = (n: number) => option(registration, String(added[n]));
      expect(fits(0)).to.equal(`<option value="${added[0]}">Many templates 0</option>`);
      expect(fits(2)).to.equal(`<option value="${added[2]}">Many templates 2</option>`);
      for (const n of [1, 3, 4, 5]) expect(fits(n), `Many templates ${n}`).to.include(' disabled>').and.include('lacks {{portal.password}}');
    } finally {
      recorded.stop();
      for (const template of added) await deleteEmailTemplate(api, template);
    }
  });
});

describe('privileges page without the Business Portal licence @db', () => {
  let test: TestHost;
  let admin: AdminClient;

  before(async () => {
    test = await startTestHost({ licences: [] });
    admin = await adminClient(test);
  });
  after(async () => {
    await test?.stop();
  });

  it('says why and locks every module beyond the base set', async () => {
    const id = (await profileService(test.host.api).list())[0]!.id;
    const page = await (await admin.get(`${SETTINGS}/profiles/${id}/privileges`)).text();
    expect(page).to.include('This CRM has no Business Portal licence');
    expect(page).to.include('Without the Business Portal licence only Trouble Tickets, FAQ, Documents, Contacts and Organizations can be enabled');
    const invoice = moduleRows(page, 'Invoice');
    expect(invoice).to.include('data-bp-locked="1"');
    expect(invoice).to.include('needs the licence');
    expect(invoice).to.match(/name="shown" disabled/);
    for (const base of ['HelpDesk', 'Faq', 'Documents', 'Contacts', 'Accounts']) expect(moduleRows(page, base), base).not.to.include('data-bp-locked');
  });
});
