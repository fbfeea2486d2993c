/**
 * Every error page the portal and the admin pages send starts its document title with "Error: "
 * ("Errore: "), once, in the visitor's or admin's language: the title is what a screen reader
 * says first when the page loads, and the page's heading alone ("Page not found", "Access
 * denied") is not heard until the user goes looking. Pages that are no error keep their titles.
 */
import { expect } from 'chai';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { hashPassword } from '../../host/users/password-hash.js';
import { adminClient, SETTINGS, type AdminClient } from '../profiles/profile-test-kit.js';
import { PortalClient, tokenIn } from '../sign-in/sign-in-fixture.js';
import { JANE, MARIO, signedIn } from '../portal-pages/portal-pages-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';

const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-test-password-1';

/** The document title as a screen reader reads it (the few entities Handlebars writes decoded). */
const titleIn = (html: string): string =>
  (/<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');

const PREFIX = { en: 'Error: ', it: 'Errore: ' } as const;
type Language = keyof typeof PREFIX;

/** A page's title starts with the prefix of `language`, and says it only once. */
function expectErrorTitle(what: string, html: string, language: Language): void {
  const title = titleIn(html);
  expect(title, what).to.match(new RegExp(`^${PREFIX[language]}\\S`));
  expect(title.split(PREFIX[language].trim()).length - 1, `${what}: the prefix once, in "${title}"`).to.equal(1);
  expect(title, `${what}: no prefix of the other language`).not.to.include(PREFIX[language === 'en' ? 'it' : 'en'].trim());
  expect(html, `${what}: the page in its language`).to.match(new RegExp(`<html lang="${language}"`));
}

async function send(url: string, init: RequestInit & { headers?: Record<string, string> }): Promise<{ status: number; html: string }> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  return { status: response.status, html: await response.text() };
}

describe('error pages: the title starts with "Error:" in the reader’s language @db', function () {
  this.timeout(120_000);
  let test: TestHost;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'silent' });
  });
  after(async () => {
    await test?.stop();
  });

  for (const [language, email] of [
    ['en', JANE],
    ['it', MARIO],
  ] as const) {
    it(`portal: 404, 403 (CSRF), 400, 413, 415, dead links and the workspace's refusals (${language})`, async () => {
      const portal = `${test.url}/portal`;
      const headers = { 'accept-language': language };
      const visitor = new PortalClient(portal, headers);
      const login = await visitor.get('/login');
      expect(titleIn(login.html), 'the sign-in page is no error').not.to.match(/^Err/);

      // An unknown portal address.
      const missing = await send(`${portal}/nothing-here`, { headers });
      expect(missing.status).to.equal(404);
      expectErrorTitle('404', missing.html, language);
      // No dead end: the page leads on to the portal (its home, or the sign-in for a visitor).
      expect(missing.html, 'a way on').to.include(`<a href="/portal/">${language === 'en' ? 'Go to the customer portal' : 'Vai al portale clienti'}</a>`);
      // A path that is not valid percent-encoding.
      const undecodable = await send(`${portal}/m/%E0%A4%A`, { headers });
      expect(undecodable.status).to.equal(400);
      expectErrorTitle('400 undecodable', undecodable.html, language);
      // The sign-in form posted without its CSRF token.
      const forged = await visitor.post('/login', { email, password: 'Portal-demo-1' });
      expect(forged.response.status).to.equal(403);
      expectErrorTitle('403 CSRF on sign-in', forged.html, language);
      // A body the sign-in form does not read (JSON, then plain text).
      const json = await send(`${portal}/login`, { method: 'POST', headers: { ...headers, cookie: visitor.cookieHeader(), 'content-type': 'application/json' }, body: '{"email":"x"}' });
      expect(json.status).to.equal(415);
      expectErrorTitle('415 JSON', json.html, language);
      const text = await send(`${portal}/login`, { method: 'POST', headers: { ...headers, cookie: visitor.cookieHeader(), 'content-type': 'text/plain' }, body: 'email=x' });
      expect(text.status).to.equal(415);
      expectErrorTitle('415 text', text.html, language);
      // A form body over the limit.
      const large = await send(`${portal}/login`, {
        method: 'POST',
        headers: { ...headers, cookie: visitor.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${tokenIn(login.html)}&email=${'x'.repeat(1_100_000)}`,
      });
      expect(large.status).to.equal(413);
      expectErrorTitle('413', large.html, language);
      // Dead links: a password reset and an unlock whose token is not valid.
      const reset = await visitor.get(`/reset-password?token=${'A'.repeat(43)}`);
      expect(reset.response.status).to.equal(400);
      expectErrorTitle('dead reset link', reset.html, language);
      const unlock = await visitor.get(`/unlock?token=${'A'.repeat(43)}`);
      expect(unlock.response.status).to.equal(400);
      expectErrorTitle('dead unlock link', unlock.html, language);
      // A workspace write without a session.
      const anonymous = await visitor.post('/m/HelpDesk/new', { _csrf: tokenIn(login.html), ticket_title: 'x' });
      expect(anonymous.response.status).to.equal(403);
      expectErrorTitle('403 without a session', anonymous.html, language);

      // Signed in: a forged form token, a missing record, an export without the tool, a refused export search.
      const client = await signedIn(test, email, language);
      const home = await client.get('/');
      expect(titleIn(home.html), 'the home page is no error').not.to.match(/^Err/);
      const forgedWrite = await client.post('/m/HelpDesk/new', { _csrf: 'forged', ticket_title: 'x' });
      expect(forgedWrite.response.status).to.equal(403);
      expectErrorTitle('403 CSRF in the workspace', forgedWrite.html, language);
      const record = await client.get('/m/HelpDesk/99999');
      expect(record.response.status).to.equal(404);
      expectErrorTitle('404 record', record.html, language);
      const module = await client.get('/m/Nothing');
      expect(module.response.status).to.equal(404);
      expectErrorTitle('404 module', module.html, language);
      const exported = await client.get('/m/Quotes/export.csv');
      expect(exported.response.status).to.equal(403);
      expectErrorTitle('403 export', exported.html, language);
      const refusedExport = await client.get('/m/HelpDesk/export.csv?f_nothing=1');
      expect(refusedExport.response.status).to.equal(400);
      expectErrorTitle('400 export search', refusedExport.html, language);
      const workspaceText = await send(`${portal}/m/HelpDesk/new`, { method: 'POST', headers: { ...headers, cookie: client.cookieHeader(), 'content-type': 'text/plain' }, body: 'ticket_title=x' });
      expect(workspaceText.status).to.equal(415);
      expectErrorTitle('415 in the workspace', workspaceText.html, language);
    });

    it(`portal list: a refused column or general search starts the title with the prefix (${language})`, async () => {
      const client = await signedIn(test, email, language);
      for (const [module, query] of [
        ['HelpDesk', 'f_nothing=1'],
        ['HelpDesk', 'sort=password&dir=asc'],
        ['Invoice', `f_invoicedate=${encodeURIComponent('23/11/2026')}`],
      ] as const) {
        const listTitle = titleIn((await client.get(`/m/${module}`)).html);
        expect(listTitle).not.to.match(/^Err/);
        const refused = await client.get(`/m/${module}?${query}`);
        expect(refused.response.status, query).to.equal(400);
        expectErrorTitle(`list ${query}`, refused.html, language);
        expect(titleIn(refused.html), query).to.equal(`${PREFIX[language]}${listTitle}`);
      }
      // A search the list can run keeps the list's own title.
      expect(titleIn((await client.get('/m/HelpDesk?f_status=Open')).html)).to.equal(titleIn((await client.get('/m/HelpDesk')).html));
    });
  }

  for (const language of ['en', 'it'] as const) {
    it(`admin: 404, 403 (not an admin, CSRF), 400, 413 and 415 (${language})`, async () => {
      const sequelize = test.host.api.database.sequelize;
      await sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', { replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK } });
      await sequelize.query('UPDATE crm_users SET language = :language WHERE user_name IN (:names)', { replacements: { language, names: ['admin', CLERK] } });
      try {
        const admin: AdminClient = await adminClient(test, 'admin', DEMO_ADMIN_PASSWORD);
        const clerk: AdminClient = await adminClient(test, CLERK, CLERK_PASSWORD);
        const home = await admin.get(`${SETTINGS}/`);
        expect(titleIn(await home.text()), 'the settings home is no error').not.to.match(/^Err/);
        const page = async (response: Promise<Response>, status: number, what: string) => {
          const answer = await response;
          expect(answer.status, what).to.equal(status);
          const html = await answer.text();
          const title = titleIn(html);
          expect(title, what).to.match(new RegExp(`^${PREFIX[language]}\\S`));
          expect(title.split(PREFIX[language].trim()).length - 1, `${what}: the prefix once, in "${title}"`).to.equal(1);
        };
        await page(admin.get(`${SETTINGS}/nothing-here`), 404, '404');
        await page(admin.get(`${SETTINGS}/profiles/999999`), 404, '404 profile');
        await page(admin.get(`${SETTINGS}/profiles/%E0%A4%A`), 400, '400 undecodable');
        await page(clerk.get(`${SETTINGS}/`), 403, '403 not an admin');
        await page(admin.post(`${SETTINGS}/profiles`, { name: 'No token' }, { csrf: false }), 403, '403 CSRF');
        const raw = (type: string, body: string) =>
          fetch(`${test.url}${SETTINGS}/profiles`, { method: 'POST', redirect: 'manual', headers: { cookie: admin.cookie, 'content-type': type }, body });
        await page(raw('text/plain', `_csrf=${admin.csrf}&name=x`), 415, '415');
        await page(raw('application/x-www-form-urlencoded', `_csrf=${admin.csrf}&name=${'x'.repeat(1_100_000)}`), 413, '413');
      } finally {
        await sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name IN (:names)", { replacements: { names: ['admin', CLERK] } });
      }
    });
  }
});
