/**
 * Two admins (or two tabs) writing profiles at the same moment, over real parallel HTTP requests
 * on a reference host: names stay unique whatever their case (a clear 409, exactly one profile),
 * and two saves of one section from forms opened at the same version leave one saved and the
 * other refused as stale.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { nameKey, type DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { addPortalAccount, adminActor, adminClient, profileService, rows, SETTINGS, type AdminClient } from './profile-test-kit.js';

describe('concurrent admin writes on profiles @db', function () {
  this.timeout(30_000);
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;
  let other: AdminClient;

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    admin = await adminClient(test);
    other = await adminClient(test);
  });
  after(async () => {
    await test?.stop();
  });

  async function profilesNamed(name: string): Promise<string[]> {
    const all = await rows<{ name: unknown }>(api, 'SELECT name FROM bp_profiles');
    return all.map((row) => String(row.name)).filter((n) => nameKey(n) === nameKey(name));
  }

  it('creates one profile when two admins create the same name at once, telling the other it exists', async () => {
    const responses = await Promise.all([admin.post(`${SETTINGS}/profiles`, { name: 'Dealers' }), other.post(`${SETTINGS}/profiles`, { name: 'Dealers' })]);
    expect(responses.map((r) => r.status).sort()).to.deep.equal([303, 409]);
    expect(await responses.find((r) => r.status === 409)!.text()).to.include('already exists');
    expect(await profilesNamed('Dealers')).to.have.length(1);
  });

  it('creates one profile when two admins create names differing only in case at once', async () => {
    for (let round = 0; round < 5; round += 1) {
      const name = `Resellers ${round}`;
      const responses = await Promise.all([admin.post(`${SETTINGS}/profiles`, { name }), other.post(`${SETTINGS}/profiles`, { name: name.toUpperCase() })]);
      expect(responses.map((r) => r.status).sort(), name).to.deep.equal([303, 409]);
      expect(await profilesNamed(name), name).to.have.length(1);
    }
  });

  it('keeps names unique when renames, duplicates and imports race a create', async () => {
    for (let round = 0; round < 3; round += 1) {
      const name = `Partners ${round}`;
      const a = await service.create({ name: `Rename me ${round}`, description: '', startFrom: null }, await adminActor(api));
      const exported = await service.exportProfile(a.id);
      const responses = await Promise.all([
        admin.post(`${SETTINGS}/profiles/${a.id}/rename`, { name: name.toLowerCase(), description: '', version: String(a.version) }),
        other.post(`${SETTINGS}/profiles`, { name }),
        other.post(`${SETTINGS}/profiles/${a.id}/duplicate`, { name: name.toUpperCase() }),
        admin.json('POST', `${SETTINGS}/profiles/import?name=${encodeURIComponent(` ${name}`)}`, exported),
      ]);
      for (const response of responses) expect(response.status, name).to.be.oneOf([200, 201, 303, 409]);
      expect(await profilesNamed(name), name).to.have.length(1);
    }
  });

  it('saves one of two saves of a section sent at once from the same version, refusing the other as stale', async () => {
    const profile = await service.create({ name: 'Twin tabs', description: '', startFrom: null }, await adminActor(api));
    const document = await service.document(profile.id);
    const general = (twoFactorType: string) => ({ ...document.general, twoFactorType, twoFactorFallback: 'none' });
    for (let round = 0; round < 5; round += 1) {
      const version = (await service.get(profile.id)).version;
      const responses = await Promise.all([
        admin.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/general`, { version, value: general('email') }),
        other.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/general`, { version, value: general('none') }),
      ]);
      expect(responses.map((r) => r.status).sort()).to.deep.equal([200, 409]);
      expect((await service.get(profile.id)).version).to.equal(version + 1);
    }
  });

  it('deletes a profile while another admin saves a section of it: one wins, the other is told, no 500', async () => {
    for (let round = 0; round < 3; round += 1) {
      const profile = await service.create({ name: `Short-lived ${round}`, description: '', startFrom: null }, await adminActor(api));
      const document = await service.document(profile.id);
      const responses = await Promise.all([
        admin.json('PUT', `${SETTINGS}/profiles/${profile.id}/sections/general`, { version: profile.version, value: document.general }),
        other.post(`${SETTINGS}/profiles/${profile.id}/delete`, { version: String(profile.version) }),
      ]);
      for (const response of responses) expect(response.status).to.be.below(500);
    }
  });

  it('moves contacts to a profile another admin deletes at the same moment: they end on a profile that exists, or the delete is refused', async () => {
    for (let round = 0; round < 4; round += 1) {
      const actor = await adminActor(api);
      const leaving = await service.create({ name: `Leaving ${round}`, description: '', startFrom: null }, actor);
      const target = await service.create({ name: `Target ${round}`, description: '', startFrom: null }, actor);
      const contact = 8100 + round;
      await addPortalAccount(api, contact, leaving.id);
      const responses = await Promise.all([
        admin.post(`${SETTINGS}/profiles/${leaving.id}/delete`, { moveTo: String(target.id), version: String(leaving.version) }),
        other.post(`${SETTINGS}/profiles/${target.id}/delete`, { version: String(target.version) }),
      ]);
      for (const response of responses) expect(response.status, `round ${round}`).to.be.below(500);
      if (responses[0]!.status === 400) expect(await responses[0]!.text()).to.include('choose another existing profile to move the contacts to');
      const [account] = await rows<{ profile_id: unknown }>(api, 'SELECT profile_id FROM bp_portal_accounts WHERE contact_id = :contact', { contact });
      expect(account!.profile_id, `round ${round}`).to.not.equal(null);
      const [profile] = await rows<{ id: unknown }>(api, 'SELECT id FROM bp_profiles WHERE id = :id', { id: account!.profile_id });
      expect(profile, `round ${round}`).to.not.equal(undefined);
    }
  });

  it('copies a profile another admin deletes at the same moment whole, or refuses the copy: never an empty copy', async () => {
    const actor = await adminActor(api);
    let copies = 0;
    let refusals = 0;
    // The copies start a few milliseconds after the delete, so that some of them reach the database after it.
    for (let round = 0; round < 20; round += 1) {
      const source = await service.create({ name: `Copied away ${round}`, description: '', startFrom: null }, actor);
      const { version } = (await service.saveSection(source.id, 'globals', { viewAll: true, editAll: true }, source.version, actor)).document.profile;
      const later = <T>(send: () => Promise<T>) => new Promise((resolve) => setTimeout(resolve, round)).then(send);
      const [deleted, duplicated, created] = await Promise.all([
        other.post(`${SETTINGS}/profiles/${source.id}/delete`, { version: String(version) }),
        later(() => admin.post(`${SETTINGS}/profiles/${source.id}/duplicate`, { name: `Copy ${round}` })),
        later(() => admin.post(`${SETTINGS}/profiles`, { name: `Started from ${round}`, startFrom: String(source.id) })),
      ]);
      expect(deleted.status, `round ${round}`).to.equal(200);
      expect(duplicated.status, `round ${round}`).to.be.oneOf([303, 404]);
      expect(created.status, `round ${round}`).to.be.oneOf([303, 400]);
      if (created.status === 400) expect(await created.text()).to.include('the profile to start from does not exist');
      for (const response of [duplicated, created]) {
        const id = /\/profiles\/(\d+)/.exec(response.headers.get('location') ?? '')?.[1];
        if (!id) {
          refusals += 1;
          continue;
        }
        copies += 1;
        expect((await service.document(Number(id))).globals, `round ${round}`).to.deep.equal({ viewAll: true, editAll: true });
      }
    }
    expect(copies + refusals).to.equal(40);
  });
});
