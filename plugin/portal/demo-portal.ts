/**
 * The demo's portal (only the reference host's demo calls this; real installs never do): the
 * demo customers' accounts, and a Default profile a visitor can try at once — tickets (open,
 * edit, comment, attach, search, export) for the whole company, the company's invoices, quotes
 * and documents, the FAQ, a ticket rule, and quick-action buttons (without the Business Portal
 * licence, only the base modules and their buttons). The profile is configured only while it is
 * still untouched (no module shown, no button), so an admin's changes survive every later start.
 */
import { inject, injectable } from 'inversify';
import { HostUsers } from '../host-contract/index.js';
import { DemoAccountSeeder } from '../auth/demo-accounts.js';
import { BASE_PORTAL_MODULES } from '../eligibility/module-eligibility.js';
import type { DemoSeeder } from '../lifecycle/plugin-lifecycle.js';
import type { HomeButton, ModuleTool, ProfileActor, RecordScope } from '../profiles/profile-document.js';
import type { ModulePrivilegesInput } from '../profiles/profile-schemas.js';
import { ProfileService } from '../profiles/profile-service.js';
import { ProfileStore } from '../profiles/profile-store.js';

const DEMO_ACTOR: ProfileActor = { userId: 0, userName: 'demo' };

interface DemoModule {
  readonly view?: boolean;
  readonly create?: boolean;
  readonly edit?: boolean;
  readonly scope?: RecordScope;
  readonly tools?: readonly ModuleTool[];
  readonly columns?: readonly string[];
  readonly readOnly?: readonly string[];
  readonly hidden?: readonly string[];
}

const DEMO_MODULES: Readonly<Record<string, DemoModule>> = {
  HelpDesk: {
    create: true,
    edit: true,
    scope: 'account',
    tools: ['comments', 'documents', 'search', 'export'],
    columns: ['ticket_no', 'ticket_title', 'status', 'priority', 'contact_id'],
    readOnly: ['ticket_no', 'status', 'solution'],
  },
  Invoice: { scope: 'account-and-subsidiaries', tools: ['search', 'export', 'documents'], columns: ['invoice_no', 'subject', 'invoicedate', 'status', 'total'] },
  Quotes: { scope: 'account', tools: ['search', 'documents'], columns: ['quote_no', 'subject', 'stage', 'validtill', 'total'] },
  Documents: { scope: 'account', tools: ['search'], columns: ['title', 'filename', 'folder'], hidden: ['storage_key'] },
  Faq: { tools: ['search'], columns: ['question', 'category'] },
  Accounts: { scope: 'account-and-subsidiaries', columns: ['accountname', 'city', 'country', 'status'] },
  Contacts: { scope: 'contact', edit: true, columns: ['firstname', 'lastname', 'email', 'phone'], readOnly: ['email', 'account_id', 'language'] },
};

const DEMO_BUTTONS: readonly HomeButton[] = [
  { title: 'New ticket', description: 'Ask our support team for help', colour: 'primary', icon: 'plus', action: 'create', module: 'HelpDesk', translations: { it: { title: 'Nuovo ticket', description: 'Chiedi aiuto al nostro supporto' } } },
  { title: 'My tickets', description: 'Follow your requests', colour: 'info', icon: 'ticket', action: 'list', module: 'HelpDesk', translations: { it: { title: 'I miei ticket', description: 'Segui le tue richieste' } } },
  { title: 'Invoices', description: 'Your company’s invoices', colour: 'success', icon: 'invoice', action: 'list', module: 'Invoice', translations: { it: { title: 'Fatture', description: 'Le fatture della tua azienda' } } },
  { title: 'Knowledge base', description: 'Answers to common questions', colour: 'secondary', icon: 'question', action: 'list', module: 'Faq', translations: { it: { title: 'Base di conoscenza', description: 'Risposte alle domande frequenti' } } },
];

@injectable()
export class DemoPortalSeeder implements DemoSeeder {
  constructor(
    @inject(DemoAccountSeeder) private readonly accounts: DemoAccountSeeder,
    @inject(ProfileService) private readonly profiles: ProfileService,
    @inject(ProfileStore) private readonly store: ProfileStore,
    @inject(HostUsers) private readonly users: HostUsers,
  ) {}

  async seed(customers: readonly { readonly contactId: number; readonly password: string }[]): Promise<void> {
    await this.configureDefaultProfile();
    await this.accounts.seed(customers);
  }

  private async configureDefaultProfile(): Promise<void> {
    const { id } = await this.store.defaultProfile();
    let document = await this.profiles.document(id);
    if (document.buttons.length > 0 || document.modules.some((m) => m.shown)) return;
    // Without the Business Portal licence only the base modules may be enabled (SPEC §2.3).
    const licensed = await this.profiles.licensed();
    const allowed = (module: string) => licensed || BASE_PORTAL_MODULES.includes(module);
    const modules: ModulePrivilegesInput[] = document.modules.map((entry) => {
      const demo = DEMO_MODULES[entry.module];
      if (!demo || !allowed(entry.module)) return { ...entry };
      const fields = { ...entry.fields };
      for (const name of demo.readOnly ?? []) if (name in fields) fields[name] = 'readonly';
      for (const name of demo.hidden ?? []) if (name in fields) fields[name] = 'hidden';
      return {
        ...entry,
        shown: true,
        view: demo.view ?? true,
        create: demo.create ?? false,
        edit: demo.edit ?? false,
        delete: false,
        scope: demo.scope ?? 'contact',
        fields,
        listColumns: (demo.columns ?? []).filter((c) => c in fields && fields[c] !== 'hidden'),
        tools: { comments: false, documents: false, search: false, export: false, ...Object.fromEntries((demo.tools ?? []).map((t) => [t, true])) },
      };
    });
    document = (await this.profiles.saveSection(id, 'modules', modules, document.profile.version, DEMO_ACTOR)).document;
    const buttons = DEMO_BUTTONS.filter((button) => allowed(button.module));
    document = (await this.profiles.saveSection(id, 'buttons', buttons, document.profile.version, DEMO_ACTOR)).document;
    const rule = {
      name: 'Closed tickets are read-only',
      module: 'HelpDesk',
      origin: { kind: 'portal' },
      conditions: [{ field: 'status', op: 'eq', value: 'Closed' }],
      effects: [],
      allReadOnly: true,
    };
    document = (await this.profiles.saveSection(id, 'rules', [rule], document.profile.version, DEMO_ACTOR)).document;
    const users = await this.users.users();
    const owner = users.find((user) => user.active && !user.isAdmin) ?? users.find((user) => user.active);
    if (owner) {
      await this.profiles.saveSection(id, 'general', { ...document.general, owner: { kind: 'user', id: owner.id } }, document.profile.version, DEMO_ACTOR);
    }
  }
}
