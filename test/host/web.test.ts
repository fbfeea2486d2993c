import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { createReferenceHost } from '../../host/reference-host.js';
import { SqlUserDirectory } from '../../host/users/user-directory.js';
import { scratchDatabase } from '../support/database.js';
import { TEST_ADMIN_PASSWORD, crmLogin, crmLoginForm, startTestHost, type TestHost } from '../support/host.js';
import { writeFakePlugin } from './fake-plugin-fixture.js';
import { expectSecurityHeaders } from '../support/expectations.js';

const AGENT = 'tom.support';
const AGENT_PASSWORD = 'Agent-test-password-1';
const XSS = '<script>alert(1)</script>';

function setCookies(response: Response): string[] {
  return response.headers.getSetCookie();
}

describe('reference host web @db', () => {
  let test: TestHost;
  let pluginDir: string;
  let admin: string;
  let agent: string;

  before(async () => {
    const fake = writeFakePlugin();
    pluginDir = fake.dir;
    test = await startTestHost({ pluginManifests: [fake.manifest] });
    await new SqlUserDirectory(test.host.api.database.sequelize).setPassword(AGENT, AGENT_PASSWORD);
    admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    agent = await crmLogin(test.url, AGENT, AGENT_PASSWORD);
  });
  after(async () => {
    await test?.stop();
    rmSync(pluginDir, { recursive: true, force: true });
  });

  const get = (path: string, cookie?: string, headers: Record<string, string> = {}) =>
    fetch(`${test.url}${path}`, { redirect: 'manual', headers: { ...headers, ...(cookie ? { cookie } : {}) } });
  const postForm = (path: string, form: Record<string, string>, cookie?: string, headers: Record<string, string> = {}) =>
    fetch(`${test.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers, ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(form).toString(),
    });

  it('answers /healthz once started; /readyz also only while the database answers, without details', async () => {
    const response = await get('/healthz');
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ready' });
    expectSecurityHeaders(ready, '/readyz');

    const database = await scratchDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'bp-host-'));
    const host = await createReferenceHost({ databaseUrl: database.url, dataDir, logLevel: 'silent', pluginManifests: [], adminPassword: TEST_ADMIN_PASSWORD });
    try {
      const { url } = await host.listen(0);
      expect((await fetch(`${url}/healthz`)).status).to.equal(503);
      const starting = await fetch(`${url}/readyz`);
      expect(starting.status).to.equal(503);
      expect(await starting.json()).to.deep.equal({ status: 'starting' });
      await host.start();
      expect((await fetch(`${url}/healthz`)).status).to.equal(200);
      expect((await fetch(`${url}/readyz`)).status).to.equal(200);
      // The database goes away under the running host: the process is up, it cannot serve.
      await host.api.database.sequelize.close();
      const down = await fetch(`${url}/readyz`);
      expect(down.status).to.equal(503);
      expect(await down.text()).to.equal(JSON.stringify({ status: 'database unavailable' }));
      expect((await fetch(`${url}/healthz`)).status, 'healthz: the process is up').to.equal(200);
    } finally {
      await host.close().catch(() => undefined);
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names an icon on every CRM page, served as SVG, so that a browser does not ask for a /favicon.ico there is none of', async () => {
    for (const [path, cookie] of [['/login', undefined], ['/', admin], ['/settings', admin], ['/contacts', admin]] as const) {
      const html = await (await get(path, cookie)).text();
      expect(html, path).to.match(/<link rel="icon" href="\/crm-assets\/icon\.svg" type="image\/svg\+xml">/);
    }
    const icon = await get('/crm-assets/icon.svg');
    expect(icon.status).to.equal(200);
    expect(icon.headers.get('content-type')).to.match(/^image\/svg\+xml/);
    expect(icon.headers.get('cache-control')).to.equal('public, max-age=3600');
    expect(await icon.text()).to.match(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('signs in through a CSRF-protected form with an HttpOnly, SameSite=Lax cookie and a new session id', async () => {
    const planted = 'crm_sid=' + 'A'.repeat(43);
    const form = await crmLoginForm(test.url);
    const cookie = `${form.cookie}; ${planted}`;

    const noToken = await postForm('/login', { userName: 'admin', password: TEST_ADMIN_PASSWORD }, cookie);
    expect(noToken.status).to.equal(403);
    expect(setCookies(noToken).some((c) => c.startsWith('crm_sid='))).to.equal(false);
    const otherToken = await postForm('/login', { csrf: (await crmLoginForm(test.url)).token, userName: 'admin', password: TEST_ADMIN_PASSWORD }, cookie);
    expect(otherToken.status, "another form's token").to.equal(403);

    const wrong = await postForm('/login', { csrf: form.token, userName: 'admin', password: 'wrong password' }, cookie);
    const unknown = await postForm('/login', { csrf: form.token, userName: 'nobody', password: 'wrong password' }, cookie);
    const inactive = await postForm('/login', { csrf: form.token, userName: 'paul.former', password: 'whatever' }, cookie);
    for (const refused of [wrong, unknown, inactive]) {
      expect(refused.status).to.equal(401);
      expect(await refused.text()).to.include('Wrong user name or password.');
    }

    const ok = await postForm('/login', { csrf: form.token, userName: 'admin', password: TEST_ADMIN_PASSWORD, returnTo: '/settings' }, cookie);
    expect(ok.status).to.equal(303);
    expect(ok.headers.get('location')).to.equal('/settings');
    const session = setCookies(ok).find((c) => c.startsWith('crm_sid='))!;
    expect(session).to.match(/HttpOnly/i).and.to.match(/SameSite=Lax/i).and.not.to.match(/Secure/i);
    expect(session.split(';')[0]).not.to.equal(planted);
    expect((await get('/', planted)).status, 'the planted id is worth nothing').to.equal(303);
    expect((await get('/', session.split(';')[0])).status).to.equal(200);

    // Only local paths to come back to.
    const evil = await postForm('/login', { csrf: form.token, userName: 'admin', password: TEST_ADMIN_PASSWORD, returnTo: '//evil.example/x' }, form.cookie);
    expect(evil.headers.get('location')).to.equal('/');
  });

  it('marks the session cookie Secure behind HTTPS (a local proxy’s X-Forwarded-Proto)', async () => {
    const form = await crmLoginForm(test.url);
    const response = await postForm('/login', { csrf: form.token, userName: 'admin', password: TEST_ADMIN_PASSWORD }, form.cookie, { 'x-forwarded-proto': 'https' });
    expect(setCookies(response).find((c) => c.startsWith('crm_sid='))).to.match(/Secure/);
  });

  it('keeps Settings for admins: anonymous → login, non-admin → 403, admin → the entries plugins registered', async () => {
    const anonymous = await get('/settings');
    expect(anonymous.status).to.equal(303);
    expect(anonymous.headers.get('location')).to.equal('/login?returnTo=%2Fsettings');

    const forbidden = await get('/settings', agent);
    expect(forbidden.status).to.equal(403);
    expect(await forbidden.text()).not.to.include('Fake');

    const page = await get('/settings', admin);
    expect(page.status).to.equal(200);
    expectSecurityHeaders(page, '/settings');
    const html = await page.text();
    expect(html).to.include('<h2>Customer tools</h2>');
    expect(html).to.include('<a href="/fake-plugin">Fake &lt;tool&gt;</a>');

    expect((await get('/outbox', agent)).status).to.equal(403);
    expect((await get('/outbox')).status).to.equal(303);
  });

  it('shows a Contact with its fields escaped, then the blocks plugins registered', async () => {
    const contact = await test.host.records.create('Contacts', { values: { firstname: 'Eve', lastname: XSS, email: 'eve@example.com' } });
    const response = await get(`/contacts/${contact.id}`, agent);
    expect(response.status).to.equal(200);
    const html = await response.text();
    expect(html).not.to.include(XSS);
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).to.include('eve@example.com');
    expect(html).to.include(`<p class="fake-block">record ${contact.id} for ${AGENT}</p>`);
    expect(html.indexOf('eve@example.com')).to.be.lessThan(html.indexOf('fake-block'));

    const list = await (await get('/contacts', agent)).text();
    expect(list).to.include(`href="/contacts/${contact.id}"`);
    expect(list).not.to.include(XSS);
    for (const missing of ['/contacts/999999', '/contacts/abc', '/contacts/1e3']) expect((await get(missing, agent)).status, missing).to.equal(404);
  });

  it('answers a contact id past the 32-bit id columns like a missing contact, not with a 500 (PostgreSQL refuses such a number)', async () => {
    for (const missing of ['/contacts/2147483648', '/contacts/9999999999', '/contacts/999999999999999']) {
      const response = await get(missing, agent);
      expect(response.status, missing).to.equal(404);
      expect(await response.text(), missing).to.include('There is no such contact.');
    }
  });

  it('answers a page number no list could reach with the first page, not with a 500 (its offset was past what the record store takes)', async () => {
    const first = await (await get('/contacts', agent)).text();
    for (const page of ['999999999999999', '9007199254740993', '1000000001']) {
      const response = await get(`/contacts?page=${page}`, agent);
      expect(response.status, page).to.equal(200);
      expect(await response.text(), page).to.equal(first);
    }
  });

  it('puts the security headers and no-store on every response, errors included', async () => {
    for (const [path, status] of [
      ['/login', 200],
      ['/no-such-page', 404],
      ['/contacts', 303],
    ] as const) {
      const response = await get(path);
      expect(response.status, path).to.equal(status);
      expectSecurityHeaders(response, path);
    }
    const malformed = await postForm('/login', {}, undefined, { 'content-type': 'application/x-www-form-urlencoded; charset=nonsense' });
    expect(malformed.status).to.be.within(400, 499);
    expectSecurityHeaders(malformed, 'a malformed body');
  });

  it('signs out only by POST with the session’s token, and ends the session', async () => {
    const cookie = await crmLogin(test.url, AGENT, AGENT_PASSWORD);
    const home = await (await get('/', cookie)).text();
    const token = /name="csrf" value="([^"]+)"/.exec(home)![1]!;

    expect((await postForm('/logout', {}, cookie)).status).to.equal(403);
    expect((await postForm('/logout', { csrf: /name="csrf" value="([^"]+)"/.exec(await (await get('/', admin)).text())![1]! }, cookie)).status, "another session's token").to.equal(403);
    expect((await get('/', cookie)).status, 'still signed in').to.equal(200);

    const out = await postForm('/logout', { csrf: token }, cookie);
    expect(out.status).to.equal(303);
    expect(setCookies(out).find((c) => c.startsWith('crm_sid='))).to.match(/Max-Age=0/);
    expect((await get('/', cookie)).status, 'the old cookie no longer works').to.equal(303);
    const [row] = await test.host.api.database.sequelize.query<{ n: unknown }>(
      'SELECT COUNT(*) AS n FROM crm_sessions s JOIN crm_users u ON u.id = s.user_id WHERE u.user_name = $name',
      { bind: { name: AGENT }, type: QueryTypes.SELECT },
    );
    expect(Number(row!.n), 'only the before() session of the agent is left').to.equal(1);
  });
});
