/**
 * Checks of the profile service found by an audit of the demo host: the name given to an import
 * follows the new-profile form's rule; names are unique whatever their case in any script.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { adminActor, adminClient, count, profileService, SETTINGS, type AdminClient } from './profile-test-kit.js';

interface JsonError {
  readonly error: { readonly code: string; readonly problems: readonly { readonly path: string; readonly message: string }[] };
}

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
});
