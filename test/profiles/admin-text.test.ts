/**
 * Admin text with control characters (a NUL pasted with a name, an escape in a title): every
 * profile form and section refuses it with a 400 naming the field, and nothing is stored. Text
 * that may span lines (a profile's description) keeps its line breaks and tabs.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { adminActor, adminClient, count, profileService, SETTINGS, type AdminClient } from './profile-test-kit.js';

const CONTROL = 'contains a control character';

interface JsonError {
  readonly error: { readonly code: string; readonly problems: readonly { readonly path: string; readonly message: string }[] };
}

describe('admin text with control characters @db', () => {
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

  it('refuses a new profile, a rename and a copy whose name or description holds one, changing nothing', async () => {
    const before = await count(api, 'bp_profiles');
    const created = await admin.post(`${SETTINGS}/profiles`, { name: 'x\u0000y' });
    expect(created.status).to.equal(400);
    expect(await created.text()).to.include(`name: the text ${CONTROL}`);
    const escape = await admin.post(`${SETTINGS}/profiles`, { name: 'Tab\u001b[31m' });
    expect(escape.status).to.equal(400);
    expect(await count(api, 'bp_profiles')).to.equal(before);

    const profile = await service.create({ name: 'Plain text', description: '', startFrom: null }, await adminActor(api));
    const renamed = await admin.post(`${SETTINGS}/profiles/${profile.id}/rename`, { name: 'Plain text', description: 'a\u0000b', version: String(profile.version) });
    expect(renamed.status).to.equal(400);
    expect(await renamed.text()).to.include(`description: the text ${CONTROL}`);
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
