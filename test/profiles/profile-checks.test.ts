/**
 * Checks of the profile service found by an audit of the demo host: admin text with control
 * characters (a NUL pasted with a name, an escape in a title) is refused with a 400 naming the
 * field, and nothing is stored, while text that may span lines (a profile's description) keeps
 * its line breaks and tabs; the name given to an import follows the new-profile form's rule;
 * names are unique whatever their case in any script; odd section values (an icon outside the
 * set, a rule that does nothing, a condition value its operator cannot compare, an origin naming
 * nothing) are refused or, for the origin, made honest.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { adminActor, adminClient, count, profileIdByName, profileService, SETTINGS, type AdminClient, type JsonError } from './profile-test-kit.js';

/** What the admin-text refusals say about a control character. */
const CONTROL = 'contains a control character';

describe('profile checks @db', () => {
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

  it('refuses an import named (?name=) beyond the name’s limit, creating nothing', async () => {
    const source = await service.create({ name: 'To import', description: '', startFrom: null }, await adminActor(api));
    const file = await service.exportProfile(source.id);
    const before = await count(api, 'bp_profiles');
    const long = await admin.json('POST', `${SETTINGS}/profiles/import?name=${'x'.repeat(5000)}`, file);
    expect(long.status).to.equal(400);
    expect(((await long.json()) as JsonError).error.problems.map((p) => p.message)).to.deep.equal(['name: at most 100 characters are allowed.']);
    const form = await admin.post(`${SETTINGS}/profiles/import`, { name: 'y'.repeat(101), document: JSON.stringify(file) });
    expect(form.status).to.equal(400);
    expect(await count(api, 'bp_profiles')).to.equal(before);

    const named = await admin.json('POST', `${SETTINGS}/profiles/import?name=${encodeURIComponent('  Imported by name  ')}`, file);
    expect(named.status).to.equal(201);
    expect(((await named.json()) as { profile: { name: string } }).profile.name).to.equal('Imported by name');
  });

  it('refuses a name that differs from another only by the case of non-ASCII letters, or by composition', async () => {
    const actor = await adminActor(api);
    const first = await service.create({ name: 'Ünïcødé', description: '', startFrom: null }, actor);
    const before = await count(api, 'bp_profiles');
    for (const name of ['üNÏCØDÉ', 'U\u0308nïcødé']) {
      const response = await admin.post(`${SETTINGS}/profiles`, { name });
      expect(response.status, name).to.equal(409);
      expect(await response.text()).to.include('already exists');
    }
    await service.create({ name: 'Straße', description: '', startFrom: null }, actor);
    const other = await service.create({ name: 'Road', description: '', startFrom: null }, actor);
    let refused: unknown = null;
    await service.rename(other.id, { name: 'STRASSE', description: '', expectedVersion: other.version }, actor).catch((error: unknown) => (refused = error));
    expect(refused).to.have.property('code', 'name_taken');
    expect(await count(api, 'bp_profiles')).to.equal(before + 2);
    // The same profile may change the case of its own name.
    await service.rename(first.id, { name: 'ÜNÏCØDÉ', description: '', expectedVersion: first.version }, actor);
    expect((await service.get(first.id)).name).to.equal('ÜNÏCØDÉ');
  });

  it('refuses a name that differs from another only by full-width or other compatibility forms of its letters', async () => {
    const actor = await adminActor(api);
    const before = await count(api, 'bp_profiles');
    // Read by an administrator, each of these is "Default" (full-width letters) or "Office" (the "ﬃ" ligature).
    await service.create({ name: 'Office', description: '', startFrom: null }, actor);
    for (const name of ['Ｄefault', 'ＤＥＦＡＵＬＴ', 'ｄｅｆａｕｌｔ', 'Oﬃce', 'ＯＦＦＩＣＥ']) {
      const response = await admin.post(`${SETTINGS}/profiles`, { name });
      expect(response.status, name).to.equal(409);
      expect(await response.text(), name).to.include('already exists');
    }
    const other = await service.create({ name: 'Compatibility', description: '', startFrom: null }, actor);
    let refused: unknown = null;
    await service.rename(other.id, { name: 'Ｄefault', description: '', expectedVersion: other.version }, actor).catch((error: unknown) => (refused = error));
    expect(refused).to.have.property('code', 'name_taken');
    expect(await count(api, 'bp_profiles')).to.equal(before + 2);
    // One stored beside its look-alike before names were compared so keeps its name through a change of description.
    await api.database.sequelize.query(`UPDATE bp_profiles SET name = 'ＤＥＦＡＵＬＴ' WHERE id = ${other.id}`);
    const current = await service.get(other.id);
    await service.rename(other.id, { name: 'ＤＥＦＡＵＬＴ', description: 'Kept from before', expectedVersion: current.version }, actor);
    expect(await service.get(other.id)).to.include({ name: 'ＤＥＦＡＵＬＴ', description: 'Kept from before' });
  });

  it('takes names that differ by an accent or an emoji as different names, on every database', async () => {
    // MariaDB's default collation folds accents and takes every emoji for every other: its unique key refused these.
    for (const [first, second] of [['Cafe', 'Café'], ['Support 🇮🇹', 'Support 🇬🇧']] as const) {
      expect((await admin.post(`${SETTINGS}/profiles`, { name: first })).status, first).to.equal(303);
      const response = await admin.post(`${SETTINGS}/profiles`, { name: second });
      expect(response.status, second).to.equal(303);
      expect(await profileIdByName(api, second), second).to.not.equal(null);
    }
    // Case still counts for nothing.
    expect((await admin.post(`${SETTINGS}/profiles`, { name: 'CAFÉ' })).status).to.equal(409);
  });

  describe('odd section values', () => {
    let id: number;
    let version: number;
    const put = async (section: string, value: unknown) => {
      const response = await admin.json('PUT', `${SETTINGS}/profiles/${id}/sections/${section}`, { version, value });
      const body = (await response.json()) as JsonError & { document: { profile: { version: number }; rules: { origin: unknown }[] }; notices: string[] };
      if (response.status === 200) version = body.document.profile.version;
      return { status: response.status, body };
    };
    const rule = (fields: object) => ({ name: 'Rule', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }], effects: [], allReadOnly: true, ...fields });

    before(async () => {
      const profile = await service.create({ name: 'Odd values', description: '', startFrom: null }, await adminActor(api));
      id = profile.id;
      version = profile.version;
      expect((await put('modules', [{ module: 'HelpDesk', shown: true, view: true, create: true, edit: true, delete: false, scope: 'contact', tools: { comments: false, documents: false, search: false, export: false } }])).status).to.equal(200);
    });

    it('refuses a button icon outside the fixed set', async () => {
      const { status, body } = await put('buttons', [{ title: 'Go', description: '', colour: 'primary', icon: 'rocket', action: 'list', module: 'HelpDesk' }]);
      expect(status).to.equal(400);
      expect(body.error.problems.map((p) => p.message)).to.deep.equal([
        'buttons[0].icon: the value must be one of ticket, plus, list, document, invoice, question, user, building, box, calendar, chart, mail, search, star, wrench, chat.',
      ]);
    });

    it('refuses a rule that does nothing, and condition values their operator cannot compare', async () => {
      const idle = await put('rules', [rule({ conditions: [], effects: [], allReadOnly: false })]);
      expect(idle.status).to.equal(400);
      expect(idle.body.error.problems.map((p) => p.message)).to.deep.equal(['rules[0].effects: the rule does nothing: give it at least one field effect, or make all fields read-only.']);
      const ordered = await put('rules', [rule({ conditions: [{ field: 'priority', op: 'lt', value: true }] })]);
      expect(ordered.status).to.equal(400);
      expect(ordered.body.error.problems.map((p) => p.message)).to.deep.equal(['rules[0].conditions[0].value: the operator "<" compares with a number, a date or a text, not with true, false or nothing.']);
      const text = await put('rules', [rule({ conditions: [{ field: 'ticket_title', op: 'contains', value: 5 }] })]);
      expect(text.status).to.equal(400);
      const list = await put('rules', [rule({ conditions: [{ field: 'priority', op: 'in', value: 'High' }] })]);
      // Operators are named as the editor shows them, not by their codes ("lt", "in").
      expect(list.body.error.problems.map((p) => p.message)).to.deep.equal(['rules[0].conditions[0].value: the operator "is one of" takes a list of values, the others one value.']);
      expect((await service.document(id)).rules).to.deep.equal([]);
      expect((await put('rules', [rule({ conditions: [{ field: 'priority', op: 'gte', value: 'High' }] })])).status).to.equal(200);
    });

    it('refuses a condition value its field cannot hold: a date not written YYYY-MM-DD, a word for a number or a checkbox', async () => {
      const on = (module: string, field: string, op: string, value: unknown) => rule({ module, conditions: [{ field, op, value }] });
      const stored = (await service.document(id)).rules;
      const refusals = [
        [on('Invoice', 'invoicedate', 'lt', '05/01/2025'), 'rules[0].conditions[0].value: the field “Invoice date” holds dates: write the date as YYYY-MM-DD, e.g. 2025-01-31.'],
        [on('Invoice', 'invoicedate', 'in', ['2025-01-31', 'soon']), 'rules[0].conditions[0].value: the field “Invoice date” holds dates: write the date as YYYY-MM-DD, e.g. 2025-01-31.'],
        [on('Invoice', 'total', 'gte', 'a lot'), 'rules[0].conditions[0].value: the field “Total” holds numbers: compare it with a number.'],
        [on('Products', 'active', 'eq', 'yes'), 'rules[0].conditions[0].value: the field “Active” is a checkbox: compare it with true or false.'],
      ] as const;
      for (const [refused, message] of refusals) {
        const { status, body } = await put('rules', [refused]);
        expect(status, message).to.equal(400);
        expect(body.error.problems.map((p) => p.message)).to.deep.equal([message]);
      }
      expect((await service.document(id)).rules).to.deep.equal(stored);
      const fine = [on('Invoice', 'invoicedate', 'gte', '2025-01-31'), on('Invoice', 'total', 'gt', 100), on('Invoice', 'total', 'in', ['100.50', '7']), on('Products', 'active', 'eq', true), on('Invoice', 'invoicedate', 'isNull', undefined)];
      const saved = await put('rules', fine);
      expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
      expect((await put('rules', [])).status).to.equal(200);
    });

    it('keeps a rule whose origin names no CRM rule or profile as a portal rule, and says so', async () => {
      const crmRule = (await api.conditionalRules.rules())[0]!;
      const { status, body } = await put('rules', [
        rule({ name: 'Forged CRM', origin: { kind: 'crm', ruleId: 99999 } }),
        rule({ name: 'Forged profile', origin: { kind: 'profile', profileName: 'Nonexistent' } }),
        rule({ name: 'Real CRM', origin: { kind: 'crm', ruleId: crmRule.id } }),
        rule({ name: 'Real profile', origin: { kind: 'profile', profileName: 'Default' } }),
      ]);
      expect(status).to.equal(200);
      expect(body.document.rules.map((r) => r.origin)).to.deep.equal([{ kind: 'portal' }, { kind: 'portal' }, { kind: 'crm', ruleId: crmRule.id }, { kind: 'profile', profileName: 'Default' }]);
      expect(body.notices).to.include('These rules named a CRM rule or a profile that does not exist (any more); they are kept as portal rules: Forged CRM, Forged profile.');
    });

    it('imports a button whose icon this portal lacks with the fallback icon, and says so', async () => {
      const file = await service.exportProfile(id);
      const imported = await admin.json('POST', `${SETTINGS}/profiles/import?name=Icons`, {
        ...file,
        buttons: [{ title: 'Old', description: '', colour: 'primary', icon: 'rocket', action: 'list', module: 'HelpDesk' }],
      });
      expect(imported.status).to.equal(201);
      const body = (await imported.json()) as { profile: { id: number }; notices: string[] };
      expect(body.notices).to.include('The button Old showed the icon rocket, which this portal does not have: it shows star instead.');
      expect((await service.document(body.profile.id)).buttons.map((b) => b.icon)).to.deep.equal(['star']);
    });
  });

  describe('admin text with control characters', () => {
    it('refuses a new profile, a rename and a copy whose name or description holds one, changing nothing', async () => {
      const before = await count(api, 'bp_profiles');
      const created = await admin.post(`${SETTINGS}/profiles`, { name: 'x\u0000y' });
      expect(created.status).to.equal(400);
      expect(await created.text()).to.include(`Name: the text ${CONTROL}`);
      const escape = await admin.post(`${SETTINGS}/profiles`, { name: 'Tab\u001b[31m' });
      expect(escape.status).to.equal(400);
      expect(await count(api, 'bp_profiles')).to.equal(before);

      const profile = await service.create({ name: 'Plain text', description: '', startFrom: null }, await adminActor(api));
      const renamed = await admin.post(`${SETTINGS}/profiles/${profile.id}/rename`, { name: 'Plain text', description: 'a\u0000b', version: String(profile.version) });
      expect(renamed.status).to.equal(400);
      expect(await renamed.text()).to.include(`Description: the text ${CONTROL}`);
      const newline = await admin.post(`${SETTINGS}/profiles/${profile.id}/rename`, { name: 'Two\nlines', description: '', version: String(profile.version) });
      expect(newline.status).to.equal(400);
      expect(await service.get(profile.id)).to.include({ name: 'Plain text', description: '', version: profile.version });

      const copy = await admin.post(`${SETTINGS}/profiles/${profile.id}/duplicate`, { name: 'Copy\u0007' });
      expect(copy.status).to.equal(400);
      expect(await count(api, 'bp_profiles')).to.equal(before + 1);

      const multiLine = await admin.post(`${SETTINGS}/profiles/${profile.id}/rename`, { name: 'Plain text', description: 'First line\r\nsecond\tline', version: String(profile.version) });
      expect(multiLine.status).to.equal(303);
      expect((await service.get(profile.id)).description).to.equal('First line\r\nsecond\tline');
    });

    it('refuses a button title, a sender name and a rule name that hold one, in JSON naming the field', async () => {
      const profile = await service.create({ name: 'Sections text', description: '', startFrom: null }, await adminActor(api));
      const document = await service.document(profile.id);
      const put = async (section: string, value: unknown) => {
        const response = await admin.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/${section}`, { version: profile.version, value });
        expect(response.status, section).to.equal(400);
        expect(response.headers.get('content-type'), section).to.match(/^application\/json/);
        return ((await response.json()) as JsonError).error.problems;
      };

      const buttons = await put('buttons', [{ title: 'a\u0000b', description: '', colour: 'primary', icon: 'list', action: 'list', module: 'HelpDesk' }]);
      expect(buttons.map((p) => p.message)).to.include(`buttons[0].title: the text ${CONTROL} (such as a NUL or an escape); remove it.`);
      const notifications = await put('notifications', { ...document.notifications, senderName: 'Support\u0000' });
      expect(notifications.map((p) => p.path)).to.deep.equal(['notifications.senderName']);
      // A nullable value says what is wrong with it, not that it "must be of type null".
      expect(notifications.map((p) => p.message)).to.deep.equal([`notifications.senderName: the text ${CONTROL} (such as a NUL or an escape); remove it.`]);
      const sender = await put('notifications', { ...document.notifications, senderEmail: 'support@localhost' });
      expect(sender.map((p) => p.message)).to.deep.equal(['notifications.senderEmail: this is not a valid email address.']);
      const rules = await put('rules', [
        { name: 'r\u0000', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'x\u0000' }], effects: [{ field: 'status', effect: 'readonly' }], allReadOnly: false },
      ]);
      expect(rules.map((p) => p.path)).to.have.members(['rules[0].name', 'rules[0].conditions[0].value']);

      expect((await service.get(profile.id)).version).to.equal(profile.version);
      expect(await count(api, 'bp_profile_audit', "profile_id = :id AND action = 'save'", { id: profile.id })).to.equal(0);
    });

    it('refuses an import file whose profile name holds one', async () => {
      const source = await service.create({ name: 'Import source', description: '', startFrom: null }, await adminActor(api));
      const file = await service.exportProfile(source.id);
      const before = await count(api, 'bp_profiles');
      const response = await admin.json('POST', `${SETTINGS}/profiles/import`, { ...file, profile: { name: 'Imported\u0000', description: '' } });
      expect(response.status).to.equal(400);
      expect(((await response.json()) as JsonError).error.problems.map((p) => p.path)).to.deep.equal(['profile.name']);
      expect(await count(api, 'bp_profiles')).to.equal(before);
    });
  });
});
