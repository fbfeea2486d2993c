/**
 * The authorization model as a property: a random but valid profile (module flags, scopes, field
 * access, tools, global privileges, conditional rules, home buttons) is saved through the profile
 * service, a customer signs in, and every route that reads or writes — the JSON API and the pages —
 * is driven. A small oracle computes from the configuration alone (and the fixture's own facts:
 * who each record belongs to) what the customer may see and do, and the answers are held to it:
 * no record outside the scope (by id, total or planted marker), no hidden field's planted value in
 * any body or header, a denied write refused with the database unchanged, an allowed one done.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ConditionalRule, FieldAccess, HomeButton, ModulePrivileges, RecordScope } from '../../plugin/profiles/profile-document.js';
import type { TestHost } from '../support/host.js';
import { API, JANE, MARIO, TOM, GIULIA, defaultProfile, idsWhere, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

/** The modules the model covers, and per module the fields whose access it varies (markers are planted in the text ones). */
const MODELLED: Readonly<Record<string, { readonly varied: readonly string[]; readonly marked: readonly string[] }>> = {
  HelpDesk: { varied: ['ticket_title', 'description', 'solution', 'severity', 'priority'], marked: ['ticket_title', 'description', 'solution'] },
  Invoice: { varied: ['subject', 'status'], marked: ['subject'] },
  Contacts: { varied: ['lastname', 'title', 'description', 'mailingcity'], marked: ['lastname', 'title', 'description', 'mailingcity'] },
  Accounts: { varied: ['accountname', 'industry', 'description', 'city'], marked: ['accountname', 'industry', 'description', 'city'] },
};
const MODULES = Object.keys(MODELLED);
const CUSTOMERS = [JANE, GIULIA, MARIO];
const SCOPES: readonly RecordScope[] = ['contact', 'account', 'account-and-subsidiaries'];

interface ModuleChoice {
  readonly shown: boolean;
  readonly view: boolean;
  readonly create: boolean;
  readonly edit: boolean;
  readonly delete: boolean;
  readonly scope: RecordScope;
  readonly fields: Readonly<Record<string, FieldAccess>>;
  readonly tools: { readonly comments: boolean; readonly documents: boolean; readonly search: boolean; readonly export: boolean };
}

interface Configuration {
  readonly modules: Readonly<Record<string, ModuleChoice>>;
  readonly globals: { readonly viewAll: boolean; readonly editAll: boolean };
  /** HelpDesk rules: priority High hides the description; status Closed makes the record read-only. */
  readonly highHidesDescription: boolean;
  readonly closedReadOnly: boolean;
  readonly buttons: readonly { readonly action: 'list' | 'create'; readonly module: string }[];
  /** The access of the Documents fields a file shows beside its record (title, file name). */
  readonly documentFields: Readonly<Record<'title' | 'filename', FieldAccess>>;
  /** HelpDesk rule: status "Wait For Response" makes the severity read-only and the solution mandatory. */
  readonly waitingFreezesSeverity: boolean;
  /** Who signs in: Jane (Acme Ltd, the parent), Giulia (Acme Italia, its subsidiary), Mario (Rossi SpA, unrelated). */
  readonly customer: string;
}

/** Flags lean to yes, so that allowed writes are tried as often as refused ones. */
const flag = fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const moduleChoice = (module: string): fc.Arbitrary<ModuleChoice> =>
  fc.record({
    shown: flag,
    view: flag,
    create: flag,
    edit: flag,
    delete: flag,
    scope: fc.constantFrom(...SCOPES),
    fields: fc.record(Object.fromEntries(MODELLED[module]!.varied.map((field) => [field, fc.constantFrom<FieldAccess>('readwrite', 'hidden', 'readonly', 'readwrite')]))) as fc.Arbitrary<Record<string, FieldAccess>>,
    tools: fc.record({ comments: flag, documents: flag, search: flag, export: flag }),
  });

const configuration: fc.Arbitrary<Configuration> = fc.record({
  modules: fc.record(Object.fromEntries(MODULES.map((module) => [module, moduleChoice(module)]))) as fc.Arbitrary<Record<string, ModuleChoice>>,
  globals: fc.oneof({ weight: 3, arbitrary: fc.constant({ viewAll: false, editAll: false }) }, { weight: 1, arbitrary: fc.record({ viewAll: fc.boolean(), editAll: fc.boolean() }) }),
  highHidesDescription: fc.boolean(),
  closedReadOnly: fc.boolean(),
  customer: fc.constantFrom(JANE, JANE, GIULIA, MARIO),
  documentFields: fc.record({ title: fc.constantFrom<FieldAccess>('readwrite', 'hidden', 'readonly'), filename: fc.constantFrom<FieldAccess>('readwrite', 'hidden', 'readonly') }),
  waitingFreezesSeverity: fc.boolean(),
  buttons: fc.array(fc.record({ action: fc.constantFrom<'list' | 'create'>('list', 'create'), module: fc.constantFrom('HelpDesk', 'Invoice') }), { maxLength: 2 }),
});

// ───────────────────────────────────────── the oracle ─────────────────────────────────────────

interface Facts {
  /** The signed-in customer's contact and account. */
  readonly me: number;
  readonly account: number;
  /** Their account and every account below it. */
  readonly tree: readonly number[];
  /** Every record of each modelled module with its owner facts (straight from the host). */
  readonly records: Readonly<Record<string, readonly { readonly id: number; readonly values: Readonly<Record<string, unknown>> }[]>>;
}

interface Oracle {
  shown(module: string): boolean;
  viewable(module: string): boolean;
  creatable(module: string): boolean;
  editable(module: string): boolean;
  deletable(module: string): boolean;
  inScope(module: string, id: number): boolean;
  scopeIds(module: string): number[];
  /** Whether a field's value of a record is hidden from the customer (profile or rule). */
  hidden(module: string, field: string, values: Readonly<Record<string, unknown>>): boolean;
  writable(module: string, field: string, values: Readonly<Record<string, unknown>>): boolean;
  tool(module: string, tool: keyof ModuleChoice['tools']): boolean;
  /** Whether some rule hides the field on some records (a sort by it would tell their order). */
  ruleMayHide(module: string, field: string): boolean;
  /** A home button opens a module the customer may view (and, to create, create in). */
  button(action: string, module: string): boolean;
}

function oracleOf(config: Configuration, facts: Facts): Oracle {
  const choice = (module: string) => config.modules[module]!;
  const shown = (module: string) => choice(module).shown || config.globals.viewAll || config.globals.editAll;
  const viewable = (module: string) => shown(module) && (choice(module).view || config.globals.viewAll);
  const accounts = (scope: RecordScope) => (scope === 'account-and-subsidiaries' ? facts.tree : [facts.account]);
  const inScope = (module: string, values: Readonly<Record<string, unknown>>, id: number) => {
    const scope = choice(module).scope;
    if (module === 'Accounts') return accounts(scope === 'contact' ? 'account' : scope).includes(id);
    if (module === 'Contacts' && id === facts.me) return true;
    if (values.contact_id === facts.me) return true;
    return scope !== 'contact' && accounts(scope).includes(values.account_id as number);
  };
  const allReadOnly = (module: string, values: Readonly<Record<string, unknown>>) => module === 'HelpDesk' && config.closedReadOnly && values.status === 'Closed';
  const ruleReadOnly = (module: string, field: string, values: Readonly<Record<string, unknown>>) =>
    module === 'HelpDesk' && field === 'severity' && config.waitingFreezesSeverity && values.status === 'Wait For Response';
  const ruleHidden = (module: string, field: string, values: Readonly<Record<string, unknown>>) =>
    module === 'HelpDesk' && field === 'description' && config.highHidesDescription && values.priority === 'High';
  const access = (module: string, field: string): FieldAccess => choice(module).fields[field] ?? 'readwrite';
  const recordOf = (module: string, id: number) => facts.records[module]!.find((r) => r.id === id);
  const creatable = (module: string) => shown(module) && module !== 'Accounts' && (choice(module).create || config.globals.editAll);
  return {
    shown,
    viewable,
    ruleMayHide: (module, field) => module === 'HelpDesk' && field === 'description' && config.highHidesDescription,
    button: (action, module) => viewable(module) && (action === 'list' || creatable(module)),
    creatable,
    editable: (module) => viewable(module) && (choice(module).edit || config.globals.editAll),
    deletable: (module) => viewable(module) && choice(module).delete,
    inScope: (module, id) => {
      const record = recordOf(module, id);
      return record !== undefined && viewable(module) && inScope(module, record.values, id);
    },
    scopeIds: (module) => (viewable(module) ? facts.records[module]!.filter((r) => inScope(module, r.values, r.id)).map((r) => r.id) : []),
    hidden: (module, field, values) => access(module, field) === 'hidden' || ruleHidden(module, field, values),
    writable: (module, field, values) => access(module, field) === 'readwrite' && !ruleHidden(module, field, values) && !ruleReadOnly(module, field, values) && !allReadOnly(module, values),
    tool: (module, tool) => viewable(module) && choice(module).tools[tool] && (tool !== 'documents' || module === 'HelpDesk' || module === 'Invoice' || module === 'Contacts' || module === 'Accounts'),
  };
}

// ───────────────────────────────────────── the test ─────────────────────────────────────────

const marker = (module: string, id: number, field: string) => `amk-${module.toLowerCase()}-${id}-${field}-z`;

describe('portal: the authorization model holds for random profiles on every route @db', function () {
  this.timeout(300_000);
  let t: TestHost;
  let api: HostApi;
  const customers: Record<string, ApiClient> = {};
  let facts: Facts;
  /** The fixture's records whose values carry markers: module → ids. */
  const planted: Record<string, number[]> = { HelpDesk: [], Invoice: [], Contacts: [], Accounts: [] };
  /** A file on each planted ticket and invoice: its title, name and bytes are markers. */
  const files: { module: string; recordId: number; documentId: number }[] = [];
  /** Who has commented on each planted ticket from the portal (their name signs the comment). */
  const commenters = new Map<number, Set<number>>();
  const noteComment = (ticket: number, contact: number) => commenters.set(ticket, new Set([...(commenters.get(ticket) ?? []), contact]));

  const readFacts = async (email: string): Promise<Facts> => {
    const records: Record<string, { id: number; values: Record<string, unknown> }[]> = {};
    for (const module of MODULES) {
      const fields = module === 'Accounts' ? ['parent_id'] : ['contact_id', 'account_id', 'status', 'priority'].filter((f) => api.modules.module(module)!.fields.some((d) => d.name === f));
      if (module === 'Contacts') fields.splice(0, fields.length, 'account_id');
      const page = await api.records.query(module, { fields, limit: 10_000 });
      records[module] = page.rows.map((r) => ({ id: r.id, values: { ...r.values } }));
    }
    const me = (await idsWhere(api, 'Contacts', 'email', email))[0]!;
    const account = records.Contacts!.find((c) => c.id === me)!.values.account_id as number;
    const tree = new Set([account]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const account of records.Accounts!) {
        if (!tree.has(account.id) && tree.has(account.values.parent_id as number)) {
          tree.add(account.id);
          grew = true;
        }
      }
    }
    return { me, account, tree: [...tree], records };
  };

  before(async () => {
    t = await startApiHost();
    api = t.host.api;
    const contact = async (email: string) => (await idsWhere(api, 'Contacts', 'email', email))[0]!;
    const account = async (name: string) => (await idsWhere(api, 'Accounts', 'accountname', name))[0]!;
    const people = { jane: await contact(JANE), tom: await contact(TOM), giulia: await contact(GIULIA), mario: await contact(MARIO) };
    const firms = { acme: await account('Acme Ltd'), italia: await account('Acme Italia Srl'), rossi: await account('Rossi SpA') };
    expect((await api.records.get('Accounts', firms.italia))!.values.parent_id).to.equal(firms.acme);
    const owners: [number | null, number][] = [
      [people.jane, firms.acme],
      [people.jane, firms.acme],
      [people.jane, firms.acme],
      [people.tom, firms.acme],
      [people.giulia, firms.italia],
      [people.mario, firms.rossi],
      [null, firms.acme],
      [null, firms.italia],
      [people.jane, firms.rossi],
    ];
    for (const [index, [contactId, accountId]] of owners.entries()) {
      const ticket = await api.records.create('HelpDesk', {
        values: { ticket_title: 'pending', status: index === 2 ? 'Closed' : index === 0 ? 'Wait For Response' : 'Open', priority: index % 3 === 1 ? 'High' : 'Normal', contact_id: contactId, account_id: accountId },
      });
      await api.records.update('HelpDesk', ticket.id, { values: Object.fromEntries(MODELLED.HelpDesk!.marked.map((f) => [f, marker('HelpDesk', ticket.id, f)])) });
      planted.HelpDesk!.push(ticket.id);
      const invoice = await api.records.create('Invoice', { values: { subject: 'pending', contact_id: contactId, account_id: accountId, status: 'Created' } });
      await api.records.update('Invoice', invoice.id, { values: { subject: marker('Invoice', invoice.id, 'subject') } });
      planted.Invoice!.push(invoice.id);
      for (const [module, id] of [['HelpDesk', ticket.id], ['Invoice', invoice.id]] as const) {
        const file = await api.records.attachDocument(module, id, { title: marker(module, id, 'file'), fileName: `${marker(module, id, 'filename')}.txt`, mimeType: 'text/plain', content: Buffer.from(marker(module, id, 'content')) });
        files.push({ module, recordId: id, documentId: file.documentId });
      }
    }
    for (const id of Object.values(people)) {
      await api.records.update('Contacts', id, { values: Object.fromEntries(MODELLED.Contacts!.marked.map((f) => [f, marker('Contacts', id, f)])) });
      planted.Contacts!.push(id);
    }
    for (const id of Object.values(firms)) {
      await api.records.update('Accounts', id, { values: Object.fromEntries(MODELLED.Accounts!.marked.map((f) => [f, marker('Accounts', id, f)])) });
      planted.Accounts!.push(id);
    }
    for (const email of CUSTOMERS) {
      customers[email] = await signedIn(t, email);
      expect((await customers[email]!.get('/me')).body.contact.profile).to.include({ name: 'Default' });
    }
  });
  after(async () => t?.stop());

  /** Saves the configuration on the Default profile (Jane's) through the profile service. */
  async function apply(config: Configuration): Promise<void> {
    const profile = await defaultProfile(api);
    await profile.save('buttons', []);
    await profile.save('rules', []);
    const modules: ModulePrivileges[] = profile.document.modules.map((entry) => {
      const allReadWrite = Object.fromEntries(Object.keys(entry.fields).map((f) => [f, 'readwrite' as FieldAccess]));
      const chosen = config.modules[entry.module];
      if (entry.module === 'Documents') return { ...entry, shown: false, view: false, create: false, edit: false, delete: false, fields: { ...allReadWrite, ...config.documentFields } };
      if (!chosen) return { ...entry, shown: false, view: false, create: false, edit: false, delete: false, fields: allReadWrite };
      return {
        ...entry,
        shown: chosen.shown,
        view: chosen.view,
        create: entry.module === 'Accounts' ? false : chosen.create,
        edit: chosen.edit,
        delete: chosen.delete,
        scope: chosen.scope,
        fields: { ...allReadWrite, ...chosen.fields },
        listColumns: entry.module === 'HelpDesk' ? ['ticket_title', 'status', 'description'] : entry.listColumns,
        tools: { ...chosen.tools },
      };
    });
    await profile.save('modules', modules);
    await profile.save('globals' as 'general', config.globals);
    const rules: ConditionalRule[] = [];
    if (config.highHidesDescription) rules.push({ name: 'High hides description', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'priority', op: 'eq', value: 'High' }], effects: [{ field: 'description', effect: 'hidden' }], allReadOnly: false });
    if (config.closedReadOnly) rules.push({ name: 'Closed is read-only', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }], effects: [], allReadOnly: true });
    if (config.waitingFreezesSeverity) rules.push({ name: 'Waiting freezes severity', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Wait For Response' }], effects: [{ field: 'severity', effect: 'readonly' }, { field: 'solution', effect: 'mandatory' }], allReadOnly: false });
    await (await defaultProfile(api)).save('rules', rules);
    const oracle = oracleOf(config, facts);
    // Buttons to modules the profile does not show (or cannot create in) are refused by the save; only the rest are kept.
    const buttons: HomeButton[] = config.buttons
      .filter((b) => oracle.button(b.action, b.module))
      .map((b) => ({ title: `Go ${b.module}`, description: '', colour: 'primary', icon: 'ticket', action: b.action, module: b.module }));
    await (await defaultProfile(api)).save('buttons', buttons);
  }

  // Found by the property below: the customer's own company named their tickets' "Organization"
  // where Accounts is not theirs to view, even with its name hidden by the profile.
  it('never names a reference by a label field the profile hides, Accounts on the menu without view or not on it at all', async () => {
    const client = customers[JANE]!;
    const janeFacts = await readFacts(JANE);
    const name = marker('Accounts', janeFacts.account, 'accountname');
    const ticket = planted.HelpDesk![0]!;
    const base = MODULES.map((module) => [module, { shown: false, view: false, create: false, edit: false, delete: false, scope: 'contact', fields: {}, tools: { comments: false, documents: false, search: false, export: false } }] as const);
    const none = { highHidesDescription: false, closedReadOnly: false, waitingFreezesSeverity: false, buttons: [], customer: JANE, globals: { viewAll: false, editAll: false }, documentFields: { title: 'readwrite', filename: 'readwrite' } } as const;
    for (const accountsShown of [true, false]) {
      await apply({
        ...none,
        modules: {
          ...Object.fromEntries(base),
          HelpDesk: { ...Object.fromEntries(base).HelpDesk!, shown: true, view: true },
          Accounts: { ...Object.fromEntries(base).Accounts!, shown: accountsShown, fields: { accountname: 'hidden' } },
        } as Configuration['modules'],
      });
      for (const path of [`/modules/HelpDesk/records/${ticket}`, '/modules/HelpDesk/records?pageSize=100']) {
        const answer = await client.get(path);
        expect(answer.status, path).to.equal(200);
        expect(answer.text, `${path}, Accounts shown ${accountsShown}`).to.not.include(name);
      }
      const shown = await fetch(`${t.url}/portal/m/HelpDesk/${ticket}`, { headers: { cookie: client.cookie } });
      expect(await shown.text(), `the ticket's page, Accounts shown ${accountsShown}`).to.not.include(name);
      // Not hidden: the own company still names the reference (README: version 1's tickets name it, not linked).
      await apply({
        ...none,
        modules: {
          ...Object.fromEntries(base),
          HelpDesk: { ...Object.fromEntries(base).HelpDesk!, shown: true, view: true },
          Accounts: { ...Object.fromEntries(base).Accounts!, shown: accountsShown },
        } as Configuration['modules'],
      });
      expect((await client.get(`/modules/HelpDesk/records/${ticket}`)).body.references.account_id).to.deep.include({ id: janeFacts.account, label: name });
    }
  });

  it('for any profile: scope, hidden fields and writes as the oracle says (API and pages)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(configuration, async (config) => {
        run += 1;
        const jane = customers[config.customer]!;
        facts = await readFacts(config.customer);
        await apply(config);
        const oracle = oracleOf(config, facts);
        const seen: { where: string; text: string }[] = [];
        const problems: string[] = [];
        const record = (where: string, status: number, headers: Headers, text: string) => {
          seen.push({ where: `${where} (${status})`, text: `${[...headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}` });
          if (status >= 500) problems.push(`${where}: HTTP ${status}`);
        };
        const get = async (path: string) => {
          const answer = await jane.get(path);
          record(`GET ${API}${path}`, answer.status, answer.headers, answer.text);
          // Every list answer, whatever its search, filter or sort: rows and total within the scope.
          const listed = /^\/modules\/(\w+)\/records\?/.exec(path);
          if (listed && answer.status === 200) {
            const scope = oracle.scopeIds(listed[1]!);
            if (answer.body.total > scope.length) problems.push(`${path}: total ${answer.body.total} past the scope's ${scope.length}`);
            for (const row of answer.body.rows) if (!scope.includes(row.id)) problems.push(`${path}: row ${row.id} outside the scope`);
          }
          return answer;
        };
        const send = async (method: string, path: string, body?: unknown) => {
          const answer = await jane.send(method, path, body);
          record(`${method} ${API}${path}`, answer.status, answer.headers, answer.text);
          return answer;
        };
        // The pages' form token goes with a pre-session cookie (`bp_csrf`) that the first page sets.
        let pageCookie = jane.cookie;
        const page = async (path: string) => {
          const res = await fetch(`${t.url}/portal${path}`, { headers: { cookie: pageCookie }, redirect: 'manual' });
          const preSession = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('bp_csrf='));
          if (preSession && !pageCookie.includes('bp_csrf=')) pageCookie = `${jane.cookie}; ${preSession}`;
          const text = await res.text();
          record(`GET /portal${path}`, res.status, res.headers, text);
          return { status: res.status, text };
        };

        // ── reads ──
        const modules = await get('/modules');
        expect(modules.status).to.equal(200);
        await get('/me');
        await page('/');
        for (const m of MODULES) {
          const listed = modules.body.modules.find((x: { name: string }) => x.name === m);
          if (Boolean(listed) !== oracle.shown(m)) problems.push(`${m}: in the menu ${Boolean(listed)}, oracle ${oracle.shown(m)}`);
          if (listed && listed.actions.view !== oracle.viewable(m)) problems.push(`${m}: view ${listed.actions.view}, oracle ${oracle.viewable(m)}`);
        }
        for (const button of modules.body.buttons as { module: string; action: string }[]) {
          if (!oracle.button(button.action, button.module)) problems.push(`button ${button.action} ${button.module} offered`);
        }

        for (const m of MODULES) {
          const expected = oracle.scopeIds(m).sort((a, b) => a - b);
          const list = await get(`/modules/${m}/records?pageSize=100`);
          if (oracle.viewable(m)) {
            if (list.status !== 200) problems.push(`${m} list: HTTP ${list.status}`);
            else {
              if (list.body.total !== expected.length) problems.push(`${m} list: total ${list.body.total}, oracle ${expected.length}`);
              for (const row of list.body.rows) if (!expected.includes(row.id)) problems.push(`${m} list: row ${row.id} outside the scope`);
            }
          } else if (list.status === 200) problems.push(`${m} list: HTTP 200 without view`);
          await get(`/modules/${m}/fields`);
          await page(`/m/${m}`);
          await page(`/m/${m}/new`);
          await get(`/modules/${m}/export.csv`);
          await page(`/m/${m}/export.csv`);
          // Search, filter and sort on every varied field, with a planted value as the text: a hidden one refused or finding nothing.
          // A filter on a reference to a record outside the scope finds nothing outside it either.
          for (const [field, target] of [['account_id', facts.records.Accounts!.find((a) => !facts.tree.includes(a.id))!.id], ['contact_id', planted.Contacts!.find((c) => c !== facts.me)!]] as const) {
            if (m === 'HelpDesk' || m === 'Invoice' || (m === 'Contacts' && field === 'account_id')) await get(`/modules/${m}/records?filter[${field}]=${target}&pageSize=100`);
          }
          for (const field of MODELLED[m]!.varied) {
            const sorted = await get(`/modules/${m}/records?sort=${field}&pageSize=100`);
            if (sorted.status === 200 && (oracle.hidden(m, field, {}) || oracle.ruleMayHide(m, field))) problems.push(`${m}: sort by hidden ${field} answered 200`);
            await page(`/m/${m}?sort=${field}`);
            for (const id of planted[m]!) {
              if (!MODELLED[m]!.marked.includes(field)) continue;
              const value = marker(m, id, field);
              const values = facts.records[m]!.find((r) => r.id === id)!.values;
              const secret = !oracle.inScope(m, id) || oracle.hidden(m, field, values);
              for (const query of [`search=${value}`, `filter[${field}]=${value}`]) {
                const found = await get(`/modules/${m}/records?${query}`);
                if (secret && found.status === 200 && found.body.total > 0) problems.push(`${m}: ${query} found ${found.body.total}`);
              }
              if (secret) {
                const found = await page(`/m/${m}?q=${value}`);
                if (found.status === 200 && found.text.includes(`/m/${m}/${id}"`)) problems.push(`${m}: page search ${value} links record ${id}`);
              }
            }
          }
          for (const id of planted[m]!) {
            const reachable = oracle.inScope(m, id);
            const one = await get(`/modules/${m}/records/${id}`);
            if (reachable !== (one.status === 200)) problems.push(`${m} ${id}: HTTP ${one.status}, oracle in scope ${reachable}`);
            const shownPage = await page(`/m/${m}/${id}`);
            if (reachable !== (shownPage.status === 200)) problems.push(`page ${m} ${id}: HTTP ${shownPage.status}, oracle in scope ${reachable}`);
            await page(`/m/${m}/${id}/edit`);
            await page(`/m/${m}/${id}/delete`);
            if (m === 'HelpDesk' || m === 'Invoice') {
              const comments = await get(`/modules/${m}/records/${id}/comments`);
              if (comments.status === 200 && !(reachable && oracle.tool(m, 'comments'))) problems.push(`${m} ${id}: comments answered`);
              const files = await get(`/modules/${m}/records/${id}/documents`);
              if (files.status === 200 && !(reachable && oracle.tool(m, 'documents'))) problems.push(`${m} ${id}: documents answered`);
            }
          }
        }

        for (const file of files) {
          const allowed = oracle.inScope(file.module, file.recordId) && oracle.tool(file.module, 'documents');
          const download = await get(`/documents/${file.documentId}/content`);
          if (allowed !== (download.status === 200)) problems.push(`download ${file.documentId} of ${file.module} ${file.recordId}: HTTP ${download.status}, oracle ${allowed}`);
          await page(`/m/${file.module}/${file.recordId}/documents/${file.documentId}`);
        }

        // ── writes ──
        const home = await page('/');
        const csrf = /name="_csrf" value="([^"]+)"/.exec(home.text)?.[1] ?? '';
        expect(csrf, 'a form token on the home page').to.not.equal('');
        const post = async (path: string, fields: Record<string, string>) => {
          const res = await fetch(`${t.url}/portal${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: pageCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...fields }) });
          const text = await res.text();
          record(`POST /portal${path}`, res.status, res.headers, text);
          return { status: res.status, location: res.headers.get('location') ?? '', text };
        };
        const [janes, , closed, , giulias, marios] = planted.HelpDesk!;
        for (const id of [janes!, closed!, giulias!, marios!]) {
          const before = (await api.records.get('HelpDesk', id))!;
          const severity = before.values.severity === 'Major' ? 'Minor' : 'Major';
          const allowed = oracle.inScope('HelpDesk', id) && oracle.editable('HelpDesk') && oracle.writable('HelpDesk', 'severity', before.values);
          const patched = await send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { severity } });
          const after = (await api.records.get('HelpDesk', id))!;
          if (allowed && (patched.status !== 200 || after.values.severity !== severity)) problems.push(`PATCH severity of ${id}: HTTP ${patched.status}, expected allowed`);
          if (!allowed && (patched.status < 400 || after.values.severity !== before.values.severity)) problems.push(`PATCH severity of ${id}: HTTP ${patched.status}, expected refused`);
          // A hidden or read-only field's value is never written.
          const solution = `amk-written-${run}`;
          const solved = await send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { solution } });
          const stored = (await api.records.get('HelpDesk', id))!.values.solution;
          const solutionAllowed = oracle.inScope('HelpDesk', id) && oracle.editable('HelpDesk') && oracle.writable('HelpDesk', 'solution', before.values);
          if (solutionAllowed !== (stored === solution)) problems.push(`PATCH solution of ${id}: HTTP ${solved.status}, stored ${stored === solution}, oracle ${solutionAllowed}`);
          if (stored === solution) await api.records.update('HelpDesk', id, { values: { solution: marker('HelpDesk', id, 'solution') } });

          // The same change through the record's edit form: every field it shows with its value, the severity changed.
          const current = (await api.records.get('HelpDesk', id))!;
          const shown = await jane.get(`/modules/HelpDesk/records/${id}`);
          const form: Record<string, string> = { version: String(current.version) };
          for (const field of (shown.status === 200 ? shown.body.fields : []) as { name: string; access: string }[]) {
            const value = shown.body.values[field.name];
            if (field.access === 'readwrite' && value !== null && value !== undefined) form[field.name] = String(value);
          }
          const pageSeverity = current.values.severity === 'Major' ? 'Minor' : 'Major';
          const edited = await post(`/m/HelpDesk/${id}/edit`, { ...form, severity: pageSeverity });
          const afterPage = (await api.records.get('HelpDesk', id))!;
          const pageAllowed = oracle.inScope('HelpDesk', id) && oracle.editable('HelpDesk') && oracle.writable('HelpDesk', 'severity', current.values);
          if (pageAllowed !== (afterPage.values.severity === pageSeverity)) problems.push(`page edit severity of ${id}: HTTP ${edited.status}, oracle ${pageAllowed}`);
          if (!pageAllowed && edited.status !== 303 && edited.status < 400) problems.push(`page edit of ${id}: HTTP ${edited.status} refused without a refusal`);
          for (const field of MODELLED.HelpDesk!.marked) {
            if (afterPage.values[field] !== current.values[field]) problems.push(`page edit of ${id} changed ${field}`);
          }

          const comments = await api.records.commentCount('HelpDesk', id, { includeInternal: true });
          const commented = await send('POST', `/modules/HelpDesk/records/${id}/comments`, { body: `A comment of run ${run}` });
          const commentAllowed = oracle.inScope('HelpDesk', id) && oracle.tool('HelpDesk', 'comments');
          const commentsAfter = await api.records.commentCount('HelpDesk', id, { includeInternal: true });
          if (commentAllowed !== (commentsAfter === comments + 1) || commentAllowed !== (commented.status === 201)) problems.push(`comment on ${id}: HTTP ${commented.status}, oracle ${commentAllowed}`);
          if (commentsAfter > comments) noteComment(id, facts.me);

          const pageComments = await api.records.commentCount('HelpDesk', id, { includeInternal: true });
          const pageCommented = await post(`/m/HelpDesk/${id}/comments`, { body: `A page comment of run ${run}` });
          if (commentAllowed !== ((await api.records.commentCount('HelpDesk', id, { includeInternal: true })) === pageComments + 1)) problems.push(`page comment on ${id}: HTTP ${pageCommented.status}, oracle ${commentAllowed}`);
          if (commentAllowed) noteComment(id, facts.me);

          // "OK, resolved" (API, then the page's button): closes a ticket the customer may edit and whose status no rule freezes.
          for (const how of ['api', 'page'] as const) {
            const open = (await api.records.get('HelpDesk', id))!;
            const resolveAllowed = oracle.inScope('HelpDesk', id) && oracle.editable('HelpDesk') && open.values.status !== 'Closed' && oracle.writable('HelpDesk', 'status', open.values);
            const resolved = how === 'api' ? await send('POST', `/tickets/${id}/resolve`, {}) : await post(`/m/HelpDesk/${id}/resolve`, {});
            const closedNow = (await api.records.get('HelpDesk', id))!.values.status === 'Closed';
            if (open.values.status !== 'Closed' && resolveAllowed !== closedNow) problems.push(`resolve (${how}) ${id}: HTTP ${resolved.status}, oracle ${resolveAllowed}`);
            if (closedNow && open.values.status !== 'Closed') await api.records.update('HelpDesk', id, { values: { status: open.values.status } });
          }

          const files = (await api.records.documents('HelpDesk', id)).length;
          const uploaded = await jane.upload(`/modules/HelpDesk/records/${id}/documents`, { name: `run-${run}.txt`, content: 'hello', type: 'text/plain' });
          record(`POST documents of ${id}`, uploaded.status, uploaded.headers, uploaded.text);
          const uploadAllowed = oracle.inScope('HelpDesk', id) && oracle.tool('HelpDesk', 'documents');
          const filesAfter = (await api.records.documents('HelpDesk', id)).length;
          if (uploadAllowed !== (filesAfter === files + 1) || uploadAllowed !== (uploaded.status === 201)) problems.push(`upload on ${id}: HTTP ${uploaded.status}, oracle ${uploadAllowed}`);
        }
        // Edits of the other modules: a varied field of every planted record (own, colleague's, other company's).
        for (const [m, field, value] of [['Contacts', 'mailingcity', `amk-city-${run}`], ['Accounts', 'city', `amk-city-${run}`], ['Invoice', 'status', run % 2 === 0 ? 'Sent' : 'Approved']] as const) {
          for (const id of planted[m]!.slice(0, 6)) {
            const before = (await api.records.get(m, id))!;
            if (before.values[field] === value) continue;
            const allowed = oracle.inScope(m, id) && oracle.editable(m) && oracle.writable(m, field, before.values);
            const patched = await send('PATCH', `/modules/${m}/records/${id}`, { values: { [field]: value } });
            const after = (await api.records.get(m, id))!;
            if (allowed !== (after.values[field] === value) || allowed !== (patched.status === 200)) problems.push(`PATCH ${m} ${id} ${field}: HTTP ${patched.status}, oracle ${allowed}`);
            for (const other of MODELLED[m]!.marked) if (other !== field && after.values[other] !== before.values[other]) problems.push(`PATCH ${m} ${id} changed ${other}`);
            if (after.values[field] !== before.values[field]) await api.records.update(m, id, { values: { [field]: before.values[field] ?? null } });
          }
        }
        for (const m of ['HelpDesk', 'Invoice']) {
          const title = `amk-created-${m.toLowerCase()}-${run}`;
          const label = m === 'HelpDesk' ? 'ticket_title' : 'subject';
          // Ids of another contact and account in the body are refused or ignored: the new record is the customer's.
          const foreignAccount = facts.records.Accounts!.find((x) => !facts.tree.includes(x.id))!.id;
          const foreignContact = planted.Contacts!.find((c) => c !== facts.me)!;
          const spoofed = await send('POST', `/modules/${m}/records`, { values: { [label]: `${title}-spoofed`, contact_id: foreignContact, account_id: foreignAccount } });
          for (const id of await idsWhere(api, m, label, `${title}-spoofed`)) {
            const stored = (await api.records.get(m, id))!.values;
            if (stored.contact_id !== facts.me || stored.account_id === foreignAccount) problems.push(`create ${m} (HTTP ${spoofed.status}) took contact ${stored.contact_id} and account ${stored.account_id} from the body`);
            await api.records.delete(m, id);
          }
          const created = await send('POST', `/modules/${m}/records`, { values: { [label]: title } });
          const made = await idsWhere(api, m, label, title);
          const allowed = oracle.creatable(m) && oracle.writable(m, label, {});
          if (allowed !== (made.length === 1) || allowed !== (created.status === 201)) problems.push(`create ${m}: HTTP ${created.status} ${created.text.slice(0, 200)}, oracle ${allowed}`);
          for (const id of made) await api.records.delete(m, id);
          const pageTitle = `${title}-page`;
          const pageCreated = await post(`/m/${m}/new`, { [label]: pageTitle });
          const pageMade = await idsWhere(api, m, label, pageTitle);
          if (allowed !== (pageMade.length === 1)) problems.push(`page create ${m}: HTTP ${pageCreated.status}, oracle ${allowed}`);
          for (const id of pageMade) await api.records.delete(m, id);
        }
        for (const owner of ['mine', 'foreign'] as const) {
          const doomed = await api.records.create('HelpDesk', { values: { ticket_title: `amk-doomed-${run}`, status: 'Open', priority: 'Normal', contact_id: owner === 'mine' ? facts.me : null, account_id: owner === 'mine' ? facts.account : facts.records.Accounts!.find((a) => !facts.tree.includes(a.id))!.id } });
          const allowed = owner === 'mine' && oracle.deletable('HelpDesk');
          const removed = await send('DELETE', `/modules/HelpDesk/records/${doomed.id}`);
          const gone = (await api.records.get('HelpDesk', doomed.id)) === null;
          if (allowed !== gone || allowed !== (removed.status === 204)) problems.push(`delete ${owner}: HTTP ${removed.status}, oracle ${allowed}`);
          if (!gone) {
            const pageRemoved = await post(`/m/HelpDesk/${doomed.id}/delete`, { version: String((await api.records.get('HelpDesk', doomed.id))!.version) });
            const pageGone = (await api.records.get('HelpDesk', doomed.id)) === null;
            if (allowed !== pageGone) problems.push(`page delete ${owner}: HTTP ${pageRemoved.status}, oracle ${allowed}`);
            if (!pageGone) await api.records.delete('HelpDesk', doomed.id);
          }
        }

        // ── what no answer may hold ──
        facts = await readFacts(config.customer);
        for (const m of MODULES) {
          for (const id of planted[m]!) {
            const values = (await api.records.get(m, id))!.values;
            for (const field of MODELLED[m]!.marked) {
              if (oracle.inScope(m, id) && !oracle.hidden(m, field, values)) continue;
              // The customer's own company names their records' references where Accounts is not theirs to view (README), unless the profile hides its name.
              if (m === 'Accounts' && field === 'accountname' && id === facts.account && !oracle.viewable(m) && !oracle.hidden(m, field, values)) continue;
              // The signed-in customer's own name is who they are (`/me`, the page header), whatever the profile hides of contacts (README).
              if (m === 'Contacts' && field === 'lastname' && id === facts.me) continue;
              // A comment is signed by its author's name: a contact who commented on a ticket the customer reads the thread of.
              if (m === 'Contacts' && field === 'lastname' && [...commenters].some(([ticket, authors]) => authors.has(id) && oracle.inScope('HelpDesk', ticket) && oracle.tool('HelpDesk', 'comments'))) continue;
              const value = marker(m, id, field);
              // A search echoes its own text (the customer typed it): only answers to other requests count.
              const leak = seen.find((s) => !s.where.includes(value) && s.text.includes(value));
              if (leak) problems.push(`${m} ${id} ${field} (${oracle.inScope(m, id) || !oracle.viewable(m) ? 'hidden' : 'out of scope'}) appears in ${leak.where}`);
            }
          }
        }
        for (const file of files) {
          const shownFile = oracle.inScope(file.module, file.recordId) && oracle.tool(file.module, 'documents');
          const parts = shownFile ? [...(config.documentFields.title === 'hidden' ? ['file'] : []), ...(config.documentFields.filename === 'hidden' ? ['filename'] : [])] : ['file', 'filename', 'content'];
          for (const part of parts) {
            const value = marker(file.module, file.recordId, part);
            const leak = seen.find((s) => s.text.includes(value));
            if (leak) problems.push(`file ${file.documentId} ${part} of ${file.module} ${file.recordId} appears in ${leak.where}`);
          }
        }
        if (problems.length > 0) throw new Error(`${[...new Set(problems)].join('\n')}\nconfig ${JSON.stringify(config)}`);
      }),
      // Fewer runs on a database server (its host and writes are slower): the same model, a smaller sample.
      { numRuns: Number(process.env.AUTHMODEL_RUNS ?? (process.env.DATABASE_URL ? 3 : 12)) },
    );
  });
});
