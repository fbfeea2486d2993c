/**
 * The email second factor: a code after the password, counted on the shared lockout counter,
 * valid 10 minutes, single use, at most 5 tries, refused after a lock or a portal switch-off.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { CODES_PER_CONTACT_PER_HOUR, CODE_MAX_TRIES } from '../../plugin/auth/two-factor.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { startRefusingSmtp, type ScriptedSmtp } from '../support/scripted-smtp.js';
import { PortalClient, codeIn, resetTokenIn, startSignInHost, tokenIn, type SignInHost } from './sign-in-fixture.js';

const PASSWORD = 'Correct-horse-7';

describe('sign-in: two-factor by email @db', function () {
  this.timeout(60_000);
  let host: SignInHost;
  let profileId: number;

  before(async () => {
    host = await startSignInHost();
    profileId = await host.twoFactorProfile();
  });
  after(async () => {
    await host?.stop();
  });

  async function customer(email: string, language: 'en' | 'it' = 'en'): Promise<number> {
    return host.addCustomer({ email, password: PASSWORD, language, profileId });
  }

  /** Signs in with the password on the pages; answers the client (at the code step) and the emailed code. */
  async function passwordStep(email: string): Promise<{ client: PortalClient; code: string }> {
    const since = host.mailbox.received.length;
    const client = new PortalClient(host.portal);
    const { response } = await client.signIn(email, PASSWORD);
    expect(response.status).to.equal(303);
    expect(response.headers.get('location')).to.equal('/portal/two-factor');
    expect(client.cookies.has('bp_session')).to.equal(false);
    return { client, code: codeIn(await host.mailbox.waitFor(email, { since })) };
  }

  async function failures(contactId: number): Promise<{ failed: number; locked: boolean }> {
    const [row] = await host.sql<{ failed_attempts: unknown; locked_at: unknown }>('SELECT failed_attempts, locked_at FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
    return { failed: Number(row!.failed_attempts), locked: row!.locked_at !== null };
  }

  it('asks for the emailed code after the password and signs in with it, in the contact’s language', async () => {
    const email = 'code.ok@example.com';
    await customer(email, 'it');
    const since = host.mailbox.received.length;
    const client = new PortalClient(host.portal);
    await client.signIn(email, PASSWORD);
    const mail = await host.mailbox.waitFor(email, { since });
    expect(mail.subject).to.equal('Il tuo codice di verifica del portale');
    const code = codeIn(mail);
    const page = await client.get('/two-factor');
    expect(page.response.status).to.equal(200);
    expect(page.html).to.include('name="code"');
    const done = await client.post('/two-factor', { _csrf: tokenIn(page.html), code });
    expect(done.response.status).to.equal(303);
    expect(done.response.headers.get('location')).to.equal('/portal/');
    expect((await client.get('/')).response.status).to.equal(200);
    // The code is stored only as an HMAC.
    const rows = await host.sql<{ code_hash: string }>('SELECT code_hash FROM bp_two_factor_challenges');
    expect(rows.map((r) => r.code_hash)).not.to.include(code);
  });

  it('comes back to the page asked for after the code, through the same check as the login', async () => {
    const email = 'code.next@example.com';
    await customer(email);
    const since = host.mailbox.received.length;
    const client = new PortalClient(host.portal);
    const login = await client.get('/login?next=%2Fm%2FHelpDesk%2F1');
    const password = await client.post('/login', { _csrf: tokenIn(login.html), email, password: PASSWORD, next: '/m/HelpDesk/1' });
    expect(password.response.headers.get('location')).to.equal('/portal/two-factor?next=%2Fm%2FHelpDesk%2F1');
    const code = codeIn(await host.mailbox.waitFor(email, { since }));
    const page = await client.get('/two-factor?next=%2Fm%2FHelpDesk%2F1');
    expect(page.html).to.include('name="next" value="/m/HelpDesk/1"').and.match(/href="\/portal\/login\?next(=|&#x3D;)%2Fm%2FHelpDesk%2F1"/);
    // A wrong code first: the page asks again and still knows where to go.
    const wrong = await client.post('/two-factor', { _csrf: tokenIn(page.html), code: code === '000000' ? '111111' : '000000', next: '/m/HelpDesk/1' });
    expect(wrong.response.status).to.equal(401);
    // Asked again with a refusal: the title says so first, as GOV.UK's error summary does.
    expect(/<title>([^<]*)<\/title>/.exec(wrong.html)?.[1]).to.equal(`Error: ${/<title>([^<]*)<\/title>/.exec(page.html)?.[1]}`);
    expect(wrong.html).to.include('name="next" value="/m/HelpDesk/1"');
    expect(wrong.html).to.match(/<input id="bp-code"[^>]*aria-invalid="true" aria-describedby="bp-code-error">/).and.include('id="bp-code-error"');
    expect(page.html).not.to.include('aria-invalid');
    const done = await client.post('/two-factor', { _csrf: tokenIn(wrong.html), code, next: '/m/HelpDesk/1' });
    expect(done.response.status).to.equal(303);
    expect(done.response.headers.get('location')).to.equal('/portal/m/HelpDesk/1');

    // Another site, or a path outside the workspace, is dropped at every step.
    const other = new PortalClient(host.portal);
    const otherLogin = await other.get('/login');
    const otherSince = host.mailbox.received.length;
    const away = await other.post('/login', { _csrf: tokenIn(otherLogin.html), email, password: PASSWORD, next: '//evil.example/x' });
    expect(away.response.headers.get('location')).to.equal('/portal/two-factor');
    const otherCode = codeIn(await host.mailbox.waitFor(email, { since: otherSince }));
    const evil = await other.get('/two-factor?next=%2F%2Fevil.example%2Fx');
    expect(evil.html).not.to.include('evil.example');
    const landed = await other.post('/two-factor', { _csrf: tokenIn(evil.html), code: otherCode, next: '/logout' });
    expect(landed.response.headers.get('location')).to.equal('/portal/');
  });

  it('refuses a code used twice', async () => {
    const email = 'code.reused@example.com';
    await customer(email);
    const { client, code } = await passwordStep(email);
    const challenge = client.cookies.get('bp_2fa')!;
    const page = await client.get('/two-factor');
    expect((await client.post('/two-factor', { _csrf: tokenIn(page.html), code })).response.status).to.equal(303);
    const replay = await fetch(`${host.portal}/api/v1/auth/two-factor`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `bp_2fa=${challenge}` },
      body: JSON.stringify({ code }),
    });
    expect(replay.status).to.equal(401);
    expect(replay.headers.getSetCookie().some((c) => c.startsWith('bp_session=') && !c.startsWith('bp_session=;'))).to.equal(false);
  });

  it('counts five wrong codes as failed logins, then the challenge is dead and the right code refused', async () => {
    const email = 'code.wrong@example.com';
    const contactId = await customer(email);
    const { client, code } = await passwordStep(email);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= CODE_MAX_TRIES; i++) {
      const response = await client.api('/auth/two-factor', { code: wrong });
      expect(response.status, `try ${i}`).to.equal(401);
      expect((await failures(contactId)).failed).to.equal(i);
    }
    const right = await client.api('/auth/two-factor', { code });
    expect(right.status).to.equal(401);
    expect(await failures(contactId)).to.deep.equal({ failed: CODE_MAX_TRIES, locked: true });
  });

  it('tells the tries left before the account locks, counting the wrong passwords before the code', async () => {
    const email = 'code.tries@example.com';
    const contactId = await customer(email);
    for (let i = 0; i < 2; i++) {
      const wrongPassword = new PortalClient(host.portal);
      expect((await wrongPassword.signIn(email, 'Not-the-password-1')).response.status).to.equal(401);
    }
    const { client, code } = await passwordStep(email);
    const wrong = code === '000000' ? '111111' : '000000';
    const page = await client.get('/two-factor');
    // Two wrong passwords and one wrong code: two tries are left before the lock, not four.
    const first = await client.post('/two-factor', { _csrf: tokenIn(page.html), code: wrong });
    expect(first.response.status).to.equal(401);
    expect(first.html).to.include('The code is not correct. Tries left: 2.');
    const second = await client.post('/two-factor', { _csrf: tokenIn(first.html), code: wrong });
    expect(second.html).to.include('The code is not correct. Tries left: 1.');
    const third = await client.post('/two-factor', { _csrf: tokenIn(second.html), code: wrong });
    expect(await failures(contactId)).to.deep.equal({ failed: 5, locked: true });
    expect(third.html).not.to.include('Tries left');
    expect(third.html).to.include('name="password"');
  });

  it('refuses an empty or malformed code next to its box in the page’s language without spending a try (the form leaves the check to the server)', async () => {
    for (const [language, message] of [
      ['en', 'Enter the 6-digit code from the email.'],
      ['it', 'Inserisci il codice di 6 cifre ricevuto via email.'],
    ] as const) {
      const email = `code.malformed.${language}@example.com`;
      const contactId = await customer(email, language);
      const since = host.mailbox.received.length;
      const client = new PortalClient(host.portal, { 'accept-language': language });
      expect((await client.signIn(email, PASSWORD)).response.status).to.equal(303);
      const code = codeIn(await host.mailbox.waitFor(email, { since }));
      let page = await client.get('/two-factor');
      expect(page.html).to.match(/<form method="post" action="\/portal\/two-factor" class="bp-form" novalidate>/);
      for (const malformed of ['', '   ', '12345', '1234567', 'abcdef', '12-456']) {
        const refused = await client.post('/two-factor', { _csrf: tokenIn(page.html), code: malformed });
        expect(refused.response.status, `${language} ${JSON.stringify(malformed)}`).to.equal(400);
        expect(refused.html).to.include(`<p class="bp-error" role="alert" id="bp-code-error">${message}</p>`);
        expect(refused.html).to.match(/<input id="bp-code"[^>]* aria-invalid="true" aria-describedby="bp-code-error"/);
        page = refused;
      }
      const [challenge] = await host.sql<{ attempts: unknown }>('SELECT attempts FROM bp_two_factor_challenges WHERE contact_id = :contactId', { contactId });
      expect(Number(challenge!.attempts), 'tries spent').to.equal(0);
      expect(await failures(contactId)).to.deep.equal({ failed: 0, locked: false });
      // Typed with a space in the middle, as a mail client may show it: still the code.
      const done = await client.post('/two-factor', { _csrf: tokenIn(page.html), code: `${code.slice(0, 3)} ${code.slice(3)}` });
      expect(done.response.status).to.equal(303);
    }
  });

  it('refuses through the API a code that cannot be one with a 400 that spends no try, as the page does', async () => {
    const email = 'code.malformed.api@example.com';
    const contactId = await customer(email);
    const { client, code } = await passwordStep(email);
    for (const malformed of ['   ', '12345', '1234567', 'abcdef', '12-456']) {
      const refused = await client.api('/auth/two-factor', { code: malformed });
      expect(refused.status, JSON.stringify(malformed)).to.equal(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('invalid_request');
    }
    const [challenge] = await host.sql<{ attempts: unknown }>('SELECT attempts FROM bp_two_factor_challenges WHERE contact_id = :contactId', { contactId });
    expect(Number(challenge!.attempts), 'tries spent').to.equal(0);
    expect(await failures(contactId)).to.deep.equal({ failed: 0, locked: false });
    expect((await client.api('/auth/two-factor', { code: ` ${code.slice(0, 3)} ${code.slice(3)} ` })).status).to.equal(200);
  });

  it('refuses an expired code', async () => {
    const email = 'code.expired@example.com';
    const contactId = await customer(email);
    const { client, code } = await passwordStep(email);
    await host.exec('UPDATE bp_two_factor_challenges SET expires_at = :past WHERE contact_id = :contactId', { past: new Date(Date.now() - 1000), contactId });
    expect((await client.api('/auth/two-factor', { code })).status).to.equal(401);
    expect((await client.get('/two-factor')).response.headers.get('location')).to.equal('/portal/login');
  });

  it('refuses the code after a lock or a portal switch-off between password and code', async () => {
    const locked = 'code.locked@example.com';
    const lockedId = await customer(locked);
    const first = await passwordStep(locked);
    await host.exec('UPDATE bp_portal_accounts SET locked_at = :now WHERE contact_id = :contactId', { now: new Date(), contactId: lockedId });
    expect((await first.client.api('/auth/two-factor', { code: first.code })).status).to.equal(401);

    const off = 'code.off@example.com';
    const offId = await customer(off);
    const second = await passwordStep(off);
    await host.exec('UPDATE bp_portal_accounts SET portal_enabled = :no WHERE contact_id = :contactId', { no: false, contactId: offId });
    expect((await second.client.api('/auth/two-factor', { code: second.code })).status).to.equal(401);
    await host.exec('UPDATE bp_portal_accounts SET portal_enabled = :yes WHERE contact_id = :contactId', { yes: true, contactId: offId });
    expect((await second.client.api('/auth/two-factor', { code: second.code })).status, 'the refused challenge stays dead').to.equal(401);
  });

  /** The attacker's half: the old password through the API (202 and a challenge cookie), and the code it mailed. */
  async function apiPasswordStep(email: string, password = PASSWORD): Promise<{ client: PortalClient; code: string }> {
    const since = host.mailbox.received.length;
    const client = new PortalClient(host.portal);
    expect((await client.api('/auth/login', { email, password })).status).to.equal(202);
    expect(client.cookies.has('bp_2fa')).to.equal(true);
    return { client, code: codeIn(await host.mailbox.waitFor(email, { since, subject: /verification code/ })) };
  }

  /** The answer to a code: a refusal like any bad code, and no session. */
  async function expectRefused(client: PortalClient, code: string): Promise<void> {
    const response = await client.api('/auth/two-factor', { code });
    expect(response.status).to.equal(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('invalid_code');
    expect(client.cookies.has('bp_session')).to.equal(false);
    expect((await fetch(`${host.portal}/api/v1/me`, { headers: { cookie: client.cookieHeader() } })).status).to.equal(401);
  }

  it('refuses a code asked for with the old password once the password is reset', async () => {
    const email = 'code.reset@example.com';
    await customer(email);
    const attacker = await apiPasswordStep(email);

    const since = host.mailbox.received.length;
    const victim = new PortalClient(host.portal);
    expect((await victim.api('/auth/forgot', { email })).status).to.equal(202);
    const token = resetTokenIn(await host.mailbox.waitFor(email, { since, subject: /reset/i }));
    expect((await victim.api('/auth/reset', { token, newPassword: 'A brand new passphrase 5' })).status).to.equal(204);

    await expectRefused(attacker.client, attacker.code);
    // The new password starts a challenge that works.
    const fresh = await apiPasswordStep(email, 'A brand new passphrase 5');
    expect((await fresh.client.api('/auth/two-factor', { code: fresh.code })).status).to.equal(200);
  });

  it('refuses a code asked for with the old password once the signed-in owner changes it', async () => {
    const email = 'code.changed@example.com';
    await customer(email);
    const victim = await apiPasswordStep(email);
    expect((await victim.client.api('/auth/two-factor', { code: victim.code })).status).to.equal(200);
    const attacker = await apiPasswordStep(email);

    const change = await victim.client.api('/auth/password', { currentPassword: PASSWORD, newPassword: 'Another long passphrase 7' });
    expect(change.status).to.equal(204);

    await expectRefused(attacker.client, attacker.code);
  });

  /** Runs `during` while the first query matching `when` waits (another host process, simulated). */
  async function holding(when: (replacements: Record<string, unknown>) => boolean, work: () => Promise<Response>, during: () => Promise<void>): Promise<Response> {
    let reached!: () => void;
    const waiting = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    host.sequelize.addHook('beforeQuery', 'two-factor-race', async (options: unknown) => {
      // Outside a transaction only: one held open would keep SQLite's write lock from the change.
      const { replacements, transaction } = options as { replacements?: Record<string, unknown>; transaction?: unknown };
      if (!held && !transaction && replacements && when(replacements)) {
        held = true;
        reached();
        await released;
      }
    });
    let answer: Promise<Response>;
    try {
      answer = work();
      await waiting;
      await during();
    } finally {
      release();
      host.sequelize.removeHook('beforeQuery', 'two-factor-race');
    }
    return answer;
  }

  /** A password change as another host process writes it: the new hash, then the contact's challenges gone. */
  async function changedElsewhere(contactId: number): Promise<void> {
    await host.exec('UPDATE bp_portal_accounts SET password_hash = :hash, version = version + 1 WHERE contact_id = :contactId', { contactId, hash: 'changed-elsewhere' });
    await host.exec('DELETE FROM bp_two_factor_challenges WHERE contact_id = :contactId', { contactId });
  }

  it('stores no challenge for a password changed on another process between its check and the challenge', async function () {
    // The race needs row locks: SQLite's one writer (held here by the paused sign-in) would refuse the change as busy.
    if (host.sequelize.getDialect() === 'sqlite') return this.skip();
    const email = 'code.race.start@example.com';
    const contactId = await customer(email);
    const since = host.mailbox.received.length;
    const client = new PortalClient(host.portal);
    // Held where the new challenge is about to be stored: the challenges' clean-up before it.
    const login = await holding(
      (r) => Object.keys(r).join(',') === 'forgotten',
      () => client.api('/auth/login', { email, password: PASSWORD }),
      () => changedElsewhere(contactId),
    );
    expect(login.status).to.equal(401);
    expect(await host.sql('SELECT id FROM bp_two_factor_challenges WHERE contact_id = :contactId', { contactId })).to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(host.mailbox.received.slice(since).filter((mail) => JSON.stringify(mail.to).includes(email))).to.deep.equal([]);
  });

  it('opens no session for a password changed on another process while its code was being checked', async function () {
    // The race needs row locks: SQLite's one writer (held here by the paused sign-in) would refuse the change as busy.
    if (host.sequelize.getDialect() === 'sqlite') return this.skip();
    const email = 'code.race.check@example.com';
    const contactId = await customer(email);
    const { client, code } = await apiPasswordStep(email);
    // Held after the challenge was used up, before the session: the client's success count.
    const done = await holding(
      (r) => Object.keys(r).join(',') === 'ip',
      () => client.api('/auth/two-factor', { code }),
      () => changedElsewhere(contactId),
    );
    expect(done.status).to.equal(401);
    expect(client.cookies.has('bp_session')).to.equal(false);
    expect(await host.sql('SELECT id FROM bp_sessions WHERE contact_id = :contactId', { contactId })).to.deep.equal([]);
  });

  it(`mails at most ${CODES_PER_CONTACT_PER_HOUR} codes an hour to a contact, parallel sign-ins included; the latest code still works`, async () => {
    const email = 'code.flood@example.com';
    const contactId = await customer(email);
    const mailsTo = () => host.mailbox.received.filter((mail) => mail.text?.includes('code') && JSON.stringify(mail.to).includes(email)).length;
    const first = await passwordStep(email);
    let latest = first;
    for (let i = 1; i < CODES_PER_CONTACT_PER_HOUR - 1; i++) latest = await passwordStep(email);
    // The hour's last codes asked for at once: one is mailed, the others are refused.
    const since = host.mailbox.received.length;
    const racing = Array.from({ length: 5 }, () => new PortalClient(host.portal));
    const statuses = (await Promise.all(racing.map((client) => client.api('/auth/login', { email, password: PASSWORD })))).map((response) => response.status);
    expect(statuses.filter((status) => status === 202).length).to.be.at.most(1);
    expect(statuses.every((status) => status === 202 || status === 429), statuses.join()).to.equal(true);
    const winner = racing[statuses.indexOf(202)];
    if (winner) latest = { client: winner, code: codeIn(await host.mailbox.waitFor(email, { since })) };
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo()).to.be.at.most(CODES_PER_CONTACT_PER_HOUR);

    // Past the limit: the right password is told to wait, on the API and the pages; no mail leaves.
    const mails = mailsTo();
    const api = new PortalClient(host.portal);
    const refused = await api.api('/auth/login', { email, password: PASSWORD });
    expect(refused.status).to.equal(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('too_many_codes');
    expect(api.cookies.has('bp_2fa')).to.equal(false);
    const browser = new PortalClient(host.portal);
    const page = await browser.signIn(email, PASSWORD);
    expect(page.response.status).to.equal(429);
    expect(page.html).to.include('too many verification codes');
    expect(browser.cookies.has('bp_2fa')).to.equal(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo()).to.equal(mails);
    // Nothing of it counted as a failure; a code mailed before the last is dead, the last one signs in.
    expect((await first.client.api('/auth/two-factor', { code: first.code })).status).to.equal(401);
    expect((await failures(contactId)).failed).to.equal(0);
    expect((await latest.client.api('/auth/two-factor', { code: latest.code })).status).to.equal(200);
  });

  it('keeps a challenge (the contact, the client address) only for the hour its code is counted in, with no sign-in needed to remove it', async () => {
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    const old = await customer('challenge.old@example.com');
    const recent = await customer('challenge.recent@example.com');
    await passwordStep('challenge.old@example.com');
    await passwordStep('challenge.recent@example.com');
    // One asked for 70 minutes ago (past its hour), one 55 minutes ago (dead, still counted for the hour's limit).
    await host.exec('UPDATE bp_two_factor_challenges SET created_at = :created, expires_at = :expires WHERE contact_id = :contactId', { created: minutesAgo(70), expires: minutesAgo(60), contactId: old });
    await host.exec('UPDATE bp_two_factor_challenges SET created_at = :created, expires_at = :expires WHERE contact_id = :contactId', { created: minutesAgo(55), expires: minutesAgo(45), contactId: recent });

    // The background purge runs at activation, then on its timer: no code step has to start for it.
    await host.test.host.plugins.deactivate('business-portal');
    await host.test.host.plugins.activate('business-portal');

    const left = await host.sql<{ contact_id: unknown }>('SELECT contact_id FROM bp_two_factor_challenges WHERE contact_id IN (:ids)', { ids: [old, recent] });
    expect(left.map((row) => Number(row.contact_id)), 'only the challenge of the last hour is kept').to.deep.equal([recent]);
    const [stale] = await host.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_two_factor_challenges WHERE created_at <= :hourAgo', { hourAgo: minutesAgo(60) });
    expect(Number(stale!.n), 'no challenge older than an hour is left').to.equal(0);
  });

  it('works the same through the API: 202 after the password, then the code gives the session', async () => {
    const email = 'code.api@example.com';
    const contactId = await customer(email);
    await host.exec('UPDATE bp_portal_accounts SET failed_attempts = 2 WHERE contact_id = :contactId', { contactId });
    const since = host.mailbox.received.length;
    const client = new PortalClient(host.portal);
    const login = await client.api('/auth/login', { email, password: PASSWORD });
    expect(login.status).to.equal(202);
    expect(await login.json()).to.deep.equal({ secondFactor: { method: 'email' } });
    expect(client.cookies.has('bp_session')).to.equal(false);
    // The right password alone does not clear earlier failures; the full login does.
    expect((await failures(contactId)).failed).to.equal(2);
    const code = codeIn(await host.mailbox.waitFor(email, { since }));
    const done = await client.api('/auth/two-factor', { code });
    expect(done.status).to.equal(200);
    expect(((await done.json()) as { contact: { email: string } }).contact.email).to.equal(email);
    expect((await fetch(`${host.portal}/api/v1/me`, { headers: { cookie: client.cookieHeader() } })).status).to.equal(200);
    expect((await failures(contactId)).failed).to.equal(0);
  });
});

describe('sign-in: two-factor when the mail server refuses the code @db', function () {
  this.timeout(60_000);
  const JANE = 'jane.doe@example.com';
  let test: TestHost;
  let smtp: ScriptedSmtp;

  before(async () => {
    smtp = await startRefusingSmtp(451, 'Service unavailable');
    test = await startTestHost({ demo: true, smtpUrl: smtp.url });
    await test.host.api.database.sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'email'`);
  });
  after(async () => {
    await test?.stop();
    await smtp?.close();
  });

  it('answers a clean 503 (API) or the login page with a message, never a 500, and starts nothing', async () => {
    const portal = `${test.url}/portal`;
    const api = new PortalClient(portal);
    const login = await api.api('/auth/login', { email: JANE, password: 'Portal-demo-1' });
    expect(login.status).to.equal(503);
    expect(((await login.json()) as { error: { code: string } }).error.code).to.equal('code_not_sent');
    expect(api.cookies.has('bp_2fa')).to.equal(false);
    expect(api.cookies.has('bp_session')).to.equal(false);

    const browser = new PortalClient(portal);
    const page = await browser.signIn(JANE, 'Portal-demo-1');
    expect(page.response.status).to.equal(503);
    expect(page.html).to.include('could not send the verification code');
    expect(browser.cookies.has('bp_2fa')).to.equal(false);

    expect(smtp.attempts, 'both codes were offered to the mail server').to.be.at.least(2);
    const [row] = await test.host.api.database.sequelize.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_two_factor_challenges', { type: QueryTypes.SELECT });
    expect(Number(row!.n), 'no challenge waits for a code nobody received').to.equal(0);
  });
});
