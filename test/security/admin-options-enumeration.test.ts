/**
 * OPTIONS on the admin pages must not tell anyone but an administrator which admin routes exist.
 * A signed-out GET of any path under the admin pages goes to the CRM login, a CRM user who is no
 * admin gets 403 — whether a route is there or not. OPTIONS from them must be answered the same
 * way for a path some route has (found by walking the routers) and for one none has: no `Allow`,
 * no 200 against 404 to tell them apart. An administrator gets Express's answer (200 with
 * `Allow`, 404 for a path no route has), and no one gets an `Access-Control-*` header.
 */
import { expect } from 'chai';
import { hashPassword } from '../../host/users/password-hash.js';
import { portalLogin } from '../portal-api/api-test-kit.js';
import { crmLogin, startTestHost, TEST_ADMIN_PASSWORD, type TestHost } from '../support/host.js';
import { mountedRoutes } from './route-walk.js';

const SETTINGS = '/settings/business-portal';
const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-options-password-1';

interface Seen {
  readonly status: number;
  readonly allow: string | null;
  readonly location: string | null;
  readonly cors: string[];
}

describe('admin pages: OPTIONS tells no one but an admin which routes exist @db', function () {
  this.timeout(180_000);
  let test: TestHost;
  let who: [string, Record<string, string>][];
  let admin: string;
  let existing: string[];
  const missing = [`${SETTINGS}/nothing-here`, `${SETTINGS}/profiles/1/nothing-here`, `${SETTINGS}/login-check/nothing`, `${SETTINGS}/assets/nothing.css`, `${SETTINGS}/profiles/1/privileges/modules/1/more`];

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    const api = test.host.api;
    for (const [name, password] of [['admin', TEST_ADMIN_PASSWORD], [CLERK, CLERK_PASSWORD]] as const) {
      await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', { replacements: { hash: await hashPassword(password), name } });
    }
    admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    const clerk = await crmLogin(test.url, CLERK, CLERK_PASSWORD);
    const customer = await portalLogin(test, 'jane.doe@example.com');
    who = [
      ['signed out', {}],
      ['portal customer', { cookie: customer }],
      ['CRM user who is no admin', { cookie: clerk }],
      ['signed out, asking for JSON', { accept: 'application/json' }],
    ];
    existing = [...new Set(mountedRoutes(test.host).filter((r) => r.mount === SETTINGS).map((r) => r.path))];
    expect(existing.length, 'admin routes found by the walk').to.be.greaterThan(10);
  });
  after(async () => test?.stop());

  const ask = async (method: string, path: string, headers: Record<string, string>): Promise<Seen> => {
    const response = await fetch(`${test.url}${path}`, { method, redirect: 'manual', headers });
    await response.arrayBuffer();
    const location = response.headers.get('location');
    return {
      status: response.status,
      allow: response.headers.get('allow'),
      // Where it sends them, without the path they asked for (which comes back as `returnTo`).
      location: location === null ? null : new URL(location, test.url).pathname,
      cors: [...response.headers.keys()].filter((name) => name.startsWith('access-control-')),
    };
  };

  it('signed out, a portal customer and a CRM user who is no admin get one answer for every path, as their GET: no Allow, no 200/404 oracle', async () => {
    for (const [name, headers] of who) {
      const answers = new Map<string, string>();
      for (const path of [...existing, ...missing]) {
        const options = await ask('OPTIONS', path, headers);
        const get = await ask('GET', path, headers);
        expect(options.cors, `${name} ${path}`).to.deep.equal([]);
        expect(options.allow, `${name} ${path}: Allow`).to.equal(null);
        expect({ status: options.status, location: options.location }, `${name} OPTIONS ${path} as its GET`).to.deep.equal({ status: get.status, location: get.location });
        answers.set(path, JSON.stringify(options));
      }
      expect(new Set(answers.values()).size, `${name}: ${[...new Set(answers.values())].join(' | ')}`).to.equal(1);
    }
  });

  it('an administrator gets Express’s answer: 200 with Allow for a path some route has, 404 for one none has, no CORS header', async () => {
    for (const path of existing) {
      const answer = await ask('OPTIONS', path, { cookie: admin });
      expect(answer.status, path).to.equal(200);
      expect(answer.allow, path).to.match(/^(GET|HEAD|POST|PUT|DELETE)(, (GET|HEAD|POST|PUT|DELETE))*$/);
      expect(answer.cors, path).to.deep.equal([]);
    }
    for (const path of missing) expect((await ask('OPTIONS', path, { cookie: admin })).status, path).to.equal(404);
  });
});
