/**
 * The portal's sign-in pages on the reference host: languages, CSRF, refusals that all look
 * alike, login and logout, and the forced first-access password change (pages and API).
 */
import { expect } from 'chai';
import { PortalClient, resetTokenIn, startSignInHost, tokenIn, type SignInHost } from './sign-in-fixture.js';

const PASSWORD = 'Correct-horse-7';
const NEW_PASSWORD = 'Battery staple orbit 42';

describe('sign-in: portal pages @db', function () {
  this.timeout(60_000);
  let host: SignInHost;

  before(async () => {
    host = await startSignInHost();
  });
  after(async () => {
    await host?.stop();
  });

  describe('languages', () => {
    it('renders the login page in English by default and in Italian by Accept-Language', async () => {
      const english = await new PortalClient(host.portal).get('/login');
      expect(english.response.status).to.equal(200);
      expect(english.response.headers.get('cache-control')).to.equal('no-store');
      expect(english.html).to.include('<html lang="en">').and.include('Sign in to the customer portal').and.include('I forgot my password');
      const italian = await new PortalClient(host.portal, { 'accept-language': 'it-IT,it;q=0.9,en;q=0.5' }).get('/login');
      expect(italian.html).to.include('<html lang="it">').and.include('Accedi al portale clienti').and.include('Ho dimenticato la password');
    });

    it('follows the language the customer picks, kept in a cookie, over the browser', async () => {
      const client = new PortalClient(host.portal, { 'accept-language': 'en' });
      const { html } = await client.get('/forgot-password');
      const switched = await client.post('/language', { _csrf: tokenIn(html), language: 'it', returnTo: '/forgot-password' });
      expect(switched.response.status).to.equal(303);
      expect(switched.response.headers.get('location')).to.equal('/portal/forgot-password');
      expect(client.cookies.get('bp_lang')).to.equal('it');
      const page = await client.get('/forgot-password');
      expect(page.html).to.include('<html lang="it">').and.include('Password dimenticata');
      // Other sites are never a return address.
      const away = await client.post('/language', { _csrf: tokenIn(page.html), language: 'en', returnTo: '//evil.example.com/' });
      expect(away.response.headers.get('location')).to.equal('/portal/login');
    });

    it('gives a signed-in customer their contact’s language unless this browser chose one', async () => {
      const email = 'lingua@example.com';
      await host.addCustomer({ email, password: PASSWORD, language: 'it', firstname: 'Lucia' });
      const fresh = new PortalClient(host.portal, { 'accept-language': 'en' });
      expect((await fresh.signIn(email, PASSWORD)).response.status).to.equal(303);
      expect(fresh.cookies.get('bp_lang')).to.equal('it');
      expect((await fresh.get('/forgot-password')).html).to.include('<html lang="it">');

      const chosen = new PortalClient(host.portal, { 'accept-language': 'it' });
      const { html } = await chosen.get('/forgot-password');
      await chosen.post('/language', { _csrf: tokenIn(html), language: 'en', returnTo: '/login' });
      expect((await chosen.signIn(email, PASSWORD)).response.status).to.equal(303);
      expect(chosen.cookies.get('bp_lang')).to.equal('en');
      expect((await chosen.get('/forgot-password')).html).to.include('<html lang="en">');
    });
  });

  describe('an empty form', () => {
    it('refuses a forgot-password form without an email next to its field, in the page’s language (the form leaves the check to the server, not to the browser’s bubble)', async () => {
      for (const [language, message] of [
        ['en', 'Enter the email address of your portal account.'],
        ['it', 'Inserisci l’indirizzo email del tuo account del portale.'],
      ] as const) {
        const client = new PortalClient(host.portal, { 'accept-language': language });
        const { html } = await client.get('/forgot-password');
        expect(html).to.match(/<form method="post" action="\/portal\/forgot-password" class="bp-form" novalidate>/);
        const refused = await client.post('/forgot-password', { _csrf: tokenIn(html), email: '  ' });
        expect(refused.response.status, language).to.equal(400);
        expect(refused.html).to.include(`<p class="bp-error" role="alert" id="bp-forgot-error">${message.replace('’', '’')}</p>`);
        expect(refused.html).to.match(/<input id="bp-email"[^>]* aria-invalid="true" aria-describedby="bp-forgot-error"/);
      }
    });
  });
    it('leaves the new-password forms (reset link, first access) to the server, which answers in the page’s language as on the password page', async () => {
      const email = 'primo.accesso@example.com';
      await host.addCustomer({ email, password: PASSWORD, language: 'it', firstname: 'Primo', mustChangePassword: true });
      const client = new PortalClient(host.portal, { 'accept-language': 'en' });
      expect((await client.signIn(email, PASSWORD)).response.status).to.equal(303);
      const first = await client.get('/first-access');
      expect(first.html).to.include('<html lang="it">').and.match(/<form method="post" action="\/portal\/first-access[^"]*" class="bp-form" novalidate>/);
      const short = await client.post('/first-access', { _csrf: tokenIn(first.html), email, newPassword: 'corta', confirmPassword: 'corta' });
      expect(short.response.status).to.equal(400);
      expect(short.html).to.include('role="alert"').and.include('almeno 8 caratteri');

      const since = host.mailbox.received.length;
      const visitor = new PortalClient(host.portal, { 'accept-language': 'it' });
      expect((await visitor.submit('/forgot-password', '/forgot-password', { email })).response.status).to.equal(200);
      const token = resetTokenIn(await host.mailbox.waitFor(email, { since }));
      const reset = await visitor.get(`/reset-password?token=${token}`);
      expect(reset.html).to.match(/<form method="post" action="\/portal\/reset-password" class="bp-form" novalidate>/);
    });


  describe('the language switch keeps the place', () => {
    it('comes back to the login with the page it was to continue to, and drops what is not a portal page', async () => {
      const client = new PortalClient(host.portal, { 'accept-language': 'en' });
      const login = await client.get('/login?next=%2Fm%2FHelpDesk%2F1');
      const returnTo = /name="returnTo" value="([^"]+)"/.exec(login.html)![1]!.replace(/&#x3D;/g, '=');
      expect(returnTo).to.equal('/login?next=%2Fm%2FHelpDesk%2F1');
      const switched = await client.post('/language', { _csrf: tokenIn(login.html), language: 'it', returnTo });
      expect(switched.response.headers.get('location')).to.equal('/portal/login?next=%2Fm%2FHelpDesk%2F1');
      const italian = await client.get('/login?next=%2Fm%2FHelpDesk%2F1');
      expect(italian.html).to.include('<html lang="it">').and.include('name="next" value="/m/HelpDesk/1"');
      // The path is checked as before; the query is rebuilt, encoded, and cannot leave the portal.
      for (const away of ['//evil.example.com/?next=x', '/logout?next=%2F', 'https://evil.example.com/login?next=x', '/m/HelpDesk/../../x?a=1']) {
        const refused = await client.post('/language', { _csrf: tokenIn(italian.html), language: 'en', returnTo: away });
        expect(refused.response.headers.get('location'), away).to.equal('/portal/login');
      }
      const odd = await client.post('/language', { _csrf: tokenIn(italian.html), language: 'en', returnTo: '/login?next=%0d%0aSet-Cookie:%20x=1&a=<b>' });
      expect(odd.response.headers.get('location')).to.equal('/portal/login?next=%0D%0ASet-Cookie%3A+x%3D1&a=%3Cb%3E');
      // The customer's own password page stays where it is (it used to send them to the home page).
      const account = await client.post('/language', { _csrf: tokenIn(italian.html), language: 'it', returnTo: '/account/password' });
      expect(account.response.headers.get('location')).to.equal('/portal/account/password');
    });
  });

  describe('CSRF', () => {
    it('refuses a login without a token, with a wrong one and with another browser’s', async () => {
      const email = 'csrf@example.com';
      await host.addCustomer({ email, password: PASSWORD });
      const client = new PortalClient(host.portal);
      await client.get('/login');
      const missing = await client.post('/login', { email, password: PASSWORD });
      expect(missing.response.status).to.equal(403);
      expect(missing.response.headers.getSetCookie().some((c) => c.startsWith('bp_session='))).to.equal(false);
      const wrong = await client.post('/login', { _csrf: 'A'.repeat(43), email, password: PASSWORD });
      expect(wrong.response.status).to.equal(403);
      const other = new PortalClient(host.portal);
      const { html } = await other.get('/login');
      const foreign = await client.post('/login', { _csrf: tokenIn(html), email, password: PASSWORD });
      expect(foreign.response.status).to.equal(403);
      expect(client.cookies.has('bp_session')).to.equal(false);
      // No pre-session cookie at all: refused too.
      const bare = await fetch(`${host.portal}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: tokenIn(html), email, password: PASSWORD }).toString(),
      });
      expect(bare.status).to.equal(403);
    });

    it('refuses a logout with a token from before the login (stale) and keeps the session', async () => {
      const email = 'stale@example.com';
      await host.addCustomer({ email, password: PASSWORD });
      const client = new PortalClient(host.portal);
      const { html } = await client.get('/login');
      const before = tokenIn(html);
      const signedIn = await client.post('/login', { _csrf: before, email, password: PASSWORD });
      expect(signedIn.response.status).to.equal(303);
      const stale = await client.post('/logout', { _csrf: before });
      expect(stale.response.status).to.equal(403);
      expect((await client.get('/')).response.status).to.equal(200);
    });

    it('answers a reset form with a stale token by the form again on its link, in the page’s language, its language switch kept on the link', async () => {
      for (const [language, message] of [
        ['en', 'The form had expired: enter your new password again.'],
        ['it', 'Il modulo era scaduto: reinserisci la nuova password.'],
      ] as const) {
        const email = `stale.reset.${language}@example.com`;
        await host.addCustomer({ email, password: PASSWORD, language });
        const since = host.mailbox.received.length;
        const client = new PortalClient(host.portal, { 'accept-language': language });
        expect((await client.submit('/forgot-password', '/forgot-password', { email })).response.status).to.equal(200);
        const token = resetTokenIn(await host.mailbox.waitFor(email, { since }));
        const form = await client.get(`/reset-password?token=${token}`);
        // Another tab signs in and out: the form's token went stale.
        expect((await client.signIn(email, PASSWORD)).response.status).to.equal(303);
        const stale = await client.post('/reset-password', { _csrf: tokenIn(form.html), token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
        expect(stale.response.status, language).to.equal(403);
        expect(stale.html).to.include(`<p class="bp-error" role="alert" id="bp-reset-error">${message}</p>`);
        expect(stale.html).to.include(`name="token" value="${token}"`);
        const returnTo = /name="returnTo" value="([^"]+)"/.exec(stale.html)![1]!.replace(/&#x3D;/g, '=');
        expect(returnTo).to.equal(`/reset-password?token=${token}`);
        // Nothing was changed; the fresh form on the page sets the password.
        const done = await client.post('/reset-password', { _csrf: tokenIn(stale.html), token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
        expect(done.response.status, language).to.equal(200);
        // A link no longer good gets the refusal page as before.
        const dead = await client.post('/reset-password', { _csrf: 'A'.repeat(43), token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
        expect(dead.response.status).to.equal(403);
        expect(dead.html).not.to.include(token);
      }
    });
  });

  describe('forms left open while the session changed', () => {
    it('a logout whose session already ended goes to the login; a login from a tab opened before another tab signed in goes on', async () => {
      const email = 'two.tabs@example.com';
      await host.addCustomer({ email, password: PASSWORD });
      const client = new PortalClient(host.portal);
      const tabA = tokenIn((await client.get('/login')).html);
      const tabB = tokenIn((await client.get('/login')).html);
      expect((await client.post('/login', { _csrf: tabB, email, password: PASSWORD })).response.status).to.equal(303);
      const late = await client.post('/login', { _csrf: tabA, email, password: PASSWORD, next: '/m/HelpDesk?q=Line' });
      expect(late.response.status).to.equal(303);
      expect(late.response.headers.get('location')).to.equal('/portal/m/HelpDesk?q=Line');

      const signedInToken = tokenIn((await client.get('/forgot-password')).html);
      // The session ends elsewhere (another tab signs out); this page's form is still open.
      const ended = await fetch(`${host.portal}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: client.cookieHeader(), 'content-type': 'application/json' } });
      expect(ended.status).to.equal(204);
      const out = await client.post('/logout', { _csrf: signedInToken });
      expect(out.response.status).to.equal(303);
      expect(out.response.headers.get('location')).to.equal('/portal/login');
      // Still refused: a stale token while a session is there (another page's login, say).
      const stranger = await client.post('/language', { _csrf: 'A'.repeat(43), language: 'it' });
      expect(stranger.response.status).to.equal(403);
    });
  });

  describe('login and logout', () => {
    it('signs in, shows who is signed in, and logs out for good', async () => {
      const email = 'jane.pages@example.com';
      await host.addCustomer({ email, password: PASSWORD, firstname: 'Jane' });
      const client = new PortalClient(host.portal);
      const signedIn = await client.signIn(email, PASSWORD);
      expect(signedIn.response.status).to.equal(303);
      expect(signedIn.response.headers.get('location')).to.equal('/portal/');
      const home = await client.get('/');
      expect(home.response.status).to.equal(200);
      // The email breaks after its "@" where the account tools are too narrow for it.
      expect(home.html).to.include('Welcome, Jane').and.include('jane.pages@<wbr>example.com');
      const session = client.cookies.get('bp_session')!;
      const out = await client.post('/logout', { _csrf: tokenIn(home.html) });
      expect(out.response.status).to.equal(303);
      expect(out.response.headers.get('location')).to.equal('/portal/login');
      const replay = await fetch(`${host.portal}/api/v1/me`, { headers: { cookie: `bp_session=${session}` } });
      expect(replay.status).to.equal(401);
      expect((await client.get('/')).response.headers.get('location')).to.equal('/portal/login');
    });

    it('answers every kind of refusal with the same page and status, as the API does', async () => {
      const locked = 'locked.pages@example.com';
      const off = 'off.pages@example.com';
      const good = 'good.pages@example.com';
      await host.addCustomer({ email: locked, password: PASSWORD });
      await host.addCustomer({ email: off, password: PASSWORD });
      await host.addCustomer({ email: good, password: PASSWORD });
      await host.exec('UPDATE bp_portal_accounts SET locked_at = :now, failed_attempts = 5 WHERE email = :email', { now: new Date(), email: locked });
      await host.exec('UPDATE bp_portal_accounts SET portal_enabled = :no WHERE email = :email', { no: false, email: off });

      const client = new PortalClient(host.portal);
      const { html } = await client.get('/login');
      const token = tokenIn(html);
      // The page shows back the email typed: mask it, then every refusal must read the same.
      const outcomes = [];
      for (const [email, password] of [
        ['nobody@example.com', PASSWORD],
        [good, 'Wrong-password-1'],
        [locked, PASSWORD],
        [off, PASSWORD],
      ] as const) {
        const { response, html: page } = await client.post('/login', { _csrf: token, email, password });
        outcomes.push({ status: response.status, page: page.replace(email, 'EMAIL'), cookies: response.headers.getSetCookie() });
      }
      for (const outcome of outcomes) {
        expect(outcome.status).to.equal(401);
        expect(outcome.cookies).to.deep.equal([]);
        expect(outcome.page).to.equal(outcomes[0]!.page);
      }
      expect(outcomes[0]!.page).to.include('The email or the password is not correct, or this account cannot sign in at the moment.');
      // The email is kept: the password box has the focus, to be typed again.
      expect(outcomes[0]!.page).to.match(/<input id="bp-password"[^>]* autofocus>/).and.not.match(/<input id="bp-email"[^>]* autofocus>/);
      const api = await client.api('/auth/login', { email: locked, password: PASSWORD });
      expect(api.status).to.equal(401);
      expect(((await api.json()) as { error: { message: string } }).error.message).to.equal('The email or the password is not correct, or this account cannot sign in at the moment.');
    });
  });

  describe('first access', () => {
    it('forces a customer with a generated password to change it, on the pages and in the API', async () => {
      const email = 'first.access@example.com';
      const contactId = await host.addCustomer({ email, password: PASSWORD, language: 'it', firstname: 'Mario', mustChangePassword: true });
      // A second browser signed in through the API beforehand.
      const other = new PortalClient(host.portal);
      const apiLogin = await other.api('/auth/login', { email, password: PASSWORD });
      expect(apiLogin.status).to.equal(200);
      expect(((await apiLogin.json()) as { contact: { mustChangePassword: boolean } }).contact.mustChangePassword).to.equal(true);
      // /me answers (and says the change is due); the data routes do not.
      const me = await fetch(`${host.portal}/api/v1/me`, { headers: { cookie: other.cookieHeader() } });
      expect(me.status).to.equal(200);
      expect(((await me.json()) as { contact: { mustChangePassword: boolean } }).contact.mustChangePassword).to.equal(true);
      const blocked = await fetch(`${host.portal}/api/v1/modules`, { headers: { cookie: other.cookieHeader() } });
      expect(blocked.status).to.equal(403);
      expect(((await blocked.json()) as { error: { code: string } }).error.code).to.equal('password_change_required');

      const client = new PortalClient(host.portal);
      const signedIn = await client.signIn(email, PASSWORD);
      expect(signedIn.response.headers.get('location')).to.equal('/portal/first-access');
      expect((await client.get('/')).response.headers.get('location')).to.equal('/portal/first-access');
      const page = await client.get('/first-access');
      expect(page.response.status).to.equal(200);
      expect(page.html).to.include(`value="${email}"`);

      const mismatch = await client.post('/first-access', { _csrf: tokenIn(page.html), email, newPassword: NEW_PASSWORD, confirmPassword: `${NEW_PASSWORD}x` });
      expect(mismatch.response.status).to.equal(400);
      // Mario's contact is Italian: signed in, the pages speak it (the browser said nothing).
      expect(mismatch.html).to.include('Le due nuove password non coincidono.');
      // The form again with its refusal: the title says so first, as GOV.UK's error summary does.
      expect(/<title>([^<]*)<\/title>/.exec(mismatch.html)?.[1]).to.equal(`Errore: ${/<title>([^<]*)<\/title>/.exec(page.html)?.[1]}`);
      const common = await client.post('/first-access', { _csrf: tokenIn(page.html), email, newPassword: 'password123', confirmPassword: 'password123' });
      expect(common.response.status).to.equal(400);
      expect(common.html).to.include('troppo comune');
      // The error is tied to the field it is about: marked invalid, described by it, focused.
      expect(common.html).to.match(/<input id="bp-new-password"[^>]*aria-describedby="bp-password-hint bp-first-error" aria-invalid="true" autofocus>/);
      expect(common.html).to.include('id="bp-first-error"');
      const otherEmail = await client.post('/first-access', { _csrf: tokenIn(page.html), email: 'someone.else@example.com', newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
      expect(otherEmail.response.status).to.equal(400);
      expect(otherEmail.html).to.match(/<input id="bp-email"[^>]*aria-invalid="true" aria-describedby="bp-first-error" autofocus>/);
      expect(otherEmail.html).not.to.match(/<input id="bp-new-password"[^>]*aria-invalid/);
      const noCsrf = await client.post('/first-access', { email, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
      expect(noCsrf.response.status).to.equal(403);

      const since = host.mailbox.received.length;
      const done = await client.post('/first-access', { _csrf: tokenIn(page.html), email, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
      expect(done.response.status).to.equal(303);
      // The home says the new password is saved: without a word, the customer could not tell it was.
      expect(done.response.headers.get('location')).to.equal('/portal/?notice=password');
      const home = await client.get('/?notice=password');
      expect(home.response.status).to.equal(200);
      expect(home.html).to.include('<p class="bp-notice" role="status">La tua nuova password è salvata: d’ora in poi accedi con questa. Ti stiamo inviando un’email di conferma.</p>');
      expect((await client.get('/')).html).not.to.include('class="bp-notice"');
      // Every other session ended; the mail arrived in the contact's language.
      expect((await fetch(`${host.portal}/api/v1/me`, { headers: { cookie: other.cookieHeader() } })).status).to.equal(401);
      const mail = await host.mailbox.waitFor(email, { since });
      expect(mail.subject).to.equal('La password del portale è stata cambiata');
      const [account] = await host.sql<{ must_change_password: unknown }>('SELECT must_change_password FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
      expect([false, 0, '0', 'f']).to.include(account!.must_change_password);
      // The old password is dead, the new one works.
      expect((await new PortalClient(host.portal).api('/auth/login', { email, password: PASSWORD })).status).to.equal(401);
      expect((await new PortalClient(host.portal).api('/auth/login', { email, password: NEW_PASSWORD })).status).to.equal(200);
    });

    it('takes the email confirmed in another spelling of it: upper case, spaces around, the accent decomposed or the domain in punycode', async () => {
      const email = 'zoë.first@bücher.example';
      await host.addCustomer({ email, password: PASSWORD, mustChangePassword: true });
      for (const typed of [` ${'ZOË.FIRST@BÜCHER.EXAMPLE'} `, 'zoe\u0308.first@bu\u0308cher.example', 'zoë.first@xn--bcher-kva.example']) {
        const client = new PortalClient(host.portal);
        expect((await client.signIn(email, PASSWORD)).response.headers.get('location')).to.equal('/portal/first-access');
        const page = await client.get('/first-access');
        // A new password each time it is refused: same as the current one is refused too.
        const refused = await client.post('/first-access', { _csrf: tokenIn(page.html), email: typed, newPassword: NEW_PASSWORD, confirmPassword: `${NEW_PASSWORD}x` });
        expect(refused.response.status, typed).to.equal(400);
        expect(refused.html, typed).to.match(/<input id="bp-email"[^>]*value="[^"]*"[^>]*>/);
        expect(refused.html, `${typed}: the email is taken as the account's`).not.to.match(/<input id="bp-email"[^>]*aria-invalid="true"/);
      }
    });

    it('carries the page asked for through the forced change, its query included', async () => {
      const email = 'first.next@example.com';
      await host.addCustomer({ email, password: PASSWORD, mustChangePassword: true });
      const client = new PortalClient(host.portal);
      const next = '/m/HelpDesk?q=Line&sort=ticket_no';
      const login = await client.get(`/login?next=${encodeURIComponent(next)}`);
      const signed = await client.post('/login', { _csrf: tokenIn(login.html), email, password: PASSWORD, next });
      expect(signed.response.headers.get('location')).to.equal(`/portal/first-access?next=${encodeURIComponent(next)}`);
      // A page asked for while the change is pending is carried the same way.
      expect((await client.get(next)).response.headers.get('location')).to.equal(`/portal/first-access?next=${encodeURIComponent(next)}`);
      const page = await client.get(`/first-access?next=${encodeURIComponent(next)}`);
      expect(page.html).to.include('name="next"');
      const done = await client.post('/first-access', { _csrf: tokenIn(page.html), email, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD, next });
      expect(done.response.status).to.equal(303);
      expect(done.response.headers.get('location')).to.equal(`/portal${next}`);
    });

    it('lets the API change the forced password, and asks for the current one otherwise', async () => {
      const email = 'first.api@example.com';
      await host.addCustomer({ email, password: PASSWORD, mustChangePassword: true });
      const client = new PortalClient(host.portal);
      expect((await client.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
      const weak = await client.api('/auth/password', { newPassword: 'short' });
      expect(weak.status).to.equal(400);
      expect(((await weak.json()) as { error: { code: string } }).error.code).to.equal('password_rejected');
      expect((await client.api('/auth/password', { newPassword: NEW_PASSWORD })).status).to.equal(204);
      const me = await fetch(`${host.portal}/api/v1/me`, { headers: { cookie: client.cookieHeader() } });
      expect(me.status).to.equal(200);
      // Now a change needs the current password, checked under the lockout counter.
      const wrong = await client.api('/auth/password', { currentPassword: 'Not-the-password-9', newPassword: 'Another long passphrase 7' });
      expect(wrong.status).to.equal(403);
      const [row] = await host.sql<{ failed_attempts: unknown }>('SELECT failed_attempts FROM bp_portal_accounts WHERE email = :email', { email });
      expect(Number(row!.failed_attempts)).to.equal(1);
      expect((await client.api('/auth/password', { currentPassword: NEW_PASSWORD, newPassword: 'Another long passphrase 7' })).status).to.equal(204);
    });

    it('writes a wrong current password in the login history, each before the lock the fifth one causes', async () => {
      const email = 'change.history@example.com';
      await host.addCustomer({ email, password: PASSWORD });
      const client = new PortalClient(host.portal);
      expect((await client.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
      for (let i = 0; i < 5; i += 1) {
        expect((await client.api('/auth/password', { currentPassword: 'Not-the-password-9', newPassword: 'Another long passphrase 7' })).status).to.equal(403);
      }
      const events = await host.sql<{ event: string; reason: string | null }>(
        `SELECT h.event, h.reason FROM bp_login_history h JOIN bp_portal_accounts a ON a.contact_id = h.contact_id
          WHERE a.email = :email AND h.event <> 'login' ORDER BY h.id`,
        { email },
      );
      expect(events.map((e) => `${e.event}:${e.reason}`)).to.deep.equal([
        ...Array.from({ length: 5 }, () => 'failed:wrong_current_password'),
        'locked:too_many_failures',
      ]);
    });

    it('refuses common passwords and their usual variants on POST /auth/password, and takes a passphrase', async () => {
      const email = 'change.common@example.com';
      await host.addCustomer({ email, password: PASSWORD });
      const client = new PortalClient(host.portal);
      expect((await client.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
      for (const newPassword of ['Password123!', 'Password1!', 'Qwerty123!', 'aaaaaaaa', '1234qwer', 'Welcome123!', 'P@ssw0rd2024', 'abcdefgh']) {
        const response = await client.api('/auth/password', { currentPassword: PASSWORD, newPassword });
        expect(response.status, newPassword).to.equal(400);
        expect(await response.json(), newPassword).to.deep.equal({
          error: { code: 'password_rejected', message: 'This password is too common and easy to guess. Please choose another one.' },
        });
      }
      // Nothing changed, and none of it counted as a failure.
      expect((await new PortalClient(host.portal).api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
      expect((await client.api('/auth/password', { currentPassword: PASSWORD, newPassword: 'welcome to the jungle 1987' })).status).to.equal(204);
    });

    it('counts a wrong current password on the client address too, up to the ban that refuses every account from it', async () => {
      const ip = '203.0.113.21';
      const email = 'change.counted@example.com';
      await host.addCustomer({ email, password: PASSWORD });
      const client = new PortalClient(host.portal, { 'x-forwarded-for': ip });
      expect((await client.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
      const address = async () => {
        const [row] = await host.sql<{ failures: unknown; banned_at: unknown }>('SELECT failures, banned_at FROM bp_client_failures WHERE ip = :ip', { ip });
        return { failures: Number(row?.failures ?? 0), banned: row !== undefined && row.banned_at !== null };
      };
      expect(await address()).to.deep.equal({ failures: 0, banned: false });

      const wrong = () => client.api('/auth/password', { currentPassword: 'Not-the-password-9', newPassword: 'Another long passphrase 7' });
      expect((await wrong()).status).to.equal(403);
      expect(await address()).to.deep.equal({ failures: 1, banned: false });

      // The hundredth failure from the address bans it, as a hundredth failed login would.
      await host.exec('UPDATE bp_client_failures SET failures = 99 WHERE ip = :ip', { ip });
      expect((await wrong()).status).to.equal(403);
      expect(await address()).to.deep.equal({ failures: 100, banned: true });
      // Banned: the right current password is not even checked, and no account signs in from there.
      expect((await client.api('/auth/password', { currentPassword: PASSWORD, newPassword: 'Another long passphrase 7' })).status).to.equal(403);
      expect((await new PortalClient(host.portal, { 'x-forwarded-for': ip }).api('/auth/login', { email, password: PASSWORD })).status).to.equal(401);
      await host.exec('DELETE FROM bp_client_failures WHERE ip = :ip', { ip });
    });
  });
});
