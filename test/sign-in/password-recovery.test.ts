/**
 * Password recovery: the same answer for known and unknown emails, throttling, and reset links
 * that work once, expire, and die with any password change.
 */
import { expect } from 'chai';
import { RESET_VALID_MINUTES } from '../../plugin/auth/password-reset.js';
import { PortalClient, resetTokenIn, startSignInHost, tokenIn, type SignInHost } from './sign-in-fixture.js';

const PASSWORD = 'Correct-horse-7';
const NEW_PASSWORD = 'A brand new passphrase 5';

describe('sign-in: password recovery @db', function () {
  this.timeout(60_000);
  let host: SignInHost;

  before(async () => {
    host = await startSignInHost();
  });
  after(async () => {
    await host?.stop();
  });

  /** Asks for a link through the page and answers the token from the mail. */
  async function requestLink(email: string): Promise<string> {
    const since = host.mailbox.received.length;
    const client = new PortalClient(host.portal);
    const { response } = await client.submit('/forgot-password', '/forgot-password', { email });
    expect(response.status).to.equal(200);
    return resetTokenIn(await host.mailbox.waitFor(email, { since }));
  }

  it('answers the same for a known and an unknown email; only the known one gets a link, in its language', async () => {
    const email = 'mario.recovery@example.com';
    await host.addCustomer({ email, password: PASSWORD, language: 'it', firstname: 'Mario' });
    const client = new PortalClient(host.portal);
    const { html } = await client.get('/forgot-password');
    const token = tokenIn(html);
    const since = host.mailbox.received.length;
    const known = await client.post('/forgot-password', { _csrf: token, email });
    const unknown = await client.post('/forgot-password', { _csrf: token, email: 'nobody.recovery@example.com' });
    expect(known.response.status).to.equal(200);
    expect(unknown.response.status).to.equal(known.response.status);
    expect(unknown.html).to.equal(known.html);
    expect(known.html).to.include('If a portal account uses this address');
    // The answer is a status present at load, which screen readers do not announce: the title says it first.
    expect(known.html).to.include('<title>If a portal account uses this address, a link to choose a new password is on its way. It works once and for 30 minutes. · Forgotten password · Customer portal</title>');

    const apiKnown = await client.api('/auth/forgot', { email });
    const apiUnknown = await client.api('/auth/forgot', { email: 'nobody.recovery@example.com' });
    expect(apiKnown.status).to.equal(202);
    expect(apiUnknown.status).to.equal(202);
    const apiKnownText = await apiKnown.text();
    expect(await apiUnknown.text()).to.equal(apiKnownText);
    // A control character (a NUL cut the SQLite statement short: a 500) is an address nobody has.
    const withNul = await client.api('/auth/forgot', { email: `${email}\u0000` });
    expect(withNul.status).to.equal(202);
    expect(await withNul.text()).to.equal(apiKnownText);
    const pageWithNul = await client.post('/forgot-password', { _csrf: token, email: `${email}\u0000` });
    expect(pageWithNul.response.status).to.equal(200);
    expect(pageWithNul.html).to.equal(known.html);
    const signIn = await client.get('/login');
    const refused = await client.post('/login', { _csrf: tokenIn(signIn.html), email: `${email}\u0000`, password: PASSWORD });
    expect(refused.response.status).to.equal(401);
    expect(refused.html).to.include('The email or the password is not correct');

    const mail = await host.mailbox.waitFor(email, { since });
    expect(mail.subject).to.equal('Reimposta la password del portale');
    expect(mail.text).to.include('Gentile Mario');
    expect(resetTokenIn(mail)).to.have.length(43);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(host.mailbox.received.slice(since).filter((m) => m.text?.includes('nobody.recovery'))).to.have.length(0);
    // Tokens are stored hashed.
    const rows = await host.sql<{ token_hash: string }>('SELECT token_hash FROM bp_reset_tokens');
    expect(rows.map((r) => r.token_hash)).not.to.include(resetTokenIn(mail));
  });

  it('says in the mail, in English and in Italian, how long the link lasts', async () => {
    expect(RESET_VALID_MINUTES).to.equal(30);
    const cases = [
      { email: 'lasts.en@example.com', language: 'en', says: `${RESET_VALID_MINUTES} minutes` },
      { email: 'lasts.it@example.com', language: 'it', says: `${RESET_VALID_MINUTES} minuti` },
    ] as const;
    for (const { email, language, says } of cases) {
      await host.addCustomer({ email, password: PASSWORD, language });
      const since = host.mailbox.received.length;
      await new PortalClient(host.portal).submit('/forgot-password', '/forgot-password', { email });
      const mail = await host.mailbox.waitFor(email, { since });
      expect(mail.text, language).to.include(says);
      expect(mail.html || '', language).to.include(says);
    }
  });

  it('throttles requests for one address', async () => {
    const email = 'throttled@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD });
    const client = new PortalClient(host.portal, { 'x-forwarded-for': '203.0.113.9' });
    for (let i = 0; i < 5; i++) expect((await client.api('/auth/forgot', { email })).status).to.equal(202);
    const [row] = await host.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_reset_tokens WHERE contact_id = :contactId', { contactId });
    expect(Number(row!.n)).to.equal(3);
  });

  it('keeps forgot-password requests (typed email, client address) only for the hour they are counted in', async () => {
    const email = 'kept.window@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD });
    const client = new PortalClient(host.portal, { 'x-forwarded-for': '203.0.113.44' });
    const tokens = async () => Number((await host.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_reset_tokens WHERE contact_id = :contactId', { contactId }))[0]!.n);
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    // Two requests past the hour, one near its end and one just made.
    for (let i = 0; i < 2; i++) expect((await client.api('/auth/forgot', { email })).status).to.equal(202);
    await host.exec('UPDATE bp_reset_requests SET at = :at WHERE email = :email', { at: minutesAgo(61), email });
    expect((await client.api('/auth/forgot', { email })).status).to.equal(202);
    await host.exec('UPDATE bp_reset_requests SET at = :at WHERE email = :email AND at > :hourAgo', { at: minutesAgo(59), email, hourAgo: minutesAgo(60) });
    expect((await client.api('/auth/forgot', { email })).status).to.equal(202);
    expect(await tokens()).to.equal(4);

    // The purge runs at activation, then on its timer.
    await host.test.host.plugins.deactivate('business-portal');
    await host.test.host.plugins.activate('business-portal');

    const kept = await host.sql<{ at: unknown }>('SELECT at FROM bp_reset_requests WHERE email = :email', { email });
    expect(kept, 'the two requests of the last hour').to.have.length(2);
    const [old] = await host.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_reset_requests WHERE at <= :hourAgo', { hourAgo: minutesAgo(60) });
    expect(Number(old!.n), 'no request older than an hour is left').to.equal(0);
    // The kept ones still count: a third request in the hour gets a link, a fourth does not.
    expect((await client.api('/auth/forgot', { email })).status).to.equal(202);
    expect(await tokens()).to.equal(5);
    expect((await client.api('/auth/forgot', { email })).status).to.equal(202);
    expect(await tokens()).to.equal(5);
  });

  it('sets a new password once with a link, ends every session, and refuses the link again', async () => {
    const email = 'reset.once@example.com';
    await host.addCustomer({ email, password: PASSWORD });
    const signedIn = new PortalClient(host.portal);
    expect((await signedIn.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
    const token = await requestLink(email);

    const client = new PortalClient(host.portal);
    const form = await client.get(`/reset-password?token=${token}`);
    expect(form.response.status).to.equal(200);
    const weak = await client.post('/reset-password', { _csrf: tokenIn(form.html), token, newPassword: 'qwerty123', confirmPassword: 'qwerty123' });
    expect(weak.response.status).to.equal(400);
    expect(weak.html).to.include('too common');
    // The form again with its refusal: the title says so first, as GOV.UK's error summary does.
    expect(/<title>([^<]*)<\/title>/.exec(weak.html)?.[1]).to.equal(`Error: ${/<title>([^<]*)<\/title>/.exec(form.html)?.[1]}`);
    expect(weak.html).to.match(/<input id="bp-new-password"[^>]*aria-describedby="bp-password-hint bp-reset-error" aria-invalid="true">/);
    const noCsrf = await client.post('/reset-password', { token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(noCsrf.response.status).to.equal(403);

    const since = host.mailbox.received.length;
    const done = await client.post('/reset-password', { _csrf: tokenIn(form.html), token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(done.response.status).to.equal(200);
    expect(done.html).to.include('Your password was changed');
    expect((await host.mailbox.waitFor(email, { since })).subject).to.equal('Your portal password was changed');
    expect((await fetch(`${host.portal}/api/v1/me`, { headers: { cookie: signedIn.cookieHeader() } })).status).to.equal(401);
    expect((await new PortalClient(host.portal).api('/auth/login', { email, password: NEW_PASSWORD })).status).to.equal(200);

    const reused = await client.post('/reset-password', { _csrf: tokenIn(form.html), token, newPassword: 'Yet another passphrase 3', confirmPassword: 'Yet another passphrase 3' });
    expect(reused.response.status).to.equal(400);
    expect(reused.html).to.include('This link is not valid');
    expect((await client.get(`/reset-password?token=${token}`)).response.status).to.equal(400);
    const api = await client.api('/auth/reset', { token, newPassword: 'Yet another passphrase 3' });
    expect(api.status).to.equal(400);
    expect(((await api.json()) as { error: { code: string } }).error.code).to.equal('invalid_link');
  });

  it('refuses an expired link', async () => {
    const email = 'reset.expired@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD });
    const token = await requestLink(email);
    await host.exec('UPDATE bp_reset_tokens SET expires_at = :past WHERE contact_id = :contactId', { past: new Date(Date.now() - 60_000), contactId });
    const response = await new PortalClient(host.portal).api('/auth/reset', { token, newPassword: NEW_PASSWORD });
    expect(response.status).to.equal(400);
    expect((await new PortalClient(host.portal).api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
  });

  it('refuses a link made before a password change', async () => {
    const email = 'reset.changed@example.com';
    await host.addCustomer({ email, password: PASSWORD });
    const token = await requestLink(email);
    const client = new PortalClient(host.portal);
    expect((await client.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
    expect((await client.api('/auth/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).to.equal(204);
    const response = await new PortalClient(host.portal).api('/auth/reset', { token, newPassword: 'Yet another passphrase 3' });
    expect(response.status).to.equal(400);
    expect((await new PortalClient(host.portal).api('/auth/login', { email, password: NEW_PASSWORD })).status).to.equal(200);
  });

  it('counts an unknown token against the client and a spent one against the account', async () => {
    const email = 'reset.counted@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD });
    const token = await requestLink(email);
    await host.exec('UPDATE bp_reset_tokens SET used_at = :now WHERE contact_id = :contactId', { now: new Date(), contactId });
    expect((await new PortalClient(host.portal).api('/auth/reset', { token, newPassword: NEW_PASSWORD })).status).to.equal(400);
    const [row] = await host.sql<{ failed_attempts: unknown }>('SELECT failed_attempts FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
    expect(Number(row!.failed_attempts)).to.equal(1);
  });
});
