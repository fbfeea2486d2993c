import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Request } from 'express';
import type { CrmSession, HostInstallation } from '../../plugin/host-contract/index.js';
import { HmacCsrfTokens } from '../../plugin/http/csrf.js';
import type { PluginSettings } from '../../plugin/lifecycle/contributions.js';
import { crmUser } from './plugin-test-host.js';

function tokens(secret: Buffer): HmacCsrfTokens {
  const installation: HostInstallation = { origin: () => ({ kind: 'fresh' }), pluginSecret: () => secret };
  const settings = { manifest: { id: 'business-portal' }, portalPath: '/portal', settingsPath: '/settings/business-portal' } as PluginSettings;
  return new HmacCsrfTokens(installation, settings);
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
