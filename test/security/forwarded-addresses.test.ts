/**
 * Behind the trusted (loopback) proxy, the client is the first `X-Forwarded-For` entry the host
 * does not trust. An entry that is no IP address (`<b>1.2.3.4</b>`, `unknown`, `1.2.3.4:5678`)
 * names no client: it is not recorded or counted as an address; the client is then the hop that
 * passed it on (the proxy, or the socket's peer).
 */
import { expect } from 'chai';
import type { TestHost } from '../support/host.js';
import { API, JANE, startApiHost } from '../portal-api/api-test-kit.js';

describe('security: forwarded client addresses that are no IP address @db', function () {
  this.timeout(120_000);
  let t: TestHost;

  before(async () => {
    t = await startApiHost();
  });
  after(async () => t?.stop());

  const failedLogin = (forwardedFor: string, email: string) =>
    fetch(`${t.url}${API}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ email, password: 'not-the-password' }),
    });
  const recorded = async (email: string) =>
    (
      await t.host.api.database.sequelize.query<{ ip: string | null }>('SELECT ip FROM bp_login_history WHERE email = :email', {
        type: 'SELECT' as never,
        replacements: { email },
      })
    ).map((row) => row.ip);
  const counted = async () =>
    (await t.host.api.database.sequelize.query<{ ip: string }>('SELECT ip FROM bp_client_failures', { type: 'SELECT' as never })).map((row) => row.ip).sort();

  it('records and counts the proxy that passed on an entry that is no address, not the entry', async () => {
    const entries = ['<b>1.2.3.4</b>', 'unknown', '1.2.3.4:5678', "1.2.3.4' OR '1'='1"];
    for (const [i, entry] of entries.entries()) expect((await failedLogin(entry, `ghost-${i}@example.com`)).status, entry).to.equal(401);
    for (const [i, entry] of entries.entries()) expect(await recorded(`ghost-${i}@example.com`), entry).to.deep.equal(['127.0.0.1']);
    expect(await counted()).to.deep.equal(['127.0.0.1']);

    // A chain: the nearest untrusted entry is the client when it is an address ...
    expect((await failedLogin('<b>x</b>, 203.0.113.9', 'ghost-chain@example.com')).status).to.equal(401);
    expect(await recorded('ghost-chain@example.com')).to.deep.equal(['203.0.113.9']);
    // ... and, when it is not, the trusted hop that passed it on.
    expect((await failedLogin('<b>x</b>, 127.0.0.2', 'ghost-hop@example.com')).status).to.equal(401);
    expect(await recorded('ghost-hop@example.com')).to.deep.equal(['127.0.0.2']);
    expect(await counted()).to.deep.equal(['127.0.0.1', '127.0.0.2', '203.0.113.9']);
  });

  it('still records a forwarded IP address as the client', async () => {
    expect((await failedLogin('198.51.100.23', JANE)).status).to.equal(401);
    expect(await recorded(JANE)).to.include('198.51.100.23');
  });
});
