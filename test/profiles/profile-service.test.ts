/**
 * The profile service on a real reference host: sections saved with the server's rules,
 * copy-on-create, optimistic locking, audit rows, eligibility, and failed saves that change
 * nothing.
 */
import { expect } from 'chai';
import { RegistryModuleEligibility } from '../../plugin/eligibility/module-eligibility.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { buttonText, type ConditionalRule, type ModulePrivileges, type ProfileActor, type ProfileSections } from '../../plugin/profiles/profile-document.js';
import type { ProfileExport } from '../../plugin/profiles/profile-schemas.js';
import { ProfileError, ProfileValidationError } from '../../plugin/profiles/profile-errors.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { ProfileAudit } from '../../plugin/profiles/profile-audit.js';
import { ProfileSectionsStore } from '../../plugin/profiles/profile-sections-store.js';
import { DatabaseProfileService as Service } from '../../plugin/profiles/profile-service.js';
import { SequelizeProfileStore } from '../../plugin/profiles/profile-store.js';
import type { Transaction } from 'sequelize';
import { addEmailTemplate, adminActor, count, profileService, rows } from './profile-test-kit.js';

/** A sections store that fails after writing the rules, inside the transaction. */
class FailingSectionsStore extends ProfileSectionsStore {
  override async writeRules(profileId: number, rules: readonly ConditionalRule[], transaction: Transaction): Promise<void> {
    await super.writeRules(profileId, rules, transaction);
    throw new Error('disk full');
  }
}

async function refusal(promise: Promise<unknown>): Promise<ProfileError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProfileError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

function moduleOf(sections: ProfileSections, name: string): ModulePrivileges {
  const entry = sections.modules.find((m) => m.module === name);
  if (!entry) throw new Error(`no module ${name}`);
  return entry;
}

const on = (entry: ModulePrivileges, changes: Partial<ModulePrivileges> = {}): ModulePrivileges => ({
  ...entry,
  shown: true,
  view: true,
  create: true,
  edit: true,
  ...changes,
});

describe('profile service @db', () => {
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let actor: ProfileActor;

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    actor = await adminActor(api);
  });
  after(async () => {
    await test?.stop();
  });

  async function fresh(name: string) {
    return service.create({ name, description: `About ${name}`, startFrom: null }, actor);
  }

  it('adds the privilege columns and tables (two_factor_type on bp_profiles)', async () => {
    const columns = await api.database.sequelize.getQueryInterface().describeTable('bp_profiles');
    expect(columns).to.include.keys('two_factor_type', 'two_factor_fallback', 'owner_kind', 'owner_id', 'view_all', 'edit_all', 'smtp_account');
    for (const table of ['bp_profile_modules', 'bp_profile_fields', 'bp_profile_list_columns', 'bp_profile_buttons', 'bp_profile_rules', 'bp_profile_audit']) {
      expect(await api.database.sequelize.getQueryInterface().tableExists(table), table).to.equal(true);
    }
    const [row] = await rows<{ two_factor_type: string }>(api, "SELECT two_factor_type FROM bp_profiles WHERE name = 'Default'");
    expect(row?.two_factor_type).to.equal('none');
  });

  it('offers the modules related to Contacts or Accounts, and says why the others are not', async () => {
    const eligibility = new RegistryModuleEligibility(api.modules);
    const names = eligibility.eligibleModules().map((m) => m.name);
    expect(names).to.include.members(['Contacts', 'Accounts', 'HelpDesk', 'Faq', 'Documents', 'Invoice', 'Quotes', 'Assets', 'Vendors']);
    // Products has no relation to customers: offered as a public catalogue, like the FAQ.
    expect(names).to.include('Products');
    expect(names).not.to.include('ProjectTask');
    expect(eligibility.reasonNotEligible('ProjectTask')).to.equal('no-customer-relation');
    expect(eligibility.reasonNotEligible('Nope')).to.equal('unknown-module');

    await api.modules.registerModule({
      name: 'Warranties',
      label: { en: 'Warranties' },
      singularLabel: { en: 'Warranty' },
      custom: true,
      labelField: 'title',
      fields: [{ name: 'title', label: { en: 'Title' }, type: 'text', mandatory: true }],
    });
    expect(eligibility.isEligible('Warranties'), 'no relation yet').to.equal(false);
    await api.modules.addField('Warranties', { name: 'contact_id', label: { en: 'Contact' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] });
    expect(eligibility.isEligible('Warranties'), 'a reference to Contacts').to.equal(true);
    const document = await service.document((await fresh('Eligibility')).id);
    expect(document.modules.map((m) => m.module)).to.include('Warranties');
    await api.modules.removeModule('Warranties');
    expect(eligibility.isEligible('Warranties')).to.equal(false);
  });

  it('reads a new profile as all modules off, every field read-write, two-factor off', async () => {
    const document = await service.document((await fresh('Blank')).id);
    expect(document.general).to.deep.equal({ owner: null, twoFactorType: 'none', twoFactorFallback: 'none' });
    const tickets = moduleOf(document, 'HelpDesk');
    expect(tickets).to.include({ shown: false, view: false, create: false, edit: false, delete: false, scope: 'contact' });
    expect(tickets.fields.ticket_title).to.equal('readwrite');
    expect(document.flags).to.deep.equal([]);
  });

  it('never lets Accounts be created from the portal: the flag is switched off with a notice', async () => {
    const profile = await fresh('No account creation');
    const accounts = moduleOf(await service.document(profile.id), 'Accounts');
    const outcome = await service.saveSection(profile.id, 'modules', [on(accounts)], profile.version, actor);
    expect(moduleOf(outcome.document, 'Accounts')).to.include({ shown: true, create: false, edit: true });
    expect(outcome.notices.map((n) => n.messageKey)).to.include('profiles.notices.accountsNoCreate');
    const [stored] = await rows<{ can_create: unknown }>(api, "SELECT can_create FROM bp_profile_modules WHERE profile_id = :id AND module = 'Accounts'", { id: profile.id });
    expect([false, 0, '0']).to.include(stored!.can_create);
  });

  it('removes a hidden field from the list columns on save and says which', async () => {
    const profile = await fresh('Hidden columns');
    const tickets = moduleOf(await service.document(profile.id), 'HelpDesk');
    const outcome = await service.saveSection(
      profile.id,
      'modules',
      [on(tickets, { fields: { ...tickets.fields, priority: 'hidden', solution: 'readonly' }, listColumns: ['ticket_title', 'priority', 'status'] })],
      profile.version,
      actor,
    );
    expect(moduleOf(outcome.document, 'HelpDesk').listColumns).to.deep.equal(['ticket_title', 'status']);
    expect(moduleOf(outcome.document, 'HelpDesk').fields).to.include({ priority: 'hidden', solution: 'readonly' });
    const notice = outcome.notices.find((n) => n.messageKey === 'profiles.notices.hiddenColumnsRemoved');
    // Named by their labels, in each language the host gives: an administrator never sees `HelpDesk.priority`.
    expect(notice?.labels).to.deep.equal({ columns: { en: 'Trouble Tickets › Priority', it: 'Ticket di assistenza › Priorità' } });
  });

  it('refuses modules, fields and list columns the host lacks, and changes nothing', async () => {
    const profile = await fresh('Unknown things');
    const tickets = moduleOf(await service.document(profile.id), 'HelpDesk');
    const auditBefore = await count(api, 'bp_profile_audit', 'profile_id = :id', { id: profile.id });
    const error = await refusal(
      service.saveSection(
        profile.id,
        'modules',
        [on(tickets, { fields: { nope: 'hidden' }, listColumns: ['ghost'] }), on(moduleOf(await service.document(profile.id), 'Faq'), { module: 'ProjectTask' })],
        profile.version,
        actor,
      ),
    );
    expect(error).to.be.instanceOf(ProfileValidationError);
    const keys = (error as ProfileValidationError).problems.map((p) => p.messageKey);
    expect(keys).to.include.members(['profiles.validation.unknownField', 'profiles.validation.moduleNotEligible']);
    expect((await service.get(profile.id)).version).to.equal(profile.version);
    expect(await count(api, 'bp_profile_modules', 'profile_id = :id', { id: profile.id })).to.equal(0);
    expect(await count(api, 'bp_profile_audit', 'profile_id = :id', { id: profile.id })).to.equal(auditBefore);
  });

  it('refuses a button to a module the profile does not show, and flags one that loses its module', async () => {
    const profile = await fresh('Buttons');
    const document = await service.document(profile.id);
    const button = { title: 'New ticket', description: 'Ask us', colour: 'primary', icon: 'ticket', action: 'create', module: 'HelpDesk' } as const;

    const refused = await refusal(service.saveSection(profile.id, 'buttons', [button], profile.version, actor));
    expect((refused as ProfileValidationError).problems[0]).to.include({ messageKey: 'profiles.validation.buttonModuleNotAllowed', path: 'buttons[0].module' });

    const withTickets = await service.saveSection(profile.id, 'modules', [on(moduleOf(document, 'HelpDesk'))], profile.version, actor);
    const saved = await service.saveSection(profile.id, 'buttons', [button], withTickets.document.profile.version, actor);
    expect(saved.document.buttons).to.deep.equal([button]);
    expect(saved.document.flags).to.deep.equal([]);

    const off = await service.saveSection(profile.id, 'modules', [{ ...moduleOf(saved.document, 'HelpDesk'), create: false }], saved.document.profile.version, actor);
    expect(off.document.flags).to.deep.equal([{ section: 'buttons', index: 0, reason: 'create-not-allowed', module: 'HelpDesk' }]);
    expect(off.notices.map((n) => n.messageKey)).to.include('profiles.notices.flagged');
    expect(off.document.buttons, 'kept, flagged').to.have.length(1);
  });

  it('refuses a "create" button to a public catalogue, which customers only read, whatever its flags or Edit all say', async () => {
    const profile = await fresh('Catalogue buttons');
    const document = await service.document(profile.id);
    const withFaq = await service.saveSection(profile.id, 'modules', [on(moduleOf(document, 'Faq'))], profile.version, actor);
    const button = { title: 'New FAQ', description: 'Write one', colour: 'info', icon: 'question', action: 'create', module: 'Faq' } as const;
    const refused = await refusal(service.saveSection(profile.id, 'buttons', [button], withFaq.document.profile.version, actor));
    expect((refused as ProfileValidationError).problems[0]).to.include({ messageKey: 'profiles.validation.buttonCreateNotAllowed', path: 'buttons[0].module' });
    const editAll = await service.saveSection(profile.id, 'globals', { viewAll: false, editAll: true }, withFaq.document.profile.version, actor);
    const again = await refusal(service.saveSection(profile.id, 'buttons', [button], editAll.document.profile.version, actor));
    expect((again as ProfileValidationError).problems[0]).to.include({ messageKey: 'profiles.validation.buttonCreateNotAllowed' });
    // Its list is what a catalogue button may open.
    const list = await service.saveSection(profile.id, 'buttons', [{ ...button, action: 'list' }], editAll.document.profile.version, actor);
    expect(list.document.flags).to.deep.equal([]);
  });

  it('keeps a button’s text in the CRM’s other languages, refuses a language the CRM lacks, and exports it', async () => {
    const profile = await fresh('Translated buttons');
    const document = await service.document(profile.id);
    const withTickets = await service.saveSection(profile.id, 'modules', [on(moduleOf(document, 'HelpDesk'))], profile.version, actor);
    const button = {
      title: 'New ticket',
      description: 'Ask us',
      translations: { it: { title: 'Nuovo ticket', description: 'Chiedici' } },
      colour: 'primary',
      icon: 'ticket',
      action: 'list',
      module: 'HelpDesk',
    } as const;
    const saved = await service.saveSection(profile.id, 'buttons', [button], withTickets.document.profile.version, actor);
    expect(saved.document.buttons).to.deep.equal([button]);

    const klingon = { ...button, translations: { ...button.translations, tlh: { title: 'chu’', description: '' } } };
    const refused = await refusal(service.saveSection(profile.id, 'buttons', [klingon], saved.document.profile.version, actor));
    expect((refused as ProfileValidationError).problems[0]).to.include({ messageKey: 'profiles.validation.buttonLanguage', path: 'buttons[0].translations.tlh' });
    // A part left blank reads the button's own text: an Italian description alone keeps the title.
    const descriptionOnly = { ...button, translations: { it: { title: '', description: 'Chiedici' } } };
    const partial = await service.saveSection(profile.id, 'buttons', [descriptionOnly], saved.document.profile.version, actor);
    expect(buttonText(partial.document.buttons[0]!, 'it')).to.deep.equal({ title: 'New ticket', description: 'Chiedici' });
    expect(buttonText(partial.document.buttons[0]!, 'en')).to.deep.equal({ title: 'New ticket', description: 'Ask us' });
    const tooLong = await refusal(service.saveSection(profile.id, 'buttons', [{ ...button, translations: { it: { title: 'x'.repeat(101), description: '' } } }], partial.document.profile.version, actor));
    expect(tooLong).to.be.instanceOf(ProfileError);
    await service.saveSection(profile.id, 'buttons', [button], partial.document.profile.version, actor);

    // Export and import carry the translations; an import drops a language this CRM lacks.
    const file = (await service.exportProfile(profile.id)) as ProfileExport;
    expect(file.buttons[0]).to.deep.equal(button);
    const imported = await service.importProfile({ ...file, profile: { name: 'Translated again', description: '' }, buttons: [klingon] }, {}, actor);
    expect((await service.document(imported.profile.id)).buttons).to.deep.equal([button]);
  });

  it('reads a translation of invisible characters only (a pasted zero-width space) as blank: the button keeps its own text', async () => {
    const profile = await fresh('Invisible translation');
    const document = await service.document(profile.id);
    const withTickets = await service.saveSection(profile.id, 'modules', [on(moduleOf(document, 'HelpDesk'))], profile.version, actor);
    const button = {
      title: 'New ticket',
      description: 'Ask us',
      translations: { it: { title: '\u200B', description: '\u00AD\u200D ' } },
      colour: 'primary',
      icon: 'ticket',
      action: 'list',
      module: 'HelpDesk',
    } as const;
    const saved = await service.saveSection(profile.id, 'buttons', [button], withTickets.document.profile.version, actor);
    // An Italian customer's home would otherwise show a button with no title at all.
    expect(buttonText(saved.document.buttons[0]!, 'it')).to.deep.equal({ title: 'New ticket', description: 'Ask us' });
  });

  it('checks rules against the module fields and flags a rule whose module is not shown', async () => {
    const profile = await fresh('Rules');
    const rule = {
      name: 'Blocked accounts are read-only',
      module: 'Accounts',
      origin: { kind: 'portal' },
      conditions: [{ field: 'status', op: 'eq', value: 'Blocked' }],
      effects: [{ field: 'phone', effect: 'readonly' }],
      allReadOnly: true,
    } as const;
    const unknownField = await refusal(service.saveSection(profile.id, 'rules', [{ ...rule, effects: [{ field: 'ghost', effect: 'hidden' }] }], profile.version, actor));
    expect((unknownField as ProfileValidationError).problems[0]?.messageKey).to.equal('profiles.validation.unknownField');
    const badValue = await refusal(service.saveSection(profile.id, 'rules', [{ ...rule, conditions: [{ field: 'status', op: 'in', value: 'Blocked' }] }], profile.version, actor));
    expect((badValue as ProfileValidationError).problems[0]?.messageKey).to.equal('profiles.validation.ruleValue');

    const saved = await service.saveSection(profile.id, 'rules', [rule], profile.version, actor);
    expect(saved.document.rules).to.deep.equal([rule]);
    expect(saved.document.flags).to.deep.equal([{ section: 'rules', index: 0, reason: 'module-not-allowed', module: 'Accounts' }]);
  });

  it('warns when a rule tests a field the profile hides: its effect would tell customers the value', async () => {
    const profile = await fresh('Rule leaks');
    const tickets = moduleOf(await service.document(profile.id), 'HelpDesk');
    const hidden = await service.saveSection(profile.id, 'modules', [on(tickets, { fields: { ...tickets.fields, severity: 'hidden' } })], profile.version, actor);
    const rule = {
      name: 'Critical tickets',
      module: 'HelpDesk',
      origin: { kind: 'portal' },
      conditions: [{ field: 'severity', op: 'eq', value: 'Critical' }],
      effects: [{ field: 'category', effect: 'readonly' }],
      allReadOnly: false,
    } as const;
    const saved = await service.saveSection(profile.id, 'rules', [rule], hidden.document.profile.version, actor);
    const warning = saved.notices.find((n) => n.messageKey === 'profiles.notices.ruleTestsHiddenField');
    expect(warning).to.deep.equal({
      messageKey: 'profiles.notices.ruleTestsHiddenField',
      params: { rule: 'Critical tickets' },
      labels: { module: { en: 'Trouble Tickets', it: 'Ticket di assistenza' }, field: { en: 'Severity', it: 'Gravità' } },
    });
    // Showing the field again (a modules save) ends the warning.
    const shown = await service.saveSection(profile.id, 'modules', [on(tickets, { fields: { ...tickets.fields, severity: 'readonly' } })], saved.document.profile.version, actor);
    expect(shown.notices.map((n) => n.messageKey)).not.to.include('profiles.notices.ruleTestsHiddenField');
  });

  it('warns when a rule makes mandatory a field the profile hides or makes read-only: customers cannot fill it, so it is never asked for', async () => {
    const profile = await fresh('Inert mandatory');
    const tickets = moduleOf(await service.document(profile.id), 'HelpDesk');
    const fields = { ...tickets.fields, category: 'hidden', severity: 'readonly', priority: 'readwrite' } as const;
    const modules = await service.saveSection(profile.id, 'modules', [on(tickets, { create: true, edit: true, fields })], profile.version, actor);
    const rule = {
      name: 'Urgent tickets',
      module: 'HelpDesk',
      origin: { kind: 'portal' },
      conditions: [{ field: 'priority', op: 'eq', value: 'Urgent' }],
      effects: [
        { field: 'category', effect: 'mandatory' },
        { field: 'severity', effect: 'mandatory' },
        { field: 'description', effect: 'mandatory' },
      ],
      allReadOnly: false,
    } as const;
    const saved = await service.saveSection(profile.id, 'rules', [rule], modules.document.profile.version, actor);
    expect(saved.notices.filter((n) => n.messageKey === 'profiles.notices.ruleMandatoryNotWritable')).to.deep.equal([
      {
        messageKey: 'profiles.notices.ruleMandatoryNotWritable',
        params: { rule: 'Urgent tickets' },
        labels: { module: { en: 'Trouble Tickets', it: 'Ticket di assistenza' }, field: { en: 'Category', it: 'Categoria' } },
      },
      {
        messageKey: 'profiles.notices.ruleMandatoryNotWritable',
        params: { rule: 'Urgent tickets' },
        labels: { module: { en: 'Trouble Tickets', it: 'Ticket di assistenza' }, field: { en: 'Severity', it: 'Gravità' } },
      },
    ]);
    // Making the fields editable again (a modules save) ends the warning.
    const editable = await service.saveSection(profile.id, 'modules', [on(tickets, { create: true, edit: true, fields: { ...fields, category: 'readwrite', severity: 'readwrite' } })], saved.document.profile.version, actor);
    expect(editable.notices.map((n) => n.messageKey)).not.to.include('profiles.notices.ruleMandatoryNotWritable');
  });

  it('warns when a ticket mail’s template merges a ticket field the profile hides: customers get the mail without it', async () => {
    const profile = await fresh('Hidden in mails');
    const tickets = moduleOf(await service.document(profile.id), 'HelpDesk');
    // The standard "Customer portal: new ticket" merges the status; "reply to a ticket" does not.
    const hidden = await service.saveSection(profile.id, 'modules', [on(tickets, { fields: { ...tickets.fields, status: 'hidden' } })], profile.version, actor);
    expect(hidden.notices.filter((n) => n.messageKey === 'profiles.notices.templateMergesHiddenField')).to.deep.equal([
      {
        messageKey: 'profiles.notices.templateMergesHiddenField',
        params: { template: 'Customer portal: new ticket' },
        labels: { module: { en: 'Trouble Tickets', it: 'Ticket di assistenza' }, field: { en: 'Status', it: 'Stato' } },
      },
    ]);
    // A chosen template that does not merge it: no warning (a notifications save checks too).
    const plain = await addEmailTemplate(api, { name: 'New ticket, no status', module: 'HelpDesk', subject: 'Ticket {{ticket.ticket_no}}', body: 'We got {{ticket.ticket_title}}.' });
    const chosen = await service.saveSection(
      profile.id,
      'notifications',
      { templates: { registration: null, passwordChanged: null, passwordRecovery: null, newTicket: plain, ticketReply: null }, smtpAccount: 'default', senderEmail: null, senderName: null },
      hidden.document.profile.version,
      actor,
    );
    expect(chosen.notices.map((n) => n.messageKey)).not.to.include('profiles.notices.templateMergesHiddenField');
    // Showing the field again ends it.
    const shown = await service.saveSection(profile.id, 'modules', [on(tickets, { fields: { ...tickets.fields, status: 'readonly' } })], chosen.document.profile.version, actor);
    expect(shown.notices.map((n) => n.messageKey)).not.to.include('profiles.notices.templateMergesHiddenField');
  });

  it('checks the owner, the templates and the two-factor types', async () => {
    const profile = await fresh('General');
    const missingOwner = await refusal(
      service.saveSection(profile.id, 'general', { owner: { kind: 'user', id: 999999 }, twoFactorType: 'none', twoFactorFallback: 'none' }, profile.version, actor),
    );
    expect((missingOwner as ProfileValidationError).problems[0]?.messageKey).to.equal('profiles.validation.ownerMissing');
    const sameFallback = await refusal(service.saveSection(profile.id, 'general', { owner: null, twoFactorType: 'email', twoFactorFallback: 'email' }, profile.version, actor));
    expect((sameFallback as ProfileValidationError).problems[0]?.messageKey).to.equal('profiles.validation.fallbackSameAsType');
    const templates = { registration: 999999, passwordChanged: null, passwordRecovery: null, newTicket: null, ticketReply: null };
    const missingTemplate = await refusal(
      service.saveSection(profile.id, 'notifications', { templates, smtpAccount: 'global', senderEmail: null, senderName: null }, profile.version, actor),
    );
    expect((missingTemplate as ProfileValidationError).problems[0]?.messageKey).to.equal('profiles.validation.templateMissing');

    const group = (await api.users.groups())[0]!;
    const saved = await service.saveSection(profile.id, 'general', { owner: { kind: 'group', id: group.id }, twoFactorType: 'email', twoFactorFallback: 'none' }, profile.version, actor);
    expect(saved.document.general).to.deep.equal({ owner: { kind: 'group', id: group.id }, twoFactorType: 'email', twoFactorFallback: 'none' });
    const [row] = await rows<{ two_factor_type: string }>(api, 'SELECT two_factor_type FROM bp_profiles WHERE id = :id', { id: profile.id });
    expect(row?.two_factor_type, 'the column the sign-in reads').to.equal('email');
  });

  it('refuses a stale version as "changed by someone else", and a section that fails ajv', async () => {
    const profile = await fresh('Locking');
    await service.saveSection(profile.id, 'globals', { viewAll: true, editAll: false }, profile.version, actor);
    const stale = await refusal(service.saveSection(profile.id, 'globals', { viewAll: false, editAll: true }, profile.version, actor));
    expect(stale.code).to.equal('stale');
    expect(stale.status).to.equal(409);
    expect((await service.document(profile.id)).globals).to.deep.equal({ viewAll: true, editAll: false });

    const invalid = await refusal(service.saveSection(profile.id, 'globals', { viewAll: 'yes', extra: 1 }, profile.version + 1, actor));
    expect(invalid.status).to.equal(400);
    expect((invalid as ProfileValidationError).problems.map((p) => p.messageKey)).to.include.members(['profiles.validation.type', 'profiles.validation.unknownProperty']);
  });

  it('copies every section on create from an existing profile, and records audit rows with before/after', async () => {
    const source = await fresh('Source');
    let version = source.version;
    const save = async (section: Parameters<typeof service.saveSection>[1], value: unknown) => {
      const outcome = await service.saveSection(source.id, section, value, version, actor);
      version = outcome.document.profile.version;
      return outcome;
    };
    const user = (await api.users.users()).find((u) => u.userName === 'tom.support')!;
    const template = (await api.emailTemplates.templates())[0]!;
    // Password recovery takes a template with the reset link.
    const recovery = (await api.emailTemplates.templates()).find((t) => t.name === 'Customer portal: password recovery')!;
    const document = await service.document(source.id);
    await save('general', { owner: { kind: 'user', id: user.id }, twoFactorType: 'email', twoFactorFallback: 'none' });
    await save('notifications', {
      templates: { registration: template.id, passwordChanged: null, passwordRecovery: recovery.id, newTicket: null, ticketReply: null },
      smtpAccount: 'global',
      senderEmail: 'support@example.com',
      senderName: 'Support',
    });
    const tickets = moduleOf(document, 'HelpDesk');
    await save('modules', [
      on(tickets, { delete: true, scope: 'account-and-subsidiaries', fields: { ...tickets.fields, solution: 'hidden' }, listColumns: ['ticket_no', 'ticket_title'], tools: { comments: true, documents: true, search: true, export: false } }),
      on(moduleOf(document, 'Faq'), { create: false, edit: false }),
    ]);
    await save('globals', { viewAll: false, editAll: true });
    await save('buttons', [
      { title: 'Tickets', description: '', colour: 'info', icon: 'list', action: 'list', module: 'HelpDesk' },
      { title: 'FAQ', description: 'Answers', colour: 'success', icon: 'question', action: 'list', module: 'Faq' },
    ]);
    await save('rules', [
      { name: 'Closed tickets', module: 'HelpDesk', origin: { kind: 'crm', ruleId: (await api.conditionalRules.rules())[0]!.id }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }], effects: [], allReadOnly: true },
    ]);

    const copy = await service.create({ name: 'Copy of source', description: 'copied', startFrom: source.id }, actor);
    const [original, copied] = [await service.document(source.id), await service.document(copy.id)];
    const sections = ({ general, notifications, buttons, rules, globals, modules }: ProfileSections) => ({ general, notifications, buttons, rules, globals, modules });
    expect(sections(copied)).to.deep.equal(sections(original));
    expect(copied.profile).to.include({ name: 'Copy of source', description: 'copied', isDefault: false });

    const audit = await service.audit(source.id);
    expect(audit.map((a) => `${a.action}:${a.section ?? ''}`)).to.deep.equal(['save:rules', 'save:buttons', 'save:globals', 'save:modules', 'save:notifications', 'save:general', 'create:']);
    const general = audit.find((a) => a.section === 'general')!;
    expect(general).to.include({ userId: actor.userId, userName: 'admin' });
    expect(general.before).to.deep.equal({ owner: null, twoFactorType: 'none', twoFactorFallback: 'none' });
    expect(general.after).to.deep.equal({ owner: { kind: 'user', id: user.id }, twoFactorType: 'email', twoFactorFallback: 'none' });
    const modules = audit.find((a) => a.section === 'modules')!;
    expect((modules.after as ModulePrivileges[]).map((m) => m.module), 'only the modules that changed').to.deep.equal(['HelpDesk', 'Faq']);
    expect((await service.audit(copy.id))[0]).to.include({ action: 'create' });
    expect((await service.audit(copy.id))[0]!.after).to.include({ startFrom: 'Source' });
  });

  it('renames with optimistic locking, refuses a name in use, and keeps names unique whatever their case', async () => {
    const profile = await fresh('Renamed');
    const renamed = await service.rename(profile.id, { name: 'Renamed twice', description: 'new words', expectedVersion: profile.version }, actor);
    expect(renamed).to.include({ name: 'Renamed twice', description: 'new words', version: profile.version + 1 });
    expect((await refusal(service.rename(profile.id, { name: 'x', description: '', expectedVersion: profile.version }, actor))).code).to.equal('stale');
    expect((await refusal(service.rename(profile.id, { name: 'default', description: '', expectedVersion: renamed.version }, actor))).code).to.equal('name_taken');
    expect((await refusal(fresh('RENAMED TWICE'))).code).to.equal('name_taken');
  });

  it('deletes a profile after moving its contacts (to Default unless chosen); Default cannot be deleted', async () => {
    const defaultProfile = (await service.list()).find((p) => p.isDefault)!;
    const leaving = await fresh('Leaving');
    const target = await fresh('Target');
    const { addPortalAccount } = await import('./profile-test-kit.js');
    await addPortalAccount(api, 9001, leaving.id);
    await addPortalAccount(api, 9002, leaving.id);
    const outcome = await service.delete(leaving.id, { moveTo: target.id, expectedVersion: leaving.version }, actor);
    expect(outcome.movedContacts).to.equal(2);
    expect(outcome.movedTo.id).to.equal(target.id);
    expect(await count(api, 'bp_portal_accounts', 'profile_id = :id', { id: target.id })).to.equal(2);
    expect(await service.list().then((all) => all.some((p) => p.id === leaving.id))).to.equal(false);
    expect((await service.audit(leaving.id))[0]).to.deep.include({ action: 'delete', after: { movedContacts: 2, movedTo: 'Target' } });

    const toDefault = await service.delete(target.id, { moveTo: null, expectedVersion: target.version }, actor);
    expect(toDefault.movedTo.id).to.equal(defaultProfile.id);
    expect(await count(api, 'bp_portal_accounts', 'profile_id = :id', { id: defaultProfile.id })).to.be.at.least(2);

    const refused = await refusal(service.delete(defaultProfile.id, { moveTo: null, expectedVersion: defaultProfile.version }, actor));
    expect(refused.code).to.equal('default_undeletable');
    expect(await service.get(defaultProfile.id)).to.include({ name: 'Default' });
  });

  it('changes nothing when a save fails half-way (one transaction: no rules, no version, no audit row)', async () => {
    const db = api.database;
    const failing = new Service(db, new SequelizeProfileStore(db), new FailingSectionsStore(db), new ProfileAudit(db), new RegistryModuleEligibility(api.modules), api.modules, api.licences, api.users, api.emailTemplates);
    const profile = await fresh('Half-way');
    const auditBefore = await count(api, 'bp_profile_audit', 'profile_id = :id', { id: profile.id });
    const rule = { name: 'R', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [], effects: [], allReadOnly: true };
    let error: unknown;
    try {
      await failing.saveSection(profile.id, 'rules', [rule], profile.version, actor);
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.include('disk full');
    expect(await count(api, 'bp_profile_rules', 'profile_id = :id', { id: profile.id })).to.equal(0);
    expect((await service.get(profile.id)).version).to.equal(profile.version);
    expect(await count(api, 'bp_profile_audit', 'profile_id = :id', { id: profile.id })).to.equal(auditBefore);
  });
});
