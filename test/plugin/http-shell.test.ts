import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { Router } from 'express';
import { ContainerModule, injectable } from 'inversify';
import { AdminRouteContribution, PortalRouteContribution } from '../../plugin/lifecycle/contributions.js';
import type { BusinessPortalLifecycle } from '../../plugin/lifecycle/plugin-lifecycle.js';
import { corePlugin, crmUser, startPluginTestHost, type PluginTestHost } from './plugin-test-host.js';
import { expectSecurityHeaders } from '../support/expectations.js';

const PLUGIN_CSP = ["default-src 'self'", "form-action 'self'"];

const SECRET_SQL = 'SELECT password_hash FROM bp_secret_table';

/** Routes that fail or echo, to see the shared error handling and CSRF check at work. */
@injectable()
class ProbeRoutes implements PortalRouteContribution, AdminRouteContribution {
  registerPortalRoutes(router: Router): void {
    router.get('/api/v1/probe/fault', () => {
      throw new Error(SECRET_SQL);
    });
    router.post('/api/v1/probe/echo', (req, res) => void res.json({ got: req.body as unknown }));
    router.get('/probe/fault', async () => {
      throw new Error(SECRET_SQL);
    });
    router.get('/probe/refused/:part', (_req, res) => void res.send('never: the part is not valid percent-encoding'));
  }
  registerAdminRoutes(router: Router): void {
    router.get('/probe/fault', () => {
      throw new Error(SECRET_SQL);
    });
    router.post('/probe/echo', (_req, res) => void res.type('text').send('posted'));
    router.get('/probe/refused/:part', (_req, res) => void res.send('never: the part is not valid percent-encoding'));
  }
}

const probeModule = new ContainerModule(({ bind }) => {
  bind(ProbeRoutes).toSelf().inSingletonScope();
  bind(PortalRouteContribution).toService(ProbeRoutes);
  bind(AdminRouteContribution).toService(ProbeRoutes);
});

describe('plugin HTTP shell: admin pages and portal @db', () => {
  let t: PluginTestHost;
  let plugin: BusinessPortalLifecycle;
  let admin: string;
  let italianAdmin: string;
  let clerk: string;
  let disabledAdmin: string;

  async function start(origin?: Parameters<PluginTestHost['setOrigin']>[0]): Promise<void> {
    t = await startPluginTestHost();
    if (origin) t.setOrigin(origin);
    t.addUser(crmUser({ id: 1, isAdmin: true }));
    t.addUser(crmUser({ id: 2, isAdmin: true, language: 'it' }));
    t.addUser(crmUser({ id: 3, isAdmin: false }));
    t.addUser(crmUser({ id: 4, isAdmin: true, active: false }));
    admin = t.sessionCookie(1);
    italianAdmin = t.sessionCookie(2);
    clerk = t.sessionCookie(3);
    disabledAdmin = t.sessionCookie(4);
    plugin = corePlugin({}, [probeModule]);
    await plugin.install(t.host);
    await plugin.activate(t.host);
  }

  async function stop(): Promise<void> {
    await plugin.deactivate();
    await t.stop();
  }

  const get = (path: string, cookie?: string, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, { redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });

  describe('on a fresh install', () => {
    before(() => start());
    after(() => stop());

    for (const path of ['/settings/business-portal', '/settings/business-portal/login-check?x=1']) {
      it(`sends anonymous visitors of ${path} to the CRM login and back`, async () => {
        const res = await get(path);
        expect(res.status).to.equal(303);
        expect(res.headers.get('location')).to.equal(`/login?returnTo=${encodeURIComponent(path)}`);
        expectSecurityHeaders(res, 'redirect', PLUGIN_CSP);
      });
    }

    it('treats a portal-only visitor as anonymous: a portal session is no CRM session', async () => {
      const res = await get('/settings/business-portal', 'bp_session=portal-customer-session');
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.match(/^\/login\?returnTo=/);
    });

    for (const [who, cookie] of [
      ['a non-admin CRM user', () => clerk],
      ['an inactive admin', () => disabledAdmin],
    ] as const) {
      it(`answers 403 to ${who}, on every admin route`, async () => {
        for (const path of ['/settings/business-portal', '/settings/business-portal/login-check', '/settings/business-portal/nope']) {
          const res = await get(path, cookie());
          expect(res.status, path).to.equal(403);
          const html = await res.text();
          expect(html).to.include('Only CRM administrators may open this page.');
          expect(html).not.to.include('Default');
          expectSecurityHeaders(res, `403 ${path}`, PLUGIN_CSP);
        }
      });
    }

    it('shows an admin the version, the profiles and the portal address', async () => {
      const res = await get('/settings/business-portal', admin);
      expect(res.status).to.equal(200);
      expectSecurityHeaders(res, 'admin page', PLUGIN_CSP);
      const html = await res.text();
      expect(html).to.include('<title>Business Portal</title>');
      expect(html).to.include('Version 2');
      expect(html).to.include('only version 2 (profiles) exists');
      // "Default (Default)" would say it twice: no badge where the name already says it.
      expect(html).to.match(/<td[^>]*>Default<\/td>\s*<td[^>]*>The profile of every portal contact that has no other one\.<\/td>\s*<td[^>]*>0<\/td>/);
      expect(html).to.include('href="https://crm.example.com/portal"');
    });

    it('speaks Italian to an Italian admin', async () => {
      const html = await (await get('/settings/business-portal', italianAdmin)).text();
      expect(html).to.include('Versione 2');
      expect(html).to.include('Profili');
      // The seeded Default profile's description is the plugin's text, read in the admin's language; the badge says what "Default" is.
      expect(html).to.match(/<td[^>]*>Default <strong class="bp-badge">\(Predefinito\)<\/strong><\/td>\s*<td[^>]*>Il profilo di ogni contatto portale che non ne ha un altro\.<\/td>/);
      const check = await (await get('/settings/business-portal/login-check', italianAdmin)).text();
      expect(check).to.include('Controllo login Business Portal');
    });

    it('escapes what admins typed into profiles', async () => {
      await t.host.database.sequelize.query(
        `INSERT INTO bp_profiles (name, description, is_default, created_at, updated_at, version) VALUES (:name, :description, :no, :now, :now, 1)`,
        { replacements: { name: '<script>alert(1)</script>', description: '"><img src=x onerror=alert(2)>', no: false, now: new Date() } },
      );
      const html = await (await get('/settings/business-portal', admin)).text();
      expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).not.to.include('<script>alert(1)');
      expect(html).not.to.include('<img src=x');
    });

    it('lists the locked portal users apart from those with failures but no lock', async () => {
      const empty = await (await get('/settings/business-portal/login-check', admin)).text();
      expect(empty).to.include('locked after 5 consecutive failed logins');
      expect(empty).to.include('No portal user is locked.');

      const { id: defaultId } = (await t.host.database.sequelize.query<{ id: number }>('SELECT id FROM bp_profiles WHERE name = :name', {
        type: QueryTypes.SELECT,
        replacements: { name: 'Default' },
      }))[0]!;
      const account = (contactId: number, email: string, enabled: boolean, failures: number, locked: Date | null) =>
        t.host.database.sequelize.query(
          `INSERT INTO bp_portal_accounts (contact_id, email, portal_enabled, profile_id, failed_attempts, last_failed_at, last_failed_ip, locked_at, must_change_password, created_at, updated_at, version)
           VALUES (:contactId, :email, :enabled, :profile, :failures, :last, :ip, :locked, :no, :now, :now, 1)`,
          {
            replacements: {
              contactId, email, enabled, failures, locked, profile: defaultId, no: false, now: new Date(),
              last: failures ? new Date('2026-11-20T09:30:00Z') : null, ip: failures ? '203.0.113.7' : null,
            },
          },
        );
      await account(101, 'locked@example.com', true, 5, new Date('2026-11-20T09:30:00Z'));
      await account(102, 'fine@example.com', true, 2, null);
      await account(103, 'off@example.com', false, 0, null);

      const res = await get('/settings/business-portal/login-check', admin);
      expect(res.status).to.equal(200);
      const html = await res.text();
      expect(html).to.include('locked@example.com');
      expect(html).to.include('Contact #101');
      expect(html).to.include('203.0.113.7');
      expect(html).to.match(/data-label="Failed attempts">5</);
      expect(html).to.include('datetime="2026-11-20T09:30:00.000Z"');
      // Shown in the CRM's time zone (Europe/Rome in the test host).
      expect(html).to.match(/Nov 20, 2026, 10:30\sAM/);
      // Not locked: only among the recent failures, never in the locked list.
      const lockedSection = html.slice(html.indexOf('bp-locked-heading'), html.indexOf('bp-banned-heading'));
      expect(lockedSection).to.include('locked@example.com').and.not.to.include('fine@example.com');
      expect(html.slice(html.indexOf('bp-failing-heading'))).to.include('fine@example.com');
      // Without the auth capability (not loaded here) there is nothing to unlock with.
      expect(html).not.to.include('/login-check/unlock');

      // The profiles list counts the contacts whose portal access is on.
      const home = await (await get('/settings/business-portal', admin)).text();
      expect(home).to.match(/<td[^>]*>Default<\/td>\s*<td[^>]*>[^<]+<\/td>\s*<td[^>]*>2<\/td>/);
    });

    it('answers unknown admin paths with a 404 page and faults with a generic 500', async () => {
      const missing = await get('/settings/business-portal/nope', admin);
      expect(missing.status).to.equal(404);
      expectSecurityHeaders(missing, 'admin 404', PLUGIN_CSP);
      const fault = await get('/settings/business-portal/probe/fault', admin);
      expect(fault.status).to.equal(500);
      expectSecurityHeaders(fault, 'admin 500', PLUGIN_CSP);
      const html = await fault.text();
      expect(html).to.include('Something went wrong');
      expect(html).not.to.include('bp_secret_table');
      expect(html).not.to.match(/at .*\.ts:\d+/);
      expect(t.logs.some((l) => l.level === 'error' && String(l.fields?.error).includes('bp_secret_table'))).to.equal(true);
    });

    it('refuses admin POSTs without the CSRF token of the session', async () => {
      const post = (cookie: string, body: string) =>
        fetch(`${t.url}/settings/business-portal/probe/echo`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
      const html = await (await get('/settings/business-portal', admin)).text();
      expect(html).not.to.include('_csrf');
      // The token is what the CSRF service issues for the session: take it from another page render.
      const { HmacCsrfTokens } = await import('../../plugin/http/csrf.js');
      const { DerivedPluginKeys } = await import('../../plugin/http/plugin-keys.js');
      const settings = { manifest: { id: 'business-portal' }, portalPath: '/portal', settingsPath: '/settings/business-portal' };
      const tokens = new HmacCsrfTokens(new DerivedPluginKeys(t.host.installation, settings as never));
      const sessionOf = async (cookie: string) => (await t.host.http.crmSession({ headers: { cookie } } as never))!;
      const good = tokens.issue(await sessionOf(admin));
      const foreign = tokens.issue(await sessionOf(italianAdmin));

      expect((await post(admin, 'a=1')).status).to.equal(403);
      expect((await post(admin, `a=1&_csrf=${foreign}`)).status).to.equal(403);
      expect((await post(admin, `a=1&_csrf=${good}x`)).status).to.equal(403);
      const refused = await post(admin, 'a=1');
      expect(await refused.text()).to.include('The form has expired');
      const accepted = await post(admin, `a=1&_csrf=${good}`);
      expect(accepted.status).to.equal(200);
      expect(await accepted.text()).to.equal('posted');
      // Anonymous POSTs go to the login like GETs, never reaching the route.
      expect((await fetch(`${t.url}/settings/business-portal/probe/echo`, { method: 'POST', redirect: 'manual' })).status).to.equal(303);
    });

    it('answers the API index with security headers', async () => {
      const res = await get('/portal/api/v1');
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ name: 'Business Portal API', version: '1', openapi: '/portal/api/v1/openapi.json' });
      expectSecurityHeaders(res, 'API index', PLUGIN_CSP);
    });

    it('answers unknown API routes with a JSON 404 in the caller language', async () => {
      const res = await get('/portal/api/v1/nothing/here', undefined, { 'accept-language': 'it-IT,it;q=0.9' });
      expect(res.status).to.equal(404);
      expectSecurityHeaders(res, 'API 404', PLUGIN_CSP);
      expect(await res.json()).to.deep.equal({ error: { code: 'not_found', message: 'Questo indirizzo dell’API non esiste.' } });
      const chosen = await get('/portal/api/v1/nothing', 'bp_lang=en', { 'accept-language': 'it' });
      expect(((await chosen.json()) as { error: { message: string } }).error.message).to.equal('This API route does not exist.');
    });

    it('answers malformed and oversized JSON with 400 and 413, not 500', async () => {
      const post = (body: string) => fetch(`${t.url}/portal/api/v1/probe/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const bad = await post('{"email": ');
      expect(bad.status).to.equal(400);
      expectSecurityHeaders(bad, 'API 400', PLUGIN_CSP);
      expect(await bad.json()).to.deep.equal({ error: { code: 'invalid_json', message: 'The request body is not valid JSON.' } });
      const big = await post(JSON.stringify({ x: 'a'.repeat(1_100_000) }));
      expect(big.status).to.equal(413);
      expect(((await big.json()) as { error: { code: string } }).error.code).to.equal('payload_too_large');
      const good = await post('{"a":[1,2]}');
      expect(await good.json()).to.deep.equal({ got: { a: [1, 2] } });
    });

    it('answers faults with a generic 500 that leaks nothing, and logs them', async () => {
      const res = await get('/portal/api/v1/probe/fault');
      expect(res.status).to.equal(500);
      expectSecurityHeaders(res, 'API 500', PLUGIN_CSP);
      const body = await res.text();
      expect(JSON.parse(body)).to.deep.equal({ error: { code: 'internal_error', message: 'Something went wrong on our side. Please try again later.' } });
      const page = await get('/portal/probe/fault');
      expect(page.status).to.equal(500);
      expectSecurityHeaders(page, 'portal 500', PLUGIN_CSP);
      expect(await page.text()).not.to.include('bp_secret_table');
      expect(t.logs.filter((l) => l.level === 'error' && String(l.fields?.error).includes('bp_secret_table')).length).to.be.at.least(2);
    });

    it('titles the page of a refused request as such, in the visitor’s language, not with its message twice', async () => {
      const portal = async (language: string) => {
        const res = await get('/portal/probe/refused/%E0%A4%A', undefined, { 'accept-language': language });
        expect(res.status).to.equal(400);
        return res.text();
      };
      expect(await portal('en')).to.include('<title>Error: Bad request · Customer portal</title>').and.include('<h1>Bad request</h1>').and.include('<p>The request is not valid.</p>');
      expect(await portal('it')).to.include('<title>Errore: Richiesta non valida · Portale clienti</title>').and.include('<h1>Richiesta non valida</h1>').and.include('<p>La richiesta non è valida.</p>');
      const admin400 = await get('/settings/business-portal/probe/refused/%E0%A4%A', italianAdmin);
      expect(admin400.status).to.equal(400);
      const html = await admin400.text();
      expect(html).to.include('Richiesta non valida').and.include('<p>La richiesta non è valida.</p>');
      expect(html.split('La richiesta non è valida.').length - 1, 'the message once').to.equal(1);
    });

    it('answers unknown portal pages with its own 404 page and serves its assets', async () => {
      const res = await get('/portal/no-such-page');
      expect(res.status).to.equal(404);
      expectSecurityHeaders(res, 'portal 404', PLUGIN_CSP);
      // Handlebars writes the `=` of an address as `&#x3D;` (the browser reads it back).
      const version = /<link rel="stylesheet" href="\/portal\/assets\/portal\.css\?v&#x3D;([0-9a-f]{12})">/.exec(await res.text())?.[1];
      expect(version, 'the 404 page links the stylesheet with its version').to.be.a('string');
      const css = await get(`/portal/assets/portal.css?v=${version!}`);
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.match(/^text\/css/);
      expectSecurityHeaders(css, 'asset', PLUGIN_CSP, 'public, max-age=31536000, immutable');
      expect((await get('/portal/assets/../package.json')).status).to.equal(404);
      expect((await get('/portal/assets/%2e%2e/portal-module.ts')).status).to.equal(404);
    });
  });

  describe('on an install upgraded from a release with the version 1 portal', () => {
    before(() => start({ kind: 'upgraded', fromRelease: '7.3.1', hadPortalVersion1: true }));
    after(() => stop());

    it('keeps version 1 and says where it came from', async () => {
      const html = await (await get('/settings/business-portal', admin)).text();
      expect(html).to.include('Version 1');
      expect(html).to.include('upgraded from release 7.3.1, which used the version 1 (classic) portal');
    });
  });
});
