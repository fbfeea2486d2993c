import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Request } from 'express';
import type { CrmSession, HostInstallation } from '../../plugin/host-contract/index.js';
import { HmacCsrfTokens } from '../../plugin/http/csrf.js';
import { DerivedPluginKeys } from '../../plugin/http/plugin-keys.js';
import type { PluginSettings } from '../../plugin/lifecycle/contributions.js';
import { crmUser } from './plugin-test-host.js';

function tokens(secret: Buffer): HmacCsrfTokens {
  const installation: HostInstallation = { origin: () => ({ kind: 'fresh' }), pluginSecret: () => secret };
  const settings = { manifest: { id: 'business-portal' }, portalPath: '/portal', settingsPath: '/settings/business-portal' } as PluginSettings;
  return new HmacCsrfTokens(new DerivedPluginKeys(installation, settings));
}

const session = (sessionId: string): CrmSession => ({ user: crmUser({ id: 1, isAdmin: true }), sessionId });

describe('CSRF tokens', () => {
  const secret = randomBytes(32);
  const csrf = tokens(secret);
  const mine = session('session-one');
  const other = session('session-two');

  it('accepts the token of the same session', () => {
    const token = csrf.issue(mine);
    expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf.verify(mine, token)).to.equal(true);
    expect(tokens(secret).verify(mine, token), 'stable across restarts').to.equal(true);
  });

  it("refuses another session's token, a stale one, a tampered one and non-strings", () => {
    const token = csrf.issue(mine);
    expect(csrf.verify(other, token)).to.equal(false);
    expect(csrf.verify(mine, csrf.issue(other))).to.equal(false);
    expect(tokens(randomBytes(32)).verify(mine, token), 'another installation').to.equal(false);
    expect(csrf.verify(mine, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).to.equal(false);
    expect(csrf.verify(mine, token + 'x')).to.equal(false);
    expect(csrf.verify(mine, '')).to.equal(false);
    expect(csrf.verify(mine, undefined)).to.equal(false);
    expect(csrf.verify(mine, [token])).to.equal(false);
  });

  it('reads the token from the form field or the header', () => {
    const token = csrf.issue(mine);
    const request = (body: unknown, header?: string) => ({ body, get: (name: string) => (name.toLowerCase() === 'x-csrf-token' ? header : undefined) }) as unknown as Request;
    expect(csrf.verifyRequest(request({ _csrf: token }), mine)).to.equal(true);
    expect(csrf.verifyRequest(request(undefined, token), mine)).to.equal(true);
    expect(csrf.verifyRequest(request({ _csrf: 'nope' }, token), mine), 'a wrong form field is not rescued by the header').to.equal(false);
    expect(csrf.verifyRequest(request({}), mine)).to.equal(false);
  });
});

describe('plugin keys', () => {
  it('derives one key per use from the host secret, the same on every call, and new ones when the secret changes', () => {
    let secret = randomBytes(32);
    const installation: HostInstallation = { origin: () => ({ kind: 'fresh' }), pluginSecret: () => secret };
    const settings = { manifest: { id: 'business-portal' } } as PluginSettings;
    const keys = new DerivedPluginKeys(installation, settings);
    const admin = keys.key('business-portal:csrf:v1');
    const portal = keys.key('business-portal:portal-csrf:v1');
    const twoFactor = keys.key('business-portal:two-factor:v1');
    expect(admin).to.have.length(32);
    expect(new Set([admin, portal, twoFactor].map((k) => k.toString('hex'))).size, 'one key per use').to.equal(3);
    expect(keys.key('business-portal:csrf:v1').equals(admin)).to.equal(true);
    expect(new DerivedPluginKeys(installation, settings).key('business-portal:csrf:v1').equals(admin), 'stable across restarts').to.equal(true);

    const session = { user: crmUser({ id: 1, isAdmin: true }), sessionId: 'session-one' };
    const csrf = new HmacCsrfTokens(keys);
    const before = csrf.issue(session);
    secret = randomBytes(32); // the host's secret was replaced
    expect(keys.key('business-portal:csrf:v1').equals(admin)).to.equal(false);
    expect(csrf.verify(session, before), 'a token made under the old secret').to.equal(false);
    expect(csrf.verify(session, csrf.issue(session))).to.equal(true);
  });
});
