/**
 * Attacks on the profile routes that landed with the lazy module fields of the privileges page
 * (`…/profiles/:id/privileges/modules/:module?version=N`) and a change's own page
 * (`…/profiles/:id/changes/:entryId`): who may read them (a real customer session included), that
 * no answer is cached, that a request cannot name a template or another profile's change, that
 * stored markup is shown as text, and that odd or huge numbers are a 404 or 409, never a 500.
 */
import { expect } from 'chai';
import { hashPassword } from '../../host/users/password-hash.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ProfileActor } from '../../plugin/profiles/profile-document.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { portalLogin } from '../portal-api/api-test-kit.js';
import { startTestHost, TEST_ADMIN_PASSWORD, type TestHost } from '../support/host.js';
import { adminActor, adminClient, profileService, SETTINGS, type AdminClient } from './profile-test-kit.js';

const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-audit-password-1';
const PAYLOAD = '</script><img src=x onerror=alert(1)><!--';

describe('profile admin routes under attack @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;
  let actor: ProfileActor;
  let mine: number;
  let other: number;
  let otherEntry: number;
  let myEntry: number;
  const part = (module: string, profile = mine) => `${SETTINGS}/profiles/${profile}/privileges/modules/${module}`;

  before(async () => {
    test = await startTestHost({ demo: true, watchRegistryMs: 0 });
    api = test.host.api;
    service = profileService(api);
    // The demo gives its admin a password of its own: the suites' one, as without the demo.
    await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
      replacements: { hash: await hashPassword(TEST_ADMIN_PASSWORD), name: 'admin' },
    });
    admin = await adminClient(test);
    actor = await adminActor(api);
    mine = (await service.create({ name: `Mine ${PAYLOAD}`, description: PAYLOAD, startFrom: null }, actor)).id;
    other = (await service.create({ name: 'Other', description: 'secret of other', startFrom: null }, actor)).id;
    const entries = async (id: number) => (await service.audit(id, { number: 1, size: 50 })).map((e) => e.id);
    myEntry = (await entries(mine))[0]!;
    otherEntry = (await entries(other))[0]!;
    await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
      replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK },
    });
  });
  after(async () => {
    await test?.stop();
  });

  const paths = () => [part('HelpDesk'), `${part('HelpDesk')}?version=1`, `${SETTINGS}/profiles/${mine}/changes/${myEntry}`];

  it('signed out, a real portal customer session and a CRM user who is no admin get nothing of them', async () => {
    const customer = await portalLogin(test, 'jane.doe@example.com');
    const clerk = await adminClient(test, CLERK, CLERK_PASSWORD);
    for (const path of paths()) {
      for (const [who, cookie] of [['signed out', ''], ['customer', customer]] as const) {
        const response = await fetch(`${test.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
        expect(response.status, `${who} ${path}`).to.equal(303);
        expect(response.headers.get('location'), `${who} ${path}`).to.match(/\/login/);
        const body = await response.text();
        expect(body, `${who} ${path}`).not.to.match(/data-bp-field|secret of other|onerror/);
      }
      const asJson = await fetch(`${test.url}${path}`, { redirect: 'manual', headers: { cookie: customer, accept: 'application/json' } });
      expect(asJson.status, `customer JSON ${path}`).to.equal(401);
      const refused = await clerk.get(path);
      expect(refused.status, `clerk ${path}`).to.equal(403);
      expect(await refused.text(), `clerk ${path}`).not.to.match(/data-bp-field|onerror/);
    }
  });

  it('no answer of theirs is kept by a cache: 200, 404 and 409 alike', async () => {
    const version = (await service.document(mine)).profile.version;
    for (const path of [`${part('HelpDesk')}?version=${version}`, `${part('HelpDesk')}?version=${version + 1}`, part('Nothing'), `${SETTINGS}/profiles/${mine}/changes/${myEntry}`, `${SETTINGS}/profiles/${mine}/changes/${otherEntry}`]) {
      const response = await admin.get(path);
      expect(response.status, path).to.be.oneOf([200, 404, 409]);
      expect(response.headers.get('cache-control'), path).to.match(/no-store/);
    }
  });

  it('a module name cannot choose a template or a partial: paths, partial syntax and prototype names are a 404 that echoes nothing', async () => {
    const names = [
      '..%2F..%2Fadmin%2Fsettings-home',
      '..%2Fprivileges',
      'admin%2Fprivileges-module-fields',
      '%7B%7B%3E%20admin%2Fsettings-home%7D%7D',
      '__proto__',
      'constructor',
      'HelpDesk%00',
      'HELPDESK',
      encodeURIComponent('<img src=x onerror=alert(1)>'),
      'x'.repeat(5000),
    ];
    for (const name of names) {
      const response = await admin.get(part(name));
      const body = await response.text();
      expect(response.status, name.slice(0, 60)).to.equal(404);
      expect(body, name.slice(0, 60)).not.to.match(/data-bp-field|<h1|<img|onerror=|settings-home|at .+\.ts:\d+/);
      expect(response.headers.get('content-type'), name.slice(0, 60)).to.match(/json/);
    }
  });

  it('odd and huge numbers: a profile id or version past any integer column is a 404 or 409, never a 500', async () => {
    const huge = ['9999999999', '2147483648', '4294967296', '1e3', '0x10', '-1', '01', '1.0', '%201'];
    for (const id of huge) {
      expect((await admin.get(`${SETTINGS}/profiles/${id}/privileges/modules/HelpDesk`)).status, `profile ${id}`).to.equal(404);
      expect((await admin.get(`${SETTINGS}/profiles/${id}/privileges`)).status, `profile page ${id}`).to.equal(404);
      expect((await admin.get(`${SETTINGS}/profiles/${id}/changes/${myEntry}`)).status, `change of profile ${id}`).to.equal(404);
      expect((await admin.get(`${SETTINGS}/profiles/${mine}/changes/${id}`)).status, `change ${id}`).to.equal(404);
    }
    for (const entry of ['999999999999999', '9223372036854775807', '99999999999999999999']) {
      expect((await admin.get(`${SETTINGS}/profiles/${mine}/changes/${entry}`)).status, `change ${entry}`).to.equal(404);
    }
    for (const version of ['99999999999999999999999', '9'.repeat(5000), '-0', '1&version=1', '', '%00']) {
      const response = await admin.get(`${part('HelpDesk')}?version=${version}`);
      expect(response.status, `version ${version.slice(0, 30)}`).to.equal(409);
    }
  });

  it('a change of another profile is not shown through this profile’s path, and stored markup is text', async () => {
    const crossed = await admin.get(`${SETTINGS}/profiles/${mine}/changes/${otherEntry}`);
    expect(crossed.status).to.equal(404);
    expect(await crossed.text()).not.to.include('secret of other');
    const own = await admin.get(`${SETTINGS}/profiles/${other}/changes/${otherEntry}`);
    expect(own.status).to.equal(200);
    expect(await own.text()).to.include('secret of other');

    const page = await admin.get(`${SETTINGS}/profiles/${mine}/changes/${myEntry}`);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html, 'the stored values are shown').to.match(/<details>/);
    expect(html).not.to.include('<img src=x');
    expect(html).not.to.include('onerror=alert(1)>');
    expect(html).to.include('&lt;/script&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    // The only </script> of the page close its own scripts.
    const scripts = (html.match(/<script\b/gi) ?? []).length;
    expect((html.match(/<\/script>/gi) ?? []).length).to.equal(scripts);
  });
});
