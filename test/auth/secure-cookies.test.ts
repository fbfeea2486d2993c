/**
 * Behind HTTPS (SECURITY.md: "HttpOnly, SameSite, Secure behind HTTPS"): on a host whose BASE_URL
 * is https — customers reach it through a TLS terminator that the host does not trust for
 * X-Forwarded-Proto, so each request arrives as plain HTTP — every cookie the portal sets, on the
 * happy path and on error paths alike, is Secure, HttpOnly, SameSite=Lax and limited to the
 * portal's path, as the CRM's own session cookie already is.
 */
import { expect } from 'chai';
import { PortalClient, tokenIn } from '../sign-in/sign-in-fixture.js';
import { crmLoginForm, startTestHost, type TestHost } from '../support/host.js';

const JANE = 'jane.doe@example.com';
const PASSWORD = 'Portal-demo-1';

describe('auth: portal cookies behind an https BASE_URL @db', function () {
  this.timeout(60_000);
  let test: TestHost;

  before(async () => {
    test = await startTestHost({ demo: true, baseUrl: 'https://portal.example.com' });
  });
  after(async () => test?.stop());

  it('sets every portal cookie Secure, HttpOnly, SameSite=Lax on the portal path, errors and clearing included', async () => {
    const seen: { step: string; header: string }[] = [];
    const record = (step: string, response: Response) => {
      for (const header of response.headers.getSetCookie()) seen.push({ step, header });
    };
    const portal = `${test.url}/portal`;

    // The host's own cookie is the reference: Secure because BASE_URL is https.
    const crm = await fetch(`${test.url}/login`);
    await crm.arrayBuffer();
    expect(crm.headers.getSetCookie().join('\n')).to.match(/; Secure/);
    await crmLoginForm(test.url);

    const browser = new PortalClient(portal);
    const page = await browser.get('/login');
    record('login page', page.response);
    const refused = await browser.post('/login', { _csrf: tokenIn(page.html), email: JANE, password: 'wrong password 1' });
    expect(refused.response.status).to.equal(401);
    record('refused login (page)', refused.response);
    const signedIn = await browser.post('/login', { _csrf: tokenIn(refused.html), email: JANE, password: PASSWORD });
    expect(signedIn.response.status).to.equal(303);
    record('login (page)', signedIn.response);
    const home = await browser.get('/forgot-password');
    const language = await browser.post('/language', { _csrf: tokenIn(home.html), language: 'it', returnTo: '/forgot-password' });
    expect(language.response.status).to.equal(303);
    record('language', language.response);
    const logout = await browser.post('/logout', { _csrf: tokenIn(home.html) });
    expect(logout.response.status).to.equal(303);
    record('logout (page)', logout.response);

    const api = new PortalClient(portal);
    const remembered = await api.api('/auth/login', { email: JANE, password: PASSWORD, remember: true });
    expect(remembered.status).to.equal(200);
    record('login (API, remember me)', remembered);
    const apiLogout = await api.api('/auth/logout', {});
    expect(apiLogout.status).to.equal(204);
    record('logout (API)', apiLogout);

    // The second factor's challenge cookie, set and cleared.
    await test.host.api.database.sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'email'`);
    try {
      const challenged = new PortalClient(portal);
      const first = await challenged.api('/auth/login', { email: JANE, password: PASSWORD });
      expect(first.status).to.equal(202);
      record('login (API, second factor asked)', first);
      let wrong: Response | undefined;
      for (let i = 0; i < 6 && challenged.cookies.has('bp_2fa'); i++) {
        wrong = await challenged.api('/auth/two-factor', { code: '000000' });
        record('wrong code', wrong);
      }
      expect(wrong?.status).to.equal(401);
    } finally {
      await test.host.api.database.sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'none'`);
      await test.host.api.database.sequelize.query(`UPDATE bp_portal_accounts SET failed_attempts = 0, first_failed_at = NULL, locked_at = NULL`);
    }

    const names = new Set(seen.map(({ header }) => header.split('=')[0]));
    expect([...names]).to.include.members(['bp_csrf', 'bp_session', 'bp_lang', 'bp_2fa']);
    for (const { step, header } of seen) {
      const name = header.split('=')[0];
      expect(header, `${step}: ${name}`).to.match(/; Secure(;|$)/);
      expect(header, `${step}: ${name}`).to.match(/; HttpOnly(;|$)/);
      expect(header, `${step}: ${name}`).to.match(/; SameSite=Lax(;|$)/);
      expect(header, `${step}: ${name}`).to.match(/; Path=\/portal(;|$)/);
    }
  });
});
