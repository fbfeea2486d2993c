/**
 * A form shown again with a refusal starts its document title with "Error: " ("Errore: "), as
 * GOV.UK's error summary does: the title is what a screen reader says first when the page loads,
 * and an alert already in the page at load is not announced. The same pages without a refusal,
 * and after a post and redirect with their notice, keep their own titles.
 */
import { expect } from 'chai';
import { PortalClient, tokenIn } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, MARIO, recordIdsIn, signedIn } from './portal-pages-kit.js';

const titleIn = (html: string): string => /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '';

describe('portal pages: a refused form says "Error:" first in its title @db', function () {
  this.timeout(120_000);
  let test: TestHost;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
  });
  after(async () => {
    await test?.stop();
  });

  for (const [language, email, prefix, brand] of [
    ['en', JANE, 'Error: ', 'Customer portal'],
    ['it', MARIO, 'Errore: ', 'Portale clienti'],
  ] as const) {
    it(`sign-in, new ticket, comment and password change (${language})`, async () => {
      // Sign-in refused: the wrong password.
      const visitor = new PortalClient(`${test.url}/portal`, { 'accept-language': language });
      const login = await visitor.get('/login');
      const signInTitle = titleIn(login.html);
      expect(signInTitle).to.equal(`${language === 'en' ? 'Sign in' : 'Accedi'} · ${brand}`);
      const refusedLogin = await visitor.post('/login', { _csrf: tokenIn(login.html), email, password: 'Not the password 1' });
      expect(refusedLogin.response.status).to.be.within(400, 499);
      expect(titleIn(refusedLogin.html)).to.equal(`${prefix}${signInTitle}`);

      const client = await signedIn(test, email, language);
      // New ticket refused: the mandatory title is empty.
      const form = await client.get('/m/HelpDesk/new');
      const formTitle = titleIn(form.html);
      expect(formTitle).to.match(new RegExp(` · ${brand}$`)).and.not.match(/^Error/);
      const refusedTicket = await client.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: '', priority: 'High' });
      expect(refusedTicket.response.status).to.equal(422);
      expect(titleIn(refusedTicket.html)).to.equal(`${prefix}${formTitle}`);

      // Comment refused: an empty comment. The ticket's own page, and after a comment its notice, keep their titles.
      const ticket = recordIdsIn((await client.get('/m/HelpDesk')).html, 'HelpDesk')[0]!;
      const page = await client.get(`/m/HelpDesk/${ticket}`);
      const ticketTitle = titleIn(page.html);
      expect(ticketTitle).not.to.match(/^Err/);
      const refusedComment = await client.post(`/m/HelpDesk/${ticket}/comments`, { _csrf: tokenIn(page.html), body: '   ' });
      expect(refusedComment.response.status).to.equal(422);
      expect(titleIn(refusedComment.html)).to.equal(`${prefix}${ticketTitle}`);
      const commented = await client.post(`/m/HelpDesk/${ticket}/comments`, { _csrf: tokenIn(page.html), body: 'A comment that is taken.' });
      expect(commented.response.status).to.equal(303);
      const noticed = titleIn((await client.get(commented.response.headers.get('location')!.replace('/portal', ''))).html);
      expect(noticed).to.match(new RegExp(` · ${ticketTitle}$`)).and.not.match(/^Err/);

      // Password change refused: the current password is wrong.
      const password = await client.get('/account/password');
      const passwordTitle = titleIn(password.html);
      const refusedPassword = await client.post('/account/password', { _csrf: tokenIn(password.html), currentPassword: 'Not-the-password-1', newPassword: 'Lighthouse keeper 42', confirmPassword: 'Lighthouse keeper 42' });
      expect(refusedPassword.response.status).to.equal(403);
      expect(titleIn(refusedPassword.html)).to.equal(`${prefix}${passwordTitle}`);
    });

    it(`an error page ends its title with the portal's name, as every other page does (${language})`, async () => {
      const h1In = (html: string): string => /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1]?.trim() ?? '';
      const titles: Record<string, string> = {};
      const expected: Record<string, string> = {};
      const seen = (name: string, status: number, answer: { response: Response; html: string }): void => {
        expect(answer.response.status, name).to.equal(status);
        // "Error: ", then the page's heading (after the sentence it says, where the title carries one) and the portal's name.
        const [title, heading] = [titleIn(answer.html), h1In(answer.html)];
        titles[name] = title.startsWith(prefix) && heading !== '' && title.endsWith(`${heading} · ${brand}`) ? `${prefix}… ${heading} · ${brand}` : title;
        expected[name] = `${prefix}… ${heading} · ${brand}`;
      };
      const visitor = new PortalClient(`${test.url}/portal`, { 'accept-language': language });
      seen('404 signed out', 404, await visitor.get('/no-such-page'));
      const login = await visitor.get('/login');
      seen('403 a form without its token', 403, await visitor.post('/login', { _csrf: 'forged', email, password: 'Not the password 1' }));
      seen('400 a dead unlock link', 400, await visitor.get('/unlock?token=unknown'));
      expect(tokenIn(login.html)).to.be.a('string');
      const client = await signedIn(test, email, language);
      seen('400 a path that is not percent-encoding', 400, await client.get('/m/%E0%A4%A'));
      seen('404 an unknown module', 404, await client.get('/m/NoSuchModule'));
      seen('404 signed in, outside the workspace', 404, await client.get('/no-such-page'));
      expect(titles).to.deep.equal(expected);
    });
  }
});
