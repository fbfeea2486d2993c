/**
 * A profile that comes to ask for the second factor — switched to it by an admin, or a contact
 * moved to a profile that asks for it — is in force at the customer's next request: a session
 * opened with the password alone is then signed out (pages lead to the login, the API answers
 * `not_signed_in`, as for any ended session), while a session opened with the code goes on. The
 * admin's change is made on a second host process, the customer's requests go to the first.
 */
import { expect } from 'chai';
import type { StoredLicences } from '../../host/plugins/installation-settings.js';
import { hashToken } from '../../plugin/auth/portal-sessions.js';
import { startSecondHost, type TestHost } from '../support/host.js';
import { adminActor, adminClient, profileService, SETTINGS, type AdminClient } from '../profiles/profile-test-kit.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { PortalClient, codeIn, startSignInHost, tokenIn, type SignInHost } from './sign-in-fixture.js';

const PASSWORD = 'Correct-horse-7';

describe('sign-in: a second factor asked for after the sign-in @db', function () {
  this.timeout(60_000);
  let host: SignInHost;
  let other: TestHost;
  let admin: AdminClient;
  let profiles: DatabaseProfileService;

  before(async () => {
    host = await startSignInHost();
    await host.twoFactorProfile(); // the column, when the profiles capability did not add it
    other = await startSecondHost(host.test);
    admin = await adminClient(other);
    profiles = profileService(host.test.host.api);
  });
  after(async () => {
    await other?.stop();
    await host?.stop();
  });

  async function newProfile(name: string, twoFactorType: 'none' | 'email'): Promise<number> {
    const actor = await adminActor(host.test.host.api);
    const { id } = await profiles.create({ name, description: '', startFrom: null }, actor);
    if (twoFactorType !== 'none') await setTwoFactor(id, twoFactorType);
    return id;
  }

  /** The admin saves the profile's General section on the other process, as the privileges page's script does. */
  async function setTwoFactor(profileId: number, twoFactorType: 'none' | 'email'): Promise<void> {
    const { profile, general } = await profiles.document(profileId);
    const response = await admin.json('PUT', `${SETTINGS}/profiles/${profileId}/sections/general`, {
      version: profile.version,
      value: { ...general, twoFactorType, twoFactorFallback: 'none' },
    });
    expect(response.status, await response.text()).to.equal(200);
  }

  /** The admin gives the contact another profile on its Contact record, on the other process. */
  async function moveTo(contactId: number, profileId: number): Promise<void> {
    const page = await fetch(`${other.url}/contacts/${contactId}`, { headers: { cookie: admin.cookie } });
    const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(await page.text())?.[0] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
    const version = /name="version" value="(\d+)"/.exec(form)?.[1] ?? '';
    const response = await fetch(`${other.url}${SETTINGS}/contacts/${contactId}/portal-user`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: admin.cookie },
      body: new URLSearchParams({ _csrf: csrf, portalUser: 'yes', profileId: String(profileId), supportStartDate: '', supportEndDate: '', version }).toString(),
    });
    expect(response.status, await response.text()).to.equal(200);
    const [account] = await host.sql<{ profile_id: unknown }>('SELECT profile_id FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
    expect(Number(account!.profile_id)).to.equal(profileId);
  }

  /** Signed in with the password alone: a page client and an API client. */
  async function passwordOnly(email: string): Promise<{ page: PortalClient; api: PortalClient }> {
    const page = new PortalClient(host.portal);
    const signedIn = await page.signIn(email, PASSWORD);
    expect(signedIn.response.headers.get('location')).to.equal('/portal/');
    const api = new PortalClient(host.portal);
    expect((await api.api('/auth/login', { email, password: PASSWORD })).status).to.equal(200);
    await expectSignedIn({ page, api });
    return { page, api };
  }

  /** Signed in with the password and the emailed code: a page client and an API client. */
  async function withCode(email: string): Promise<{ page: PortalClient; api: PortalClient }> {
    let since = host.mailbox.received.length;
    const page = new PortalClient(host.portal);
    expect((await page.signIn(email, PASSWORD)).response.headers.get('location')).to.equal('/portal/two-factor');
    let code = codeIn(await host.mailbox.waitFor(email, { since }));
    const form = await page.get('/two-factor');
    expect((await page.post('/two-factor', { _csrf: tokenIn(form.html), code })).response.headers.get('location')).to.equal('/portal/');
    since = host.mailbox.received.length;
    const api = new PortalClient(host.portal);
    expect((await api.api('/auth/login', { email, password: PASSWORD })).status).to.equal(202);
    code = codeIn(await host.mailbox.waitFor(email, { since }));
    expect((await api.api('/auth/two-factor', { code })).status).to.equal(200);
    await expectSignedIn({ page, api });
    return { page, api };
  }

  const me = (client: PortalClient) => fetch(`${host.portal}/api/v1/me`, { headers: { cookie: client.cookieHeader() } });

  async function expectSignedIn(clients: { page: PortalClient; api: PortalClient }): Promise<void> {
    expect((await clients.page.get('/')).response.status, 'page').to.equal(200);
    expect((await me(clients.api)).status, 'API').to.equal(200);
  }

  /** Answered as a request whose session ended: the page leads to the login, the API says `not_signed_in`, and the session is gone. */
  async function expectSignedOut(clients: { page: PortalClient; api: PortalClient }, contactId: number): Promise<void> {
    const anonymous = await new PortalClient(host.portal).get('/');
    const page = await clients.page.get('/');
    expect(page.response.status, 'page').to.equal(anonymous.response.status);
    expect(page.response.headers.get('location'), 'page').to.equal(anonymous.response.headers.get('location'));
    expect(page.response.headers.get('location')).to.match(/^\/portal\/login/);
    const answer = await me(clients.api);
    expect(answer.status, 'API').to.equal(401);
    expect(((await answer.json()) as { error: { code: string } }).error.code).to.equal('not_signed_in');
    expect(await host.sql('SELECT id FROM bp_sessions WHERE contact_id = :contactId', { contactId }), 'no session left').to.deep.equal([]);
  }

  it('signs out a password-only session once the admin makes its profile ask for the code; the next sign-in asks for it', async () => {
    const profileId = await newProfile('Becomes two-factor', 'none');
    const email = 'switched.profile@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD, profileId });
    const clients = await passwordOnly(email);

    await setTwoFactor(profileId, 'email');
    await expectSignedOut(clients, contactId);
    // The login history says why, for the CRM.
    const history = await host.sql<{ event: string; reason: string }>("SELECT event, reason FROM bp_login_history WHERE contact_id = :contactId AND event = 'revoked'", { contactId });
    expect(history.map((h) => `${h.event}/${h.reason}`)).to.include('revoked/second_factor_required');
    const again = await new PortalClient(host.portal).signIn(email, PASSWORD);
    expect(again.response.headers.get('location')).to.equal('/portal/two-factor');
  });

  it('signs out a password-only session of the Default profile once the admin makes Default ask for the code', async () => {
    const [row] = await host.sql<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { yes: true });
    const defaultId = Number(row!.id);
    const email = 'default.profile@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD, profileId: null });
    const clients = await passwordOnly(email);
    await setTwoFactor(defaultId, 'email');
    try {
      await expectSignedOut(clients, contactId);
    } finally {
      await setTwoFactor(defaultId, 'none');
    }
  });

  it('keeps a session opened with the code through the same change', async () => {
    const profileId = await newProfile('Two-factor kept', 'email');
    const email = 'coded.session@example.com';
    await host.addCustomer({ email, password: PASSWORD, profileId });
    const clients = await withCode(email);
    await setTwoFactor(profileId, 'none');
    await expectSignedIn(clients);
    await setTwoFactor(profileId, 'email');
    await expectSignedIn(clients);
  });

  it('signs out a password-only session once the contact is moved to a profile that asks for the code', async () => {
    const plain = await newProfile('Password only', 'none');
    const coded = await newProfile('Moved into two-factor', 'email');
    const email = 'moved.contact@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD, profileId: plain });
    const clients = await passwordOnly(email);
    await moveTo(contactId, coded);
    await expectSignedOut(clients, contactId);
  });

  it('keeps a session opened with the code when the contact is moved to another profile that asks for it', async () => {
    const first = await newProfile('Two-factor first', 'email');
    const second = await newProfile('Two-factor second', 'email');
    const email = 'moved.coded@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD, profileId: first });
    const clients = await withCode(email);
    await moveTo(contactId, second);
    await expectSignedIn(clients);
  });

  it('keeps the second factor through a remember-me rotation and a password change', async () => {
    const profileId = await newProfile('Two-factor remembered', 'email');
    const email = 'remembered.coded@example.com';
    await host.addCustomer({ email, password: PASSWORD, profileId });
    const since = host.mailbox.received.length;
    const client = new PortalClient(host.portal);
    expect((await client.api('/auth/login', { email, password: PASSWORD, remember: true })).status).to.equal(202);
    expect((await client.api('/auth/two-factor', { code: codeIn(await host.mailbox.waitFor(email, { since })) })).status).to.equal(200);
    const secondFactorOf = async () => {
      const [row] = await host.sql<{ second_factor: unknown }>('SELECT second_factor FROM bp_sessions WHERE id = :id', { id: hashToken(client.cookies.get('bp_session')!) });
      return row?.second_factor;
    };
    expect(await secondFactorOf()).to.equal('email');

    // Its idle window lapsed: the next request rotates the token, and the successor keeps the factor.
    const first = client.cookies.get('bp_session')!;
    await host.exec('UPDATE bp_sessions SET idle_expires_at = :past WHERE id = :id', { id: hashToken(first), past: new Date(Date.now() - 1000) });
    expect((await client.get('/')).response.status).to.equal(200);
    expect(client.cookies.get('bp_session')).not.to.equal(first);
    expect(await secondFactorOf()).to.equal('email');

    // A password change opens a new session for this browser: it goes on as the one it replaces.
    const changed = await client.api('/auth/password', { currentPassword: PASSWORD, newPassword: 'Another-horse-8', confirmPassword: 'Another-horse-8' });
    expect(changed.status).to.equal(204);
    expect(await secondFactorOf()).to.equal('email');

    await setTwoFactor(profileId, 'none');
    await setTwoFactor(profileId, 'email');
    expect((await client.get('/')).response.status).to.equal(200);
    expect((await me(client)).status).to.equal(200);
  });

  it('asks for the code of a contact’s own profile only while the CRM holds the licence, as the sign-in does', async () => {
    const profileId = await newProfile('Two-factor while licensed', 'email');
    const email = 'licence.back@example.com';
    const contactId = await host.addCustomer({ email, password: PASSWORD, profileId });
    const licences = host.test.host.api.licences as StoredLicences;
    await licences.configure([]);
    try {
      // Without the licence only Default is in force, and it asks for no code: the session goes on.
      const clients = await passwordOnly(email);
      await expectSignedIn(clients);
      // With the licence back, the contact's own profile is in force again, and it asks for the code.
      await licences.configure(['business-portal']);
      await expectSignedOut(clients, contactId);
    } finally {
      await licences.configure(['business-portal']);
    }
  });
});
