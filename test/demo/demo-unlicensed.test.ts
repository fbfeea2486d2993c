/**
 * The demo on a CRM without the Business Portal licence (`LICENCES=` empty): the host starts and
 * serves, and the demo's Default profile enables only the modules the licence allows (the base
 * set), with no button to a module it does not show.
 */
import { expect } from 'chai';
import { BASE_PORTAL_MODULES } from '../../plugin/eligibility/module-eligibility.js';
import { DEMO_PORTAL_PASSWORD } from '../../host/demo/demo-data.js';
import { profileService } from '../profiles/profile-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';

describe('Demo data without the Business Portal licence @db', function () {
  let test: TestHost;

  before(async function () {
    test = await startTestHost({ demo: true, licences: [] });
  });
  after(async function () {
    await test?.stop();
  });

  it('starts, serves healthz and seeds a Default profile with only the base modules', async function () {
    expect(await test.host.api.licences.has('business-portal')).to.equal(false);
    expect((await fetch(`${test.url}/healthz`)).status).to.equal(200);

    const service = profileService(test.host.api);
    const defaultProfile = (await service.list()).find((p) => p.isDefault)!;
    const document = await service.document(defaultProfile.id);
    const shown = document.modules.filter((m) => m.shown).map((m) => m.module);
    expect(shown).to.include.members(['HelpDesk', 'Faq', 'Documents']);
    expect(shown.every((module) => BASE_PORTAL_MODULES.includes(module)), shown.join(', ')).to.equal(true);
    expect(document.buttons.map((b) => b.module).every((module) => shown.includes(module))).to.equal(true);
    expect(document.buttons.length).to.be.greaterThan(0);
    expect(document.flags).to.deep.equal([]);

    const login = await fetch(`${test.url}/portal/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email: 'jane.doe@example.com', password: DEMO_PORTAL_PASSWORD }),
    });
    expect(login.status).to.equal(200);
  });
});
