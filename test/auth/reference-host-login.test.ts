/**
 * The login API attacked over HTTP on the reference host with its demo data, by two hosts that
 * share one database (two connection pools, two plugin instances), as two processes would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { DEMO_PORTAL_PASSWORD, seedDemoData } from '../../host/demo/demo-data.js';
import { createReferenceHost, type ReferenceHost } from '../../host/reference-host.js';
import { LOCK_AFTER_FAILURES } from '../../plugin/auth/lockout.js';
import { TEST_ADMIN_PASSWORD, crmLogin, startTestHost, type TestHost } from '../support/host.js';

const JANE = 'jane.doe@example.com';
const MARIO = 'mario.rossi@example.com';

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/portal/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

function sessionOf(response: Response): string {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('bp_session='));
  if (!header) throw new Error(`No session cookie (HTTP ${response.status})`);
  return header.split(';')[0]!;
}

async function observable(response: Response) {
  const headers = [...response.headers.entries()].filter(([name]) => name !== 'date').sort(([a], [b]) => a.localeCompare(b));
  return { status: response.status, headers, body: await response.text() };
}

describe('auth: login on the reference host, two hosts on one database @db', function () {
  this.timeout(120_000);
  let first: TestHost;
  let second: ReferenceHost;
  let secondUrl: string;
  let secondDir: string;
  let sequelize: Sequelize;

  const sql = <T extends object>(query: string, replacements: Record<string, unknown> = {}) =>
    sequelize.query<T>(query, { type: QueryTypes.SELECT, replacements });
  const exec = async (query: string, replacements: Record<string, unknown> = {}) => void (await sequelize.query(query, { replacements }));
  const contactIdOf = async (email: string) => Number((await sql<{ contact_id: unknown }>('SELECT contact_id FROM bp_portal_accounts WHERE email = :email', { email }))[0]!.contact_id);

  before(async () => {
    first = await startTestHost();
    await seedDemoData(first.host);
    secondDir = mkdtempSync(join(tmpdir(), 'bp-host-b-'));
    second = await createReferenceHost({
      databaseUrl: first.host.options.databaseUrl,
      dataDir: secondDir,
      logLevel: 'silent',
      sessionSecret: randomBytes(32).toString('base64url'),
      demo: false,
      watchRegistryMs: 0,
    });
    await second.start();
    secondUrl = (await second.listen(0)).url;
    sequelize = first.host.api.database.sequelize;
  });
  after(async () => {
    await second?.close();
    if (secondDir) rmSync(secondDir, { recursive: true, force: true });
    await first?.stop();
  });

  it('the demo customers sign in; a session made by one host is honoured, and ended, by the other', async () => {
    const response = await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD });
    expect(response.status).to.equal(200);
    const { contact } = (await response.json()) as { contact: Record<string, unknown> };
    expect(contact).to.include({ firstName: 'Jane', lastName: 'Doe', email: JANE, language: 'en', mustChangePassword: false });
    expect(contact.profile).to.include({ name: 'Default' });
    const cookie = sessionOf(response);

    const elsewhere = await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie } });
    expect(elsewhere.status).to.equal(200);
    expect(((await elsewhere.json()) as { contact: { email: string } }).contact.email).to.equal(JANE);

    expect((await fetch(`${secondUrl}/portal/api/v1/auth/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' } })).status).to.equal(204);
    expect((await fetch(`${first.url}/portal/api/v1/me`, { headers: { cookie } })).status).to.equal(401);

    const italian = await post(secondUrl, { email: MARIO, password: DEMO_PORTAL_PASSWORD });
    expect(italian.status).to.equal(200);
  });

  it('cookie flags: HttpOnly, SameSite=Lax, the portal path, and Secure behind an HTTPS proxy', async () => {
    const plain = (await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD })).headers.getSetCookie().find((c) => c.startsWith('bp_session='))!;
    expect(plain).to.match(/; Path=\/portal(;|$)/).and.match(/; HttpOnly/).and.match(/; SameSite=Lax/);
    expect(plain).not.to.match(/Secure/);
    const proxied = await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD }, { 'x-forwarded-proto': 'https' });
    expect(proxied.headers.getSetCookie().find((c) => c.startsWith('bp_session='))).to.match(/; Secure/);
  });

  it('session fixation: a planted cookie stays useless after the login', async () => {
    const planted = `bp_session=${randomBytes(32).toString('base64url')}`;
    const response = await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD }, { cookie: planted });
    expect(sessionOf(response)).not.to.equal(planted);
    expect((await fetch(`${first.url}/portal/api/v1/me`, { headers: { cookie: planted } })).status).to.equal(401);
  });

  it('cookie tossing: a session of another account planted on a sub-path is never served beside the customer\'s, and stops working', async () => {
    // Planted by a sibling site on a path under the portal (say /portal/api): the login, on another
    // path, never sees it, and on that path the browser sends it first, before the customer's own.
    const planted = sessionOf(await post(secondUrl, { email: MARIO, password: DEMO_PORTAL_PASSWORD }));
    const own = sessionOf(await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD }));
    const both = await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie: `${planted}; ${own}` } });
    expect(both.status).to.equal(401);
    expect((await fetch(`${first.url}/portal/api/v1/me`, { headers: { cookie: planted } })).status).to.equal(401);
    // Signed in again, the customer's new cookie works beside the dead one, wherever it is sent.
    const again = sessionOf(await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD }));
    for (const cookie of [`${planted}; ${again}`, `${again}; ${planted}`]) {
      const response = await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie } });
      expect(response.status).to.equal(200);
      expect(((await response.json()) as { contact: { email: string } }).contact.email).to.equal(JANE);
    }
  });

  it('a tossed cookie that names no session neither signs the customer out nor in', async () => {
    const own = sessionOf(await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD }));
    const junk = `bp_session=${randomBytes(32).toString('base64url')}`;
    for (const cookie of [`${junk}; ${own}`, `${own}; ${junk}`]) {
      expect((await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie } })).status).to.equal(200);
    }
    expect((await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie: junk } })).status).to.equal(401);
  });

  it('a login ends every session its request brought along, and a logout every session it names', async () => {
    const mario = sessionOf(await post(secondUrl, { email: MARIO, password: DEMO_PORTAL_PASSWORD }));
    const jane = sessionOf(await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD }));
    const fresh = sessionOf(await post(secondUrl, { email: JANE, password: DEMO_PORTAL_PASSWORD }, { cookie: `${mario}; ${jane}` }));
    expect((await fetch(`${first.url}/portal/api/v1/me`, { headers: { cookie: mario } })).status).to.equal(401);
    expect((await fetch(`${first.url}/portal/api/v1/me`, { headers: { cookie: jane } })).status).to.equal(401);
    const other = sessionOf(await post(secondUrl, { email: MARIO, password: DEMO_PORTAL_PASSWORD }));
    const out = await fetch(`${first.url}/portal/api/v1/auth/logout`, { method: 'POST', headers: { cookie: `${other}; ${fresh}`, 'content-type': 'application/json' } });
    expect(out.status).to.equal(204);
    expect((await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie: other } })).status).to.equal(401);
    expect((await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie: fresh } })).status).to.equal(401);
  });

  it('portal and CRM sessions are never accepted by each other\'s routes, whatever the cookie\'s name, on either host', async () => {
    const crm = await crmLogin(first.url, 'admin', TEST_ADMIN_PASSWORD);
    const portal = sessionOf(await post(secondUrl, { email: JANE, password: DEMO_PORTAL_PASSWORD }));
    const token = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1);
    for (const url of [first.url, secondUrl]) {
      expect((await fetch(`${url}/portal/api/v1/me`, { headers: { cookie: crm } })).status).to.equal(401);
      expect((await fetch(`${url}/portal/api/v1/me`, { headers: { cookie: `bp_session=${token(crm)}` } })).status).to.equal(401);
      for (const cookie of [portal, `crm_sid=${token(portal)}`]) {
        for (const path of ['/', '/settings/business-portal']) {
          const response = await fetch(`${url}${path}`, { headers: { cookie }, redirect: 'manual' });
          expect(response.status, `${path} with ${cookie.slice(0, 10)}`).to.equal(303);
          expect(response.headers.get('location')).to.match(/^\/login/);
        }
      }
      // Each where it belongs: the refusals above are the cookie's, not the route's.
      expect((await fetch(`${url}/settings/business-portal`, { headers: { cookie: crm }, redirect: 'manual' })).status).to.equal(200);
      expect((await fetch(`${url}/portal/api/v1/me`, { headers: { cookie: portal } })).status).to.equal(200);
      // Both at once: each side takes only its own.
      const me = await fetch(`${url}/portal/api/v1/me`, { headers: { cookie: `${crm}; ${portal}` } });
      expect(((await me.json()) as { contact: { email: string } }).contact.email).to.equal(JANE);
    }
  });

  it('portal switched off: the session stops working at the next request, on every host', async () => {
    const cookie = sessionOf(await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD }));
    const jane = await contactIdOf(JANE);
    await exec('UPDATE bp_portal_accounts SET portal_enabled = :no WHERE contact_id = :jane', { no: false, jane });
    try {
      expect((await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie } })).status).to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :jane', { jane })).to.have.length(0);
    } finally {
      await exec('UPDATE bp_portal_accounts SET portal_enabled = :yes WHERE contact_id = :jane', { yes: true, jane });
    }
    expect((await fetch(`${first.url}/portal/api/v1/me`, { headers: { cookie } })).status).to.equal(401);
  });

  it('support that ended and is renewed through one host: the sessions from before stay dead on the other, remembered ones included', async () => {
    const jane = await contactIdOf(JANE);
    const remembered = sessionOf(await post(secondUrl, { email: JANE, password: DEMO_PORTAL_PASSWORD, remember: true }));
    const plain = sessionOf(await post(first.url, { email: JANE, password: DEMO_PORTAL_PASSWORD }));
    const [before] = await sql<{ support_start_date: unknown; support_end_date: unknown }>(
      'SELECT support_start_date, support_end_date FROM bp_portal_accounts WHERE contact_id = :jane',
      { jane },
    );
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    // The support period ends (its last day passes) while the customer is away: no request in between.
    await exec('UPDATE bp_portal_accounts SET support_start_date = :start, support_end_date = :end WHERE contact_id = :jane', { start: day(-400), end: day(-2), jane });
    try {
      // An admin renews it on the Contact record, through the first host.
      const admin = await crmLogin(first.url, 'admin', TEST_ADMIN_PASSWORD);
      const page = await (await fetch(`${first.url}/contacts/${jane}`, { headers: { cookie: admin } })).text();
      const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(page)![0];
      const profileId = /<option value="(\d*)"[^>]*selected/.exec(form)?.[1] ?? '';
      const saved = await fetch(`${first.url}/settings/business-portal/contacts/${jane}/portal-user`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: admin },
        body: new URLSearchParams({
          _csrf: /name="_csrf" value="([^"]+)"/.exec(form)![1]!,
          version: /name="version" value="(\d+)"/.exec(form)![1]!,
          portalUser: 'yes',
          profileId,
          supportStartDate: day(-1),
          supportEndDate: day(365),
        }).toString(),
      });
      expect(saved.status).to.equal(200);
      expect(await saved.text()).to.include('The portal access settings were saved.');
      expect(await sql('SELECT contact_id FROM bp_portal_accounts WHERE contact_id = :jane AND support_end_date = :end', { jane, end: day(365) })).to.have.length(1);
      for (const cookie of [remembered, plain]) {
        expect((await fetch(`${secondUrl}/portal/api/v1/me`, { headers: { cookie } })).status).to.equal(401);
      }
      expect((await post(secondUrl, { email: JANE, password: DEMO_PORTAL_PASSWORD })).status).to.equal(200);
    } finally {
      await exec('UPDATE bp_portal_accounts SET support_start_date = :start, support_end_date = :end WHERE contact_id = :jane', {
        start: before!.support_start_date,
        end: before!.support_end_date,
        jane,
      });
    }
  });

  it(`50 parallel wrong passwords across both hosts: exactly ${LOCK_AFTER_FAILURES} checked and counted, then locked; the right password is refused`, async () => {
    const mario = await contactIdOf(MARIO);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post(i % 2 === 0 ? first.url : secondUrl, { email: MARIO, password: `guess-${i}` })),
    );
    expect(responses.map((r) => r.status)).to.deep.equal(Array(50).fill(401));

    const [account] = await sql<{ failed_attempts: unknown; locked_at: unknown }>('SELECT failed_attempts, locked_at FROM bp_portal_accounts WHERE contact_id = :mario', { mario });
    expect(Number(account!.failed_attempts)).to.equal(LOCK_AFTER_FAILURES);
    expect(account!.locked_at).not.to.equal(null);
    // A `wrong_password` row is written only after a real hash comparison: these are the checks that ran.
    const reasons = await sql<{ reason: string }>("SELECT reason FROM bp_login_history WHERE contact_id = :mario AND event = 'failed'", { mario });
    expect(reasons.filter((r) => r.reason === 'wrong_password')).to.have.length(LOCK_AFTER_FAILURES);
    expect(reasons).to.have.length(50);
    expect(await sql("SELECT id FROM bp_login_history WHERE contact_id = :mario AND event = 'locked'", { mario })).to.have.length(1);

    for (const url of [first.url, secondUrl]) expect((await post(url, { email: MARIO, password: DEMO_PORTAL_PASSWORD })).status).to.equal(401);
  });

  it('unknown email, wrong password, locked, outside support and portal off give byte-identical answers', async () => {
    // Two more demo customers, one switched off and one whose support ended.
    const others = await sql<{ contact_id: unknown; email: string }>('SELECT contact_id, email FROM bp_portal_accounts WHERE email NOT IN (:known) ORDER BY contact_id', {
      known: [JANE, MARIO],
    });
    expect(others.length).to.be.at.least(2);
    const [off, late] = others;
    await exec('UPDATE bp_portal_accounts SET portal_enabled = :no WHERE contact_id = :id', { no: false, id: Number(off!.contact_id) });
    await exec("UPDATE bp_portal_accounts SET support_start_date = '2020-01-01', support_end_date = '2020-12-31' WHERE contact_id = :id", { id: Number(late!.contact_id) });

    const answers = [
      await observable(await post(first.url, { email: 'nobody@example.com', password: DEMO_PORTAL_PASSWORD })),
      await observable(await post(first.url, { email: JANE, password: 'not-her-password' })),
      await observable(await post(first.url, { email: MARIO, password: DEMO_PORTAL_PASSWORD })), // locked above
      await observable(await post(first.url, { email: late!.email, password: DEMO_PORTAL_PASSWORD })),
      await observable(await post(first.url, { email: off!.email, password: DEMO_PORTAL_PASSWORD })),
    ];
    expect(answers[0]!.status).to.equal(401);
    expect(JSON.parse(answers[0]!.body).error.code).to.equal('invalid_credentials');
    for (const answer of answers) expect(answer).to.deep.equal(answers[0]);
  });

  it('every kind of refusal takes about as long as a refused password: none skips the hash (medians within 10 ms, or the quickest at least half the slowest)', async () => {
    const jane = await contactIdOf(JANE);
    const late = (await sql<{ email: string }>("SELECT email FROM bp_portal_accounts WHERE support_end_date = '2020-12-31'"))[0]!.email;
    const off = (await sql<{ email: string }>('SELECT email FROM bp_portal_accounts WHERE portal_enabled = :no', { no: false }))[0]!.email;
    const kinds: Record<string, { email: string; password: string }> = {
      unknownEmail: { email: 'nobody@example.com', password: 'some-guess-1' },
      wrongPassword: { email: JANE, password: 'some-guess-1' },
      locked: { email: MARIO, password: 'some-guess-1' },
      outsideSupport: { email: late, password: 'some-guess-1' },
      portalOff: { email: off, password: 'some-guess-1' },
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
    for (let round = 0; round < 7; round++) {
      // Keep Jane below the lock and the address below its ban: only the timing is under test here.
      await exec('UPDATE bp_portal_accounts SET failed_attempts = 0 WHERE contact_id = :jane', { jane });
      await exec('DELETE FROM bp_client_failures');
      for (const [kind, body] of Object.entries(kinds)) {
        const started = performance.now();
        const response = await post(first.url, body);
        await response.arrayBuffer();
        times[kind]!.push(performance.now() - started);
        expect(response.status).to.equal(401);
      }
    }
    const medians = Object.values(times).map((xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
    // An oracle would be a refusal that skips the password hash, which is most of a refusal's time:
    // such a refusal takes a few milliseconds where the others take the hash's tens. So the medians
    // lie 10 ms apart at most, or — where a loaded machine makes every refusal slower and noisier
    // (seen: 150-180 ms each with two suites beside it, and 39 against 57 ms with eight) — the
    // quickest takes at least half as long as the slowest, which a refusal without the hash cannot.
    const [quickest, slowest] = [Math.min(...medians), Math.max(...medians)];
    expect(slowest - quickest < 10 || quickest >= slowest / 2, JSON.stringify(times)).to.equal(true);
  });
});
