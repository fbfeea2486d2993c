/**
 * A module's fields on the privileges page are drawn when its part is opened, from
 * `…/privileges/modules/:module`: the first page of a CRM with wide modules holds none of their
 * field selects and grows by a module's row per module, not by its fields; the route answers only
 * CRM admins, for a profile and module that exist, of the revision the page holds.
 */
import { expect } from 'chai';
import { hashPassword } from '../../host/users/password-hash.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ProfileActor } from '../../plugin/profiles/profile-document.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { adminActor, adminClient, profileService, SETTINGS, wideModule, type AdminClient, type JsonError } from './profile-test-kit.js';

const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-test-password-1';

describe('privileges page: a module’s fields when opened @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;
  let actor: ProfileActor;
  let id: number;
  const page = () => `${SETTINGS}/profiles/${id}/privileges`;
  const part = (module: string, profile = id) => `${SETTINGS}/profiles/${profile}/privileges/modules/${module}`;
  const version = async () => (await service.document(id)).profile.version;

  before(async () => {
    test = await startTestHost({ watchRegistryMs: 0 });
    api = test.host.api;
    service = profileService(api);
    admin = await adminClient(test);
    actor = await adminActor(api);
    id = (await service.create({ name: 'Wide CRM', description: '', startFrom: null }, actor)).id;
  });
  after(async () => {
    await test?.stop();
  });

  it('holds no field of a closed module on the first page, and grows by a row per module however many fields it has', async () => {
    const bytes = async () => {
      const response = await admin.get(page());
      expect(response.status).to.equal(200);
      const html = await response.text();
      return { html, size: Buffer.byteLength(html) };
    };
    const bare = await bytes();
    // What one module costs the first page, measured on modules of 5 fields…
    const NARROW = 2;
    for (let m = 0; m < NARROW; m += 1) await api.modules.registerModule(wideModule(`Narrow${m}`, 5));
    const narrow = await bytes();
    const perModule = (narrow.size - bare.size) / NARROW;
    expect(perModule, 'a module adds a row').to.be.above(0);
    // …bounds what modules of 120 fields cost it: their fields come when opened.
    const WIDE = 6;
    for (let m = 0; m < WIDE; m += 1) await api.modules.registerModule(wideModule(`Wider${m}`, 120));
    const wide = await bytes();
    expect(wide.size, `${bare.size} B bare, ${narrow.size} B with ${NARROW} modules of 5 fields, ${wide.size} B with ${WIDE} more of 120`).to.be.at.most(narrow.size + WIDE * perModule);
    for (let m = 0; m < WIDE; m += 1) expect(wide.html, `Wider${m}'s row`).to.include(`data-bp-module="Wider${m}"`);
    expect(wide.html, 'no field select').not.to.include('data-bp-field=');
    expect(wide.html, 'no field label').not.to.include('Field 119');
    expect(wide.html, 'no column chooser').not.to.include('data-bp-column-choice');
    // Each module links to its fields drawn in the page (without JavaScript), and its part has them all.
    expect(wide.html).to.include(`href="${page()}?fields=Wider3#bp-module-Wider3"`);
    const fields = await admin.get(`${part('Wider3')}?version=${await version()}`);
    expect(fields.status).to.equal(200);
    expect(fields.headers.get('content-type')).to.match(/^text\/html/);
    const html = await fields.text();
    expect(html, 'the part alone, not a page').not.to.match(/<html|<h1/i);
    expect([...html.matchAll(/data-bp-field="([a-z0-9_]+)"/g)]).to.have.length(120);
    expect(html).to.include('id="bp-field-Wider3-field_119"');
    expect(html).to.include('data-bp-column-choice');
    const noScript = await (await admin.get(`${page()}?fields=Wider3`)).text();
    expect([...noScript.matchAll(/data-bp-field="([a-z0-9_]+)"/g)], 'that module’s fields, in the page').to.have.length(120);
    expect(noScript).to.match(/data-bp-details="Wider3" open>/);
  });

  it('answers only CRM admins: signed out → login, a CRM user who is no admin → 403', async () => {
    await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
      replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK },
    });
    const anonymous = await fetch(`${test.url}${part('HelpDesk')}`, { redirect: 'manual' });
    expect(anonymous.status).to.equal(303);
    expect(anonymous.headers.get('location')).to.match(/\/login/);
    expect(await anonymous.text()).not.to.include('data-bp-field');
    const portal = await fetch(`${test.url}${part('HelpDesk')}`, { redirect: 'manual', headers: { cookie: 'bp_portal_sid=whatever' } });
    expect(portal.status).to.equal(303);
    const clerk = await adminClient(test, CLERK, CLERK_PASSWORD);
    const refused = await clerk.get(part('HelpDesk'));
    expect(refused.status).to.equal(403);
    expect(await refused.text()).not.to.include('data-bp-field');
  });

  it('refuses a profile or module it has no part for with 404, and a revision the profile has left with 409', async () => {
    const notFound = async (path: string, why: string) => {
      const response = await admin.get(path);
      expect(response.status, why).to.equal(404);
      const body = await response.text();
      expect(body, why).not.to.include('data-bp-field');
      expect(body, why).not.to.match(/at .+\.ts:\d+/);
      return body;
    };
    await notFound(part('HelpDesk', 999999), 'no such profile');
    await notFound(`${SETTINGS}/profiles/abc/privileges/modules/HelpDesk`, 'no profile id');
    const gone = await service.create({ name: 'Gone soon', description: '', startFrom: null }, actor);
    await service.delete(gone.id, { moveTo: null, expectedVersion: gone.version }, actor);
    await notFound(part('HelpDesk', gone.id), 'a deleted profile');
    const unknown = JSON.parse(await notFound(part('NoSuchModule'), 'no such module')) as JsonError;
    expect(unknown.error.code).to.equal('not_found');
    expect(unknown.error.message).to.equal('This profile has no such module.');
    // A module of the CRM the portal cannot offer (no relation to contacts): no part of the profile.
    const offered = new Set((await service.document(id)).modules.map((m) => m.module));
    const other = api.modules.modules().find((m) => !offered.has(m.name));
    expect(other, 'a CRM module the profile has no entry for').to.not.equal(undefined);
    await notFound(part(other!.name), `${other!.name}: not eligible`);
    const odd = await notFound(part(encodeURIComponent('<script>x</script>')), 'markup for a name');
    expect(odd).not.to.include('<script>x');
    await notFound(part(encodeURIComponent('../../1')), 'a path for a name');

    const current = await version();
    const stale = await admin.get(`${part('HelpDesk')}?version=${current - 1}`);
    expect(stale.status).to.equal(409);
    expect(((await stale.json()) as JsonError).error.code).to.equal('stale');
    const junk = await admin.get(`${part('HelpDesk')}?version=${encodeURIComponent('1 or 1=1')}`);
    expect(junk.status).to.equal(409);
    expect((await admin.get(`${part('HelpDesk')}?version=${current}`)).status).to.equal(200);
  });
});
