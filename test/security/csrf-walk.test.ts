/**
 * SECURITY.md, CSRF: walk the plugin's routers and send every non-GET route no token and another
 * session's token → 403 and no change in the database. JSON API routes take only
 * `application/json` (which a cross-site form or a "simple" request cannot send): a text/plain or
 * form body is refused and changes nothing.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { crmLogin, startTestHost, type TestHost } from '../support/host.js';

/** In demo mode the reference host's admin has the demo password. */
const DEMO_ADMIN_PASSWORD = 'Admin-demo-1';
import { mountedRoutes, type MountedRoute } from './route-walk.js';

const API = '/portal/api/v1/';

/**
 * Routes whose credential is a single-use secret carried in the body (the emailed unlock link): a
 * forged POST cannot carry the secret, so without it they refuse with 400, as for a dead link.
 */
const SECRET_IN_BODY: ReadonlySet<string> = new Set(['POST /portal/unlock']);

/** Portal pages that take a file: their form is multipart, and another body is refused before the token is read. */
const UPLOADS: ReadonlySet<string> = new Set(['POST /portal/m/1/1/documents']);

describe('CSRF on every state-changing route the plugin mounts @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let routes: readonly MountedRoute[];
  let adminA: string;
  let adminB: string;
  let portal: string;

  /** Every row of every bp_ table, so that "nothing changed" means nothing at all. */
  async function snapshot(): Promise<string> {
    const db = test.host.api.database;
    const tables = (await db.sequelize.getQueryInterface().showAllTables()).map((t) => (typeof t === 'string' ? t : (t as { tableName: string }).tableName));
    const parts: string[] = [];
    for (const table of tables.filter((t) => t.startsWith('bp_') && t !== 'bp_sessions').sort()) {
      const quoted = db.sequelize.getQueryInterface().quoteIdentifier(table);
      parts.push(table, JSON.stringify(await db.sequelize.query(`SELECT * FROM ${quoted}`, { type: QueryTypes.SELECT })));
    }
    return parts.join('\n');
  }

  async function tokenOf(cookie: string): Promise<string> {
    const html = await (await fetch(`${test.url}/settings/business-portal/profiles/new`, { headers: { cookie } })).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!token) throw new Error('no admin CSRF token on the New profile page');
    return token;
  }

  before(async () => {
    test = await startTestHost({ demo: true });
    routes = mountedRoutes(test.host).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    adminA = await crmLogin(test.url, 'admin', DEMO_ADMIN_PASSWORD);
    adminB = await crmLogin(test.url, 'admin', DEMO_ADMIN_PASSWORD);
    const login = await fetch(`${test.url}/portal/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'jane.doe@example.com', password: 'Portal-demo-1' }),
    });
    expect(login.status).to.equal(200);
    portal = /bp_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
  });

  after(async () => test?.stop());

  it('finds the plugin routes to attack', function () {
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    expect(paths).to.include.members(['POST /portal/api/v1/auth/login', 'POST /portal/login', 'POST /settings/business-portal/login-check/unlock']);
  });

  it('refuses every admin write without a token, and with another session’s token, changing nothing', async () => {
    const foreignToken = await tokenOf(adminA);
    const before = await snapshot();
    for (const route of routes.filter((r) => r.mount === '/settings/business-portal')) {
      for (const [what, body] of [
        ['no token', new URLSearchParams({ name: 'x' })],
        ['another session’s token', new URLSearchParams({ _csrf: foreignToken, name: 'x' })],
      ] as const) {
        const res = await fetch(`${test.url}${route.path}`, {
          method: route.method,
          redirect: 'manual',
          headers: { cookie: adminB, 'content-type': 'application/x-www-form-urlencoded' },
          body: body.toString(),
        });
        expect(res.status, `${route.method} ${route.path} with ${what}`).to.equal(403);
      }
    }
    expect(await snapshot()).to.equal(before);
  });

  it('refuses every portal form without a token, signed in or not, changing nothing', async () => {
    const before = await snapshot();
    for (const route of routes.filter((r) => r.mount === '/portal' && !r.path.startsWith(API))) {
      for (const cookie of ['', portal]) {
        const key = `${route.method} ${route.path}`;
        // The body the route's form sends (fetch gives FormData its multipart type and boundary).
        const fields = { email: 'jane.doe@example.com', password: 'Portal-demo-1', language: 'it' };
        const form = new FormData();
        for (const [name, value] of Object.entries(fields)) form.append(name, value);
        const res = await fetch(`${test.url}${route.path}`, {
          method: route.method,
          redirect: 'manual',
          ...(UPLOADS.has(key) ? { headers: { cookie }, body: form } : { headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() }),
        });
        // Where answering changes nothing, a form left open goes on instead: a login while signed in
        // goes where that login would, a logout without a session to the login (the snapshot below
        // checks that nothing changed).
        const harmless = (key === 'POST /portal/login' && cookie !== '') || (key === 'POST /portal/logout' && cookie === '');
        const expected = harmless ? 303 : SECRET_IN_BODY.has(key) ? 400 : 403;
        expect(res.status, `${key} ${cookie ? 'signed in' : 'anonymous'}`).to.equal(expected);
      }
    }
    expect(await snapshot()).to.equal(before);
  });

  it('takes only JSON on every API write: a cross-site simple request changes nothing', async () => {
    const before = await snapshot();
    for (const route of routes.filter((r) => r.path.startsWith(API))) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await fetch(`${test.url}${route.path}`, {
          method: route.method,
          redirect: 'manual',
          headers: { cookie: portal, 'content-type': type },
          body: JSON.stringify({ email: 'jane.doe@example.com', password: 'Portal-demo-1' }),
        });
        expect(res.status, `${route.method} ${route.path} as ${type}`).to.be.oneOf([400, 401, 403, 415]);
      }
    }
    expect(await snapshot()).to.equal(before);
    // …and the session those requests carried is still alive: nothing logged it out.
    const me = await fetch(`${test.url}/portal/api/v1/me`, { headers: { cookie: portal } });
    expect(me.status).to.equal(200);
  });
});
