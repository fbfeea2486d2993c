/**
 * The version 1 (classic) settings (SPEC 2.2) on an install upgraded from version 1, over HTTP:
 * defaults, Basic (active, move up / down), Advanced, Select user (inactive users too), Select
 * template; refusals (bad or hidden module names, unknown user or template, extra fields, CSRF,
 * non-admins) answer in the admin's language and change nothing; entries of a module that loses
 * eligibility are kept, inert, and come back with it; every save is logged (who, what).
 */
import { expect } from 'chai';
import type { HostApi, ModuleDefinition } from '../../plugin/host-contract/index.js';
import { CLASSIC_SETTINGS_KEY, type ClassicSettings } from '../../plugin/settings/classic-settings.js';
import { adminClient, type AdminClient } from '../profiles/profile-test-kit.js';
import { forgedOutcomes, unsigned } from '../support/admin-outcomes.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { captureInfoLogs, clerkClient, html, postPairs, SETTINGS, storedSetting, UPGRADED_FROM_V1, userId } from './settings-test-kit.js';

const CLASSIC = `${SETTINGS}/classic`;

const WARRANTIES: ModuleDefinition = {
  name: 'Warranties',
  label: { en: 'Warranties', it: 'Garanzie' },
  singularLabel: { en: 'Warranty', it: 'Garanzia' },
  custom: true,
  labelField: 'warranty_no',
  fields: [
    { name: 'warranty_no', label: { en: 'Number', it: 'Numero' }, type: 'text', mandatory: true },
  ],
};
/** A related list between Warranties and Contacts: what makes Warranties portal-eligible. */
const TO_CONTACTS = { id: 'Warranties~Contacts', kind: 'related-list', module: 'Warranties', relatedModule: 'Contacts' } as const;

describe('settings: version 1 (classic) @db', () => {
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;

  const stored = async () => (await storedSetting(api, CLASSIC_SETTINGS_KEY)) as ClassicSettings | undefined;
  const order = (settings: ClassicSettings | undefined) => settings!.modules.map((m) => m.module);
  const entry = (settings: ClassicSettings | undefined, module: string) => settings!.modules.find((m) => m.module === module);

  before(async () => {
    test = await startTestHost({ installOrigin: UPGRADED_FROM_V1 });
    api = test.host.api;
    admin = await adminClient(test);
  });
  after(async () => {
    await test?.stop();
  });

  it('shows the defaults: tickets, FAQ and documents active in that order, every eligible module offered', async () => {
    const response = await admin.get(CLASSIC);
    expect(response.status).to.equal(200);
    const page = await response.text();
    const rows = [...page.matchAll(/<tr data-module="([A-Za-z]+)">\s*<td[^>]*>(\d+)<\/td>/g)].map((m) => m[1]);
    expect(rows.slice(0, 3)).to.deep.equal(['HelpDesk', 'Faq', 'Documents']);
    expect(rows).to.include.members(['Contacts', 'Accounts']);
    expect(page).to.match(/id="bp-active-HelpDesk" name="active" value="HelpDesk" checked>/);
    expect(page).to.match(/id="bp-active-Contacts" name="active" value="Contacts">/);
    expect(page).to.include(html('Yes: the customer sees the records related to their contact and to their company (account). No: only their contact\'s records.'));
    // Every CRM user, the disabled one marked; the host's templates.
    expect(page).to.include('Paul Former (paul.former) — inactive');
    expect(page).to.include('Tom Walker (tom.support)</option>');
    // What "No user chosen" means (a fresh version 1 has none), as the version 2 owner's hint says for "Not set".
    expect(page).to.include(html('“No user chosen”: portal dropdowns offer every value, and tickets opened on the portal get no owner and no one is mailed about them.'));
    // Only a template with the password fits the access details; the others are offered disabled, saying so.
    for (const template of await api.emailTemplates.templates()) {
      const option = template.name === 'Customer portal: access details' ? `>${html(template.name)}</option>` : ` disabled>${html(template.name)} — lacks {{portal.password}}</option>`;
      expect(page).to.include(`<option value="${template.id}"${option}`);
    }
    expect(page, 'move up of the first row is disabled').to.match(/value="up:HelpDesk" aria-label="Move up [^"]*Tickets" disabled>/);
    expect(await stored(), 'reading stores nothing').to.equal(undefined);
  });

  it('says "saved" only after this admin\'s own save: never for a crafted, altered or another session\'s link', async () => {
    const response = await admin.post(`${CLASSIC}/user`, { userId: String(await userId(api, 'admin')) });
    expect(response.status).to.equal(303);
    const location = response.headers.get('location')!;
    expect(await (await admin.get(location)).text()).to.include('<title>The user was saved.');
    const other = await adminClient(test);
    const links = { ...forgedOutcomes(location, { done: 'modules' }), made: `${CLASSIC}?done=modules`, madeTemplate: `${CLASSIC}?done=template` };
    const shown: Record<string, boolean> = {};
    for (const [name, link] of Object.entries(links)) shown[name] = /was saved\.|were saved\./.test(await (await admin.get(link)).text());
    shown.otherSession = /was saved\./.test(await (await other.get(location)).text());
    expect(shown).to.deep.equal({ unsigned: false, madeUp: false, otherOutcome: false, extraParameter: false, made: false, madeTemplate: false, otherSession: false });
  });

  it('saves Basic: ticks and a move, keeping the other modules in place', async () => {
    const logs = captureInfoLogs(api);
    try {
      const response = await postPairs(test, admin, `${CLASSIC}/modules`, [
        ['active', 'HelpDesk'],
        ['active', 'Documents'],
        ['active', 'Contacts'],
        ['move', 'down:HelpDesk'],
      ]);
      expect(response.status).to.equal(303);
      // The move comes back (signed), for the page to give the keyboard back to the module's buttons.
      expect(unsigned(response.headers.get('location'))).to.equal(`${CLASSIC}?done=modules&moved=down%3AHelpDesk`);
    } finally {
      logs.restore();
    }
    const settings = await stored();
    expect(order(settings).slice(0, 3)).to.deep.equal(['Faq', 'HelpDesk', 'Documents']);
    expect(settings!.modules.filter((m) => m.active).map((m) => m.module)).to.deep.equal(['HelpDesk', 'Documents', 'Contacts']);
    const saved = logs.lines.find((l) => l.message === 'Business Portal: version 1 settings saved');
    expect(saved?.fields?.userName).to.equal('admin');
    expect(String(saved?.fields?.changes)).to.include('Faq.active=false').and.include('Contacts.active=true').and.include('order');

    // Up again, from the page's own button; the page says it was saved.
    const up = await postPairs(test, admin, `${CLASSIC}/modules`, [['active', 'HelpDesk'], ['move', 'up:HelpDesk']]);
    expect(up.status).to.equal(303);
    expect(order(await stored()).slice(0, 2)).to.deep.equal(['HelpDesk', 'Faq']);
    const savedPage = await (await admin.get(up.headers.get('location')!)).text();
    expect(savedPage).to.include('The modules were saved.');
    expect(savedPage).to.include('<title>The modules were saved. · Business Portal · version 1 settings · Reference CRM</title>');
    // Without a notice the title is the page's own.
    expect(await (await admin.get(CLASSIC)).text()).to.include('<title>Business Portal · version 1 settings · Reference CRM</title>');
    // Moving the first one up changes nothing in the order.
    expect((await postPairs(test, admin, `${CLASSIC}/modules`, [['active', 'HelpDesk'], ['move', 'up:HelpDesk']])).status).to.equal(303);
    expect(order(await stored())[0]).to.equal('HelpDesk');
  });

  it('saves Advanced, Select user (an inactive one) and Select template', async () => {
    expect((await admin.post(`${CLASSIC}/advanced`, { 'related.HelpDesk': 'yes', 'related.Documents': 'no' })).status).to.equal(303);
    expect(entry(await stored(), 'HelpDesk')!.viewAllRelated).to.equal(true);
    expect(entry(await stored(), 'Documents')!.viewAllRelated).to.equal(false);

    const paul = await userId(api, 'paul.former');
    expect((await admin.post(`${CLASSIC}/user`, { userId: String(paul) })).status).to.equal(303);
    expect((await stored())!.userId).to.equal(paul);
    expect(await (await admin.get(CLASSIC)).text()).to.include(`<option value="${paul}" selected>Paul Former (paul.former) — inactive</option>`);

    const template = (await api.emailTemplates.templates())[0]!;
    expect((await admin.post(`${CLASSIC}/template`, { templateId: String(template.id) })).status).to.equal(303);
    expect((await stored())!.credentialsTemplateId).to.equal(template.id);
    expect((await admin.post(`${CLASSIC}/template`, { templateId: '' })).status).to.equal(303);
    expect((await stored())!.credentialsTemplateId).to.equal(null);
  });

  it('keeps "View all related records?" of the public catalogues as it was: a crafted form changes nothing there', async () => {
    // A first save stores the settings (defaults: no module views all related records).
    expect((await admin.post(`${CLASSIC}/advanced`, { 'related.Documents': 'no' })).status).to.equal(303);
    const before = await stored();
    const wasFaq = entry(before, 'Faq')?.viewAllRelated ?? false;
    expect((await admin.post(`${CLASSIC}/advanced`, { 'related.Faq': wasFaq ? 'no' : 'yes', 'related.Products': 'yes', 'related.Documents': 'yes' })).status).to.equal(303);
    const after = await stored();
    expect(entry(after, 'Faq')!.viewAllRelated).to.equal(wasFaq);
    expect(entry(after, 'Products')!.viewAllRelated).to.equal(entry(before, 'Products')?.viewAllRelated ?? false);
    // The rest of the form is saved.
    expect(entry(after, 'Documents')!.viewAllRelated).to.equal(true);
    expect((await admin.post(`${CLASSIC}/advanced`, { 'related.Documents': 'no' })).status).to.equal(303);
  });

  it('refuses bad module names, unknown users and templates, extra fields and missing CSRF, changing nothing', async () => {
    await api.modules.registerModule({ ...WARRANTIES, name: 'Gadgets' });
    const before = await stored();
    const refusals: [string, [string, string][], RegExp | string][] = [
      [`${CLASSIC}/modules`, [['active', 'HelpDesk'], ['active', 'NoSuchModule']], 'active: the module NoSuchModule cannot be offered by the portal.'],
      [`${CLASSIC}/modules`, [['active', 'Gadgets']], 'the module Gadgets cannot be offered by the portal.'],
      [`${CLASSIC}/modules`, [['move', 'down:NoSuchModule']], 'move: the module NoSuchModule cannot be offered by the portal.'],
      [`${CLASSIC}/modules`, [['active', '<script>alert(1)</script>']], 'active: the value'],
      [`${CLASSIC}/modules`, [['move', 'sideways:HelpDesk']], 'move: the value contains characters that are not allowed.'],
      [`${CLASSIC}/modules`, [['active', 'HelpDesk'], ['userId', '1']], 'userId: this property is not allowed.'],
      [`${CLASSIC}/advanced`, [['related.NoSuchModule', 'yes']], 'the module NoSuchModule cannot be offered by the portal.'],
      [`${CLASSIC}/advanced`, [['related.HelpDesk', 'maybe']], 'related.HelpDesk: the value must be one of yes, no.'],
      [`${CLASSIC}/user`, [['userId', '999999']], 'User: this user does not exist in the CRM.'],
      [`${CLASSIC}/user`, [['userId', '-1']], 'User: the value contains characters that are not allowed.'],
      [`${CLASSIC}/user`, [], 'User: a value is required.'],
      [`${CLASSIC}/template`, [['templateId', '999999']], 'Template: this email template does not exist in the CRM.'],
    ];
    for (const [path, pairs, message] of refusals) {
      const response = await postPairs(test, admin, path, pairs);
      expect(response.status, `${path} ${JSON.stringify(pairs)}`).to.equal(400);
      const page = await response.text();
      expect(page, JSON.stringify(pairs)).to.include('role="alert"');
      // The form again with its refusal: the title says so first, as GOV.UK's error summary does.
      expect(page, JSON.stringify(pairs)).to.include('<title>Error: Business Portal · version 1 settings · Reference CRM</title>');
      expect(page, JSON.stringify(pairs)).to.include(html(String(message)));
      expect(page, 'no echo of the payload').not.to.include('<script>alert(1)</script>');
    }
    // JSON is no form: read as an empty one, it saved every module unticked (modules and advanced answered 500).
    for (const path of ['modules', 'advanced', 'user', 'template']) {
      const json = await admin.json('POST', `${CLASSIC}/${path}`, { active: ['Contacts'] });
      expect(json.status, `${path} with JSON`).to.equal(415);
      // Refused as the admin router refuses a request that speaks JSON: the same localized message, as JSON.
      expect(await json.json()).to.deep.equal({ error: { code: 'unsupported_media_type', message: 'The request body is in a format this page does not read.' } });
    }
    expect((await postPairs(test, admin, `${CLASSIC}/user`, [['userId', '']], { csrf: false })).status).to.equal(403);
    expect((await postPairs(test, admin, `${CLASSIC}/user`, [['_csrf', 'forged'], ['userId', '']], { csrf: false })).status).to.equal(403);
    expect(await stored()).to.deep.equal(before);
  });

  it('names the user and template fields by their labels in a refusal, in the admin’s language, never by the stored setting’s name', async () => {
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      for (const [path, pairs, message] of [
        [`${CLASSIC}/template`, [['templateId', '999999']], 'Template: questo template email non esiste nel CRM.'],
        [`${CLASSIC}/user`, [['userId', '999999']], 'Utente: questo utente non esiste nel CRM.'],
      ] as const) {
        const response = await postPairs(test, admin, path, pairs.map(([name, value]) => [name, value] as [string, string]));
        expect(response.status, path).to.equal(400);
        const page = await response.text();
        expect(page, path).to.include(html(message));
        expect(page, path).not.to.match(/credentialsTemplateId:|templateId:|userId:/);
      }
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('shows a refused form again with what the admin submitted, every field of it, beside the errors, storing nothing', async () => {
    const tom = await userId(api, 'tom.support');
    expect((await postPairs(test, admin, `${CLASSIC}/modules`, [['active', 'HelpDesk']])).status).to.equal(303);
    expect((await postPairs(test, admin, `${CLASSIC}/advanced`, [['related.HelpDesk', 'no'], ['related.Documents', 'no']])).status).to.equal(303);
    expect((await admin.post(`${CLASSIC}/user`, { userId: String(tom) })).status).to.equal(303);
    const before = await stored();
    const form = (page: string, action: string) => new RegExp(`<form method="post" action="[^"]*/classic/${action}"[\\s\\S]*?</form>`).exec(page)?.[0] ?? '';

    const modules = await postPairs(test, admin, `${CLASSIC}/modules`, [['active', 'Faq'], ['active', 'Contacts'], ['active', 'NoSuchModule']]);
    expect(modules.status).to.equal(400);
    const basic = form(await modules.text(), 'modules');
    expect(basic).to.match(/id="bp-active-Faq" name="active" value="Faq" checked>/);
    expect(basic).to.match(/id="bp-active-Contacts" name="active" value="Contacts" checked>/);
    expect(basic, 'the stored tick is not shown over the submitted form').to.match(/id="bp-active-HelpDesk" name="active" value="HelpDesk">/);

    const advanced = await postPairs(test, admin, `${CLASSIC}/advanced`, [['related.HelpDesk', 'yes'], ['related.Documents', 'no'], ['related.NoSuchModule', 'yes']]);
    expect(advanced.status).to.equal(400);
    const related = form(await advanced.text(), 'advanced');
    expect(related).to.match(/<select id="bp-related-HelpDesk"[^>]*>\s*<option value="yes" selected>/);
    expect(related).to.match(/<select id="bp-related-Documents"[^>]*>\s*<option value="yes">[^<]*<\/option>\s*<option value="no" selected>/);

    const user = await admin.post(`${CLASSIC}/user`, { userId: '999999' });
    expect(user.status).to.equal(400);
    const owner = form(await user.text(), 'user');
    expect(owner).to.include('<select id="bp-classic-user-id" name="userId" aria-invalid="true" autofocus aria-describedby="bp-errors-list">');
    expect(owner).to.include('<option value="999999" selected>User no. 999999 — not in the CRM</option>');
    expect(owner, 'the stored user is not shown as chosen').not.to.include(`<option value="${tom}" selected>`);

    const invoice = (await api.emailTemplates.templates()).find((t) => t.name === 'Invoice payment reminder')!.id;
    const template = await admin.post(`${CLASSIC}/template`, { templateId: String(invoice) });
    expect(template.status).to.equal(400);
    const page = await template.text();
    expect(form(page, 'template')).to.include(`<option value="${invoice}" selected>Invoice payment reminder — lacks {{portal.password}}</option>`);
    expect(page, 'the warning about a stored unfit choice is not shown for a refused one').not.to.include('data-bp-template-unfit');
    const missing = await admin.post(`${CLASSIC}/template`, { templateId: '999999' });
    expect(form(await missing.text(), 'template')).to.include('<option value="999999" selected>Template no. 999999 — not in the CRM</option>');

    expect(await stored()).to.deep.equal(before);
    // The other forms show what is stored.
    const other = form(await (await postPairs(test, admin, `${CLASSIC}/user`, [['userId', '999999']])).text(), 'modules');
    expect(other).to.match(/id="bp-active-HelpDesk" name="active" value="HelpDesk" checked>/);
  });

  it('answers refusals in Italian for an Italian admin', async () => {
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const response = await admin.post(`${CLASSIC}/user`, { userId: '999999' });
      expect(response.status).to.equal(400);
      const page = await response.text();
      expect(page).to.include('Utente: questo utente non esiste nel CRM.');
      // The form again with its refusal: the title says so first, as GOV.UK's error summary does.
      expect(page).to.include('<title>Errore: Business Portal · impostazioni della versione 1 · Reference CRM</title>');
      expect(page).to.include('Visualizzare tutti i record correlati?');
      expect(page).to.include(html('“Nessun utente scelto”: i menu a tendina del portale offrono tutti i valori, e i ticket aperti sul portale non hanno un assegnatario e nessuno riceve un’email.'));
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('lets only CRM admins in: anonymous → login, non-admin → 403 and nothing changed', async () => {
    const before = await stored();
    const clerk = await clerkClient(test);
    for (const path of [CLASSIC]) {
      const anonymous = await fetch(`${test.url}${path}`, { redirect: 'manual' });
      expect(anonymous.status).to.equal(303);
      expect(anonymous.headers.get('location')).to.match(/^\/login/);
      expect((await clerk.get(path)).status).to.equal(403);
    }
    for (const [path, fields] of [
      [`${CLASSIC}/modules`, { active: 'Faq' }],
      [`${CLASSIC}/advanced`, { 'related.Faq': 'yes' }],
      [`${CLASSIC}/user`, { userId: '' }],
      [`${CLASSIC}/template`, { templateId: '' }],
    ] as const) {
      expect((await clerk.post(path, fields)).status, path).to.equal(403);
      const anonymous = await fetch(`${test.url}${path}`, { method: 'POST', redirect: 'manual', body: new URLSearchParams(fields) });
      expect(anonymous.status, path).to.equal(303);
    }
    expect(await stored()).to.deep.equal(before);
  });

  it('offers a module once it is eligible, keeps its entry while it is not, and applies it again when it comes back', async () => {
    await api.modules.registerModule(WARRANTIES);
    await api.modules.addRelation(TO_CONTACTS);
    let page = await (await admin.get(CLASSIC)).text();
    expect(page).to.match(/id="bp-active-Warranties" name="active" value="Warranties">/);

    const active = (await stored())!.modules.filter((m) => m.active).map((m) => m.module);
    expect((await postPairs(test, admin, `${CLASSIC}/modules`, [...active, 'Warranties'].map((m) => ['active', m] as [string, string]))).status).to.equal(303);
    expect((await admin.post(`${CLASSIC}/advanced`, { 'related.Warranties': 'yes' })).status).to.equal(303);
    expect(entry(await stored(), 'Warranties')).to.deep.equal({ module: 'Warranties', active: true, viewAllRelated: true });

    await api.modules.removeRelation(TO_CONTACTS.id);
    page = await (await admin.get(CLASSIC)).text();
    expect(page, 'not offered while not eligible').not.to.include('data-module="Warranties"');
    // Another save (Basic, without it) keeps its entry as it was.
    expect((await postPairs(test, admin, `${CLASSIC}/modules`, active.map((m) => ['active', m] as [string, string]))).status).to.equal(303);
    expect(entry(await stored(), 'Warranties')).to.deep.equal({ module: 'Warranties', active: true, viewAllRelated: true });
    // A form cannot switch it on or off meanwhile.
    expect((await admin.post(`${CLASSIC}/advanced`, { 'related.Warranties': 'no' })).status).to.equal(400);

    await api.modules.addRelation(TO_CONTACTS);
    page = await (await admin.get(CLASSIC)).text();
    expect(page).to.match(/id="bp-active-Warranties" name="active" value="Warranties" checked>/);
  });

  it('saves both of two forms of different sections sent at the same moment from one page, neither undoing the other', async () => {
    const users = [await userId(api, 'tom.support'), await userId(api, 'sara.support')];
    const formRevision = (page: string, form: string) => new RegExp(`action="[^"]+/classic/${form}"[\\s\\S]*?name="revision" value="([^"]+)"`).exec(page)?.[1];
    for (let round = 0; round < 6; round++) {
      const page = await (await admin.get(CLASSIC)).text();
      const [modulesRevision, userRevision] = [formRevision(page, 'modules'), formRevision(page, 'user')];
      expect(modulesRevision, 'the form carries its revision').to.be.a('string');
      expect(userRevision, 'each form its own section’s').to.be.a('string').and.not.equal(modulesRevision);
      const documents = !entry(await stored(), 'Documents')?.active;
      const current = (await stored())!.userId;
      const user = users.find((id) => id !== current)!;
      const active = (await stored())!.modules.filter((m) => m.active && m.module !== 'Documents').map((m) => m.module);
      const [modules, owner] = await Promise.all([
        postPairs(test, admin, `${CLASSIC}/modules`, [...[...active, ...(documents ? ['Documents'] : [])].map((m) => ['active', m] as [string, string]), ['revision', modulesRevision!]]),
        postPairs(test, admin, `${CLASSIC}/user`, [['userId', String(user)], ['revision', userRevision!]]),
      ]);
      expect([modules.status, owner.status], `round ${round}`).to.deep.equal([303, 303]);
      // Both are in force: the second save was made on top of the first.
      const after = await stored();
      expect(entry(after, 'Documents')?.active, `round ${round}`).to.equal(documents);
      expect(after!.userId, `round ${round}`).to.equal(user);
    }
  });

  it('takes a POST without a body (no type, no bytes) as an empty form, as the other admin forms do, not a 500', async () => {
    const none = (path: string) => fetch(`${test.url}${CLASSIC}/${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf } });
    // Nothing ticked, no module chosen: what the form sends with every box cleared.
    expect((await none('modules')).status).to.equal(303);
    expect((await stored())!.modules.filter((m) => m.active)).to.deep.equal([]);
    expect((await none('advanced')).status).to.equal(303);
    // A user and a template must be named (an empty template field means none): refused.
    expect((await none('user')).status).to.equal(400);
    expect((await none('template')).status).to.equal(400);
  });
});
