/**
 * Section saves found wanting by an audit of the admin side, over real HTTP on a reference host:
 * - a home button or conditional rule that became inert (its custom module lost its relation to
 *   Contacts) no longer blocks saving its section: sent back unchanged it is kept, still flagged;
 *   a new or changed one is refused with a message naming the module by its label;
 * - a notification template unfit for its kind (no password for the access details, no reset link
 *   for password recovery) is refused, and the page offers such templates disabled, saying why;
 * - a required field hidden or read-only where Create is on, and no owner while Create is on, are
 *   told as warnings (the save goes through); the owner's hint says what "Not set" means.
 */
import { expect } from 'chai';
import type { HostApi, ModuleDefinition } from '../../plugin/host-contract/index.js';
import type { ConditionalRule, HomeButton, ModulePrivileges, ProfileDocument } from '../../plugin/profiles/profile-document.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { addEmailTemplate, adminActor, adminClient, profileService, SETTINGS, type AdminClient, type JsonError } from './profile-test-kit.js';

/** A custom module related to Contacts through a reference field; its label differs from its name. */
const CLAIMS: ModuleDefinition = {
  name: 'Claims1',
  label: { en: 'Warranty claims', it: 'Reclami in garanzia' },
  singularLabel: { en: 'Warranty claim', it: 'Reclamo in garanzia' },
  custom: true,
  labelField: 'claim_no',
  fields: [
    { name: 'claim_no', label: { en: 'Claim number', it: 'Numero reclamo' }, type: 'text', mandatory: true },
    { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
    { name: 'notes', label: { en: 'Notes', it: 'Note' }, type: 'textarea', mandatory: false },
  ],
};

interface Saved {
  readonly status: number;
  readonly document: ProfileDocument;
  readonly notices: readonly string[];
  readonly error: JsonError['error'] | undefined;
}

describe('profile section saves: inert items, template fitness, creation warnings @db', function () {
  this.timeout(30_000);
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

  async function fresh(name: string): Promise<number> {
    return (await service.create({ name, description: '', startFrom: null }, await adminActor(api))).id;
  }

  /** Saves a section as the privileges page does, with the profile's current version. */
  async function put(id: number, section: string, value: unknown): Promise<Saved> {
    const version = (await service.get(id)).version;
    const response = await admin.json('PUT', `${SETTINGS}/profiles/${id}/sections/${section}`, { version, value });
    const body = (await response.json()) as Partial<JsonError> & { document: ProfileDocument; notices: string[] };
    return { status: response.status, document: body.document, notices: body.notices ?? [], error: body.error };
  }

  const moduleOf = (document: ProfileDocument, name: string): ModulePrivileges => document.modules.find((m) => m.module === name)!;
  const page = async (id: number) => (await admin.get(`${SETTINGS}/profiles/${id}/privileges`)).text();

  describe('a button or rule whose module lost its relation to Contacts', () => {
    let id: number;
    const tickets: HomeButton = { title: 'Tickets', description: '', colour: 'primary', icon: 'list', action: 'list', module: 'HelpDesk' };
    const claims: HomeButton = { title: 'Claims', description: 'Your claims', colour: 'info', icon: 'list', action: 'list', module: 'Claims1' };
    const newTicket: HomeButton = { title: 'New ticket', description: '', colour: 'danger', icon: 'plus', action: 'create', module: 'HelpDesk' };
    const claimRule: ConditionalRule = {
      name: 'Closed claims',
      module: 'Claims1',
      origin: { kind: 'portal' },
      conditions: [{ field: 'claim_no', op: 'notNull' }],
      effects: [{ field: 'notes', effect: 'readonly' }],
      allReadOnly: false,
    };
    const ticketRule: ConditionalRule = {
      name: 'Urgent tickets',
      module: 'HelpDesk',
      origin: { kind: 'portal' },
      conditions: [{ field: 'priority', op: 'eq', value: 'Urgent' }],
      effects: [{ field: 'severity', effect: 'mandatory' }],
      allReadOnly: false,
    };

    before(async () => {
      await api.modules.registerModule(CLAIMS);
      id = await fresh('Inert items');
      const document = await service.document(id);
      expect(document.modules.map((m) => m.module), 'Claims1 is eligible').to.include('Claims1');
      const on = (entry: ModulePrivileges) => ({ ...entry, shown: true, view: true, create: true });
      expect((await put(id, 'modules', [on(moduleOf(document, 'HelpDesk')), on(moduleOf(document, 'Claims1'))])).status).to.equal(200);
      expect((await put(id, 'buttons', [tickets, claims, newTicket])).status).to.equal(200);
      expect((await put(id, 'rules', [claimRule, ticketRule])).status).to.equal(200);
      // As `npm run host -- remove-relation Claims1.contact_id` does.
      await api.modules.removeRelation('Claims1.contact_id');
      const inert = await service.document(id);
      expect(inert.flags).to.deep.include({ section: 'buttons', index: 1, reason: 'module-not-allowed', module: 'Claims1' });
      expect(inert.flags).to.deep.include({ section: 'rules', index: 0, reason: 'module-not-allowed', module: 'Claims1' });
    });

    it('saves the other buttons reordered, keeping the inert one unchanged and flagged', async () => {
      const saved = await put(id, 'buttons', [newTicket, claims, tickets]);
      expect(saved.status, JSON.stringify(saved.error)).to.equal(200);
      expect(saved.document.buttons).to.deep.equal([newTicket, claims, tickets]);
      expect(saved.document.flags).to.deep.include({ section: 'buttons', index: 1, reason: 'module-not-allowed', module: 'Claims1' });
      expect(saved.notices.join(' ')).to.match(/point(s)? at a module or field this profile no longer allows/);
      // The page still says so next to the button.
      expect(await page(id)).to.include('Points at Warranty claims, which this profile does not show or may not view.');
    });

    it('refuses a changed or a new button to that module, naming it by its label without an internal path', async () => {
      const changed = await put(id, 'buttons', [newTicket, { ...claims, title: 'All claims' }, tickets]);
      expect(changed.status).to.equal(400);
      const messages = changed.error!.problems.map((p) => p.message);
      expect(messages).to.deep.equal(['The button “All claims” opens Warranty claims, which this profile does not show or may not view.']);
      expect(changed.error!.problems[0]!.path).to.equal('buttons[1].module');

      const added = await put(id, 'buttons', [newTicket, claims, tickets, { ...claims, title: 'More claims' }]);
      expect(added.status).to.equal(400);
      expect(added.error!.problems.map((p) => p.message)).to.deep.equal(['The button “More claims” opens Warranty claims, which this profile does not show or may not view.']);
      expect((await service.document(id)).buttons, 'nothing stored').to.deep.equal([newTicket, claims, tickets]);
    });

    it('names the module in the admin’s language', async () => {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
      try {
        const changed = await put(id, 'buttons', [newTicket, { ...claims, title: 'Tutti' }, tickets]);
        expect(changed.error!.problems.map((p) => p.message)).to.deep.equal(['Il pulsante “Tutti” apre Reclami in garanzia, che questo profilo non mostra o non può visualizzare.']);
      } finally {
        await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }
    });

    it('saves the rules with the inert one unchanged, and refuses it changed', async () => {
      const extra: ConditionalRule = { ...ticketRule, name: 'High tickets', conditions: [{ field: 'priority', op: 'eq', value: 'High' }] };
      const saved = await put(id, 'rules', [ticketRule, claimRule, extra]);
      expect(saved.status, JSON.stringify(saved.error)).to.equal(200);
      expect(saved.document.rules.map((r) => r.name)).to.deep.equal(['Urgent tickets', 'Closed claims', 'High tickets']);
      expect(saved.document.flags).to.deep.include({ section: 'rules', index: 1, reason: 'module-not-allowed', module: 'Claims1' });

      const changed = await put(id, 'rules', [ticketRule, { ...claimRule, name: 'Claims with notes' }, extra]);
      expect(changed.status).to.equal(400);
      expect(changed.error!.problems.map((p) => p.message)).to.deep.equal(['The rule “Claims with notes” is for Warranty claims, which the portal cannot offer (any more).']);
      const added = await put(id, 'rules', [ticketRule, claimRule, extra, { ...claimRule, name: 'Another' }]);
      expect(added.status).to.equal(400);
      expect((await service.document(id)).rules.map((r) => r.name)).to.deep.equal(['Urgent tickets', 'Closed claims', 'High tickets']);
    });
  });

  describe('notification templates unfit for their kind', () => {
    let id: number;
    let invoice: number;
    let accessDetails: number;
    let withPassword: number;

    before(async () => {
      id = await fresh('Template fitness');
      const templates = await api.emailTemplates.templates();
      invoice = templates.find((t) => t.name === 'Invoice payment reminder')!.id;
      accessDetails = templates.find((t) => t.name === 'Customer portal: access details')!.id;
      withPassword = await addEmailTemplate(api, {
        name: 'Fitness: our own access details',
        module: 'Contacts',
        subject: 'Welcome',
        body: 'Sign in as {{portal.email}} with {{portal.password}}',
      });
    });

    const notifications = (templates: Record<string, number | null>) => ({
      templates: { registration: null, passwordChanged: null, passwordRecovery: null, newTicket: null, ticketReply: null, ...templates },
      smtpAccount: 'default',
      senderEmail: null,
      senderName: null,
    });

    it('refuses a template without the password for the access details, naming the kind and the placeholder', async () => {
      const refused = await put(id, 'notifications', notifications({ registration: invoice }));
      expect(refused.status).to.equal(400);
      expect(refused.error!.problems).to.deep.equal([
        {
          path: 'notifications.templates.registration',
          message:
            'Portal registration (access credentials): the template “Invoice payment reminder” does not contain the password ({{portal.password}}), so new portal users could not sign in. Choose a template that contains it, or the standard template.',
        },
      ]);
      expect((await service.document(id)).notifications.templates.registration).to.equal(null);
    });

    it('refuses a template without the reset link for password recovery', async () => {
      const refused = await put(id, 'notifications', notifications({ passwordRecovery: accessDetails }));
      expect(refused.status).to.equal(400);
      expect(refused.error!.problems.map((p) => p.message)).to.deep.equal([
        'Password recovery: the template “Customer portal: access details” does not contain the reset link ({{portal.resetUrl}}), so customers could not choose a new password. Choose a template that contains it, or the standard template.',
      ]);
    });

    it('says which part lacks the password or the link when only one part of the body merges it', async () => {
      const htmlOnly = await addEmailTemplate(api, { name: 'Fitness: password in HTML only', module: 'Contacts', subject: 'Welcome', body: 'Password: {{portal.password}}', text: 'See the HTML version.' });
      const textOnly = await addEmailTemplate(api, { name: 'Fitness: link in text only', module: 'Contacts', subject: 'Reset', body: 'Follow the link in the text version.', text: 'Reset: {{portal.resetUrl}}' });
      const refused = await put(id, 'notifications', notifications({ registration: htmlOnly, passwordRecovery: textOnly }));
      expect(refused.status).to.equal(400);
      expect(refused.error!.problems).to.deep.equal([
        {
          path: 'notifications.templates.registration',
          message:
            'Portal registration (access credentials): the template “Fitness: password in HTML only” has the password ({{portal.password}}) in its HTML part only, not in its plain-text part, which text-only mail clients show: new portal users reading it could not sign in. Add it to the plain-text part, or choose the standard template.',
        },
        {
          path: 'notifications.templates.passwordRecovery',
          message:
            'Password recovery: the template “Fitness: link in text only” has the reset link ({{portal.resetUrl}}) in its plain-text part only, not in its HTML part, which most mail clients show: customers reading it could not choose a new password. Add it to the HTML part, or choose the standard template.',
        },
      ]);
      expect((await service.document(id)).notifications.templates).to.include({ registration: null, passwordRecovery: null });
    });

    it('accepts fitting templates, and any template for the kinds that need nothing', async () => {
      const saved = await put(id, 'notifications', notifications({ registration: withPassword, passwordChanged: invoice, newTicket: invoice }));
      expect(saved.status, JSON.stringify(saved.error)).to.equal(200);
      expect(saved.document.notifications.templates).to.include({ registration: withPassword, passwordChanged: invoice, newTicket: invoice });
    });

    it('offers unfit templates disabled, saying what they lack; a stored unfit choice is kept and explained', async () => {
      let html = await page(id);
      const select = (kind: string) => new RegExp(`<select id="bp-template-${kind}"[\\s\\S]*?</select>(\\s*<small[^>]*>[^<]*</small>)*`).exec(html)?.[0] ?? '';
      expect(select('registration')).to.include(`<option value="${invoice}" disabled>Invoice payment reminder — lacks {{portal.password}}</option>`);
      expect(select('registration')).to.include(`<option value="${withPassword}" selected>Fitness: our own access details</option>`);
      expect(select('passwordRecovery')).to.include(`<option value="${accessDetails}" disabled>Customer portal: access details — lacks {{portal.resetUrl}}</option>`);
      expect(select('newTicket')).to.include(`<option value="${invoice}" selected>Invoice payment reminder</option>`);
      expect(select('registration')).not.to.include('data-bp-template-unfit');

      // A choice stored before the check (or by an older release).
      await api.database.sequelize.query('UPDATE bp_profiles SET template_registration = :invoice WHERE id = :id', { replacements: { invoice, id } });
      html = await page(id);
      expect(select('registration')).to.include(`<option value="${invoice}" selected>Invoice payment reminder — lacks {{portal.password}}</option>`);
      expect(select('registration')).to.include('The chosen template does not contain {{portal.password}}, which this mail needs: the standard template is sent instead until you choose another one.');
      // Saving the rest of the section with it unchanged goes through.
      const document = await service.document(id);
      const saved = await put(id, 'notifications', { ...document.notifications, senderName: 'Support' });
      expect(saved.status, JSON.stringify(saved.error)).to.equal(200);
      expect(saved.document.notifications.templates.registration).to.equal(invoice);
    });
  });

  describe('warnings when customers could not create what Create allows', () => {
    let id: number;
    // The ticket mails' templates merge fields these saves hide: that warning is tested on its own (profile-service).
    const creation = (notices: readonly string[]) => notices.filter((notice) => !notice.startsWith('The template '));

    before(async () => {
      id = await fresh('Creation warnings');
      const tom = (await api.users.users()).find((u) => u.userName === 'tom.support')!;
      const general = (await service.document(id)).general;
      expect((await put(id, 'general', { ...general, owner: { kind: 'user', id: tom.id } })).status).to.equal(200);
    });

    it('warns, naming module and field, when a required field is hidden or read-only while Create is on', async () => {
      const tickets = moduleOf(await service.document(id), 'HelpDesk');
      const hidden = await put(id, 'modules', [{ ...tickets, shown: true, view: true, create: true, fields: { ...tickets.fields, ticket_title: 'hidden' } }]);
      expect(hidden.status).to.equal(200);
      expect(moduleOf(hidden.document, 'HelpDesk').fields.ticket_title, 'saved all the same').to.equal('hidden');
      expect(creation(hidden.notices)).to.deep.equal(['Customers of this profile cannot create Trouble Tickets: Title is required and hidden. Make it read-write, or switch Create off.']);

      const readOnly = await put(id, 'modules', [{ ...tickets, shown: true, view: true, create: true, fields: { ...tickets.fields, ticket_title: 'readonly' } }]);
      expect(readOnly.notices).to.deep.equal(['Customers of this profile cannot create Trouble Tickets: Title is required and read-only. Make it read-write, or switch Create off.']);
    });

    it('does not warn for what the portal fills itself (a required picklist, the links to the customer), nor without Create', async () => {
      const tickets = moduleOf(await service.document(id), 'HelpDesk');
      const portalFilled = await put(id, 'modules', [
        { ...tickets, shown: true, view: true, create: true, fields: { ...tickets.fields, ticket_title: 'readwrite', status: 'hidden', contact_id: 'readonly', account_id: 'hidden' } },
      ]);
      expect(portalFilled.status).to.equal(200);
      expect(creation(portalFilled.notices)).to.deep.equal([]);

      const noCreate = await put(id, 'modules', [{ ...tickets, shown: true, view: true, create: false, fields: { ...tickets.fields, ticket_title: 'hidden' } }]);
      expect(creation(noCreate.notices)).to.deep.equal([]);
      // Edit all widens Create: the same warning after a globals save.
      const editAll = await put(id, 'globals', { viewAll: false, editAll: true });
      expect(editAll.notices).to.include('Customers of this profile cannot create Trouble Tickets: Title is required and hidden. Make it read-write, or switch Create off.');
      expect((await put(id, 'globals', { viewAll: false, editAll: false })).notices).to.deep.equal([]);
    });

    it('warns on saving general or modules when no owner is set and some module allows Create', async () => {
      const blank = await fresh('No owner');
      const document = await service.document(blank);
      expect(document.general.owner, 'a new profile starts without an owner').to.equal(null);
      const ownerless = 'No owner is set: records customers create from the portal (Trouble Tickets) get no owner, and no one is mailed about them. Choose an owner under General.';

      const tickets = moduleOf(document, 'HelpDesk');
      const modules = await put(blank, 'modules', [{ ...tickets, shown: true, view: true, create: true }]);
      expect(modules.status).to.equal(200);
      expect(modules.notices).to.deep.equal([ownerless]);
      const general = await put(blank, 'general', document.general);
      expect(general.status, 'null stays a valid owner').to.equal(200);
      expect(general.notices).to.deep.equal([ownerless]);

      const group = (await api.users.groups())[0]!;
      expect((await put(blank, 'general', { ...document.general, owner: { kind: 'group', id: group.id } })).notices).to.deep.equal([]);
      // Without Create anywhere there is nothing to own.
      const viewOnly = await fresh('View only');
      const viewTickets = moduleOf(await service.document(viewOnly), 'HelpDesk');
      expect((await put(viewOnly, 'modules', [{ ...viewTickets, shown: true, view: true, create: false }])).notices).to.deep.equal([]);
    });

    it('says on the page what an owner “Not set” means', async () => {
      const html = await page(id);
      expect(html).to.match(/<small id="bp-owner-hint">[^<]*“Not set”: records created from the portal get no owner, and no one is mailed about new tickets.<\/small>/);
    });
  });
});
