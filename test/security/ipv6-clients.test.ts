/**
 * One IPv6 client, one counter: an IPv6 client holds a whole /64 (its router hands it out, and
 * privacy addresses change within it by themselves), so a counter per address let any IPv6
 * client guess on from a fresh address of its own after each ban, and ask for reset links
 * without limit. The counters of client addresses — the ban after 100 failures, the reset
 * requests per client — count a /64 as one client; an IPv4 address stays one client.
 */
import { expect } from 'chai';
import { crmLogin, type TestHost } from '../support/host.js';
import { API, JANE, PASSWORD, startApiHost, TOM } from '../portal-api/api-test-kit.js';
import { BAN_CLIENT_AFTER_FAILURES } from '../../plugin/auth/lockout.js';
import { RESET_REQUESTS_PER_CLIENT_PER_HOUR } from '../../plugin/auth/password-reset.js';

const PAGE = '/settings/business-portal/login-check';

describe('security: IPv6 clients rotating addresses within their /64 @db', function () {
  this.timeout(180_000);
  let t: TestHost;

  before(async () => {
    t = await startApiHost();
  });
  after(async () => t?.stop());

  /** The API's login, as the client at `address` behind the host's (loopback) proxy. */
  const login = (from: string, email: string, password: string) =>
    fetch(`${t.url}${API}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ email, password }),
    });

  it(`bans the whole /64 after ${BAN_CLIENT_AFTER_FAILURES} failures from its addresses, for every account, until an admin lifts it`, async () => {
    // Unknown emails (they lock no account), each failure from another address of one /64.
    for (let batch = 0; batch < BAN_CLIENT_AFTER_FAILURES / 10; batch += 1) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => login(`2001:db8:1:2:${(batch * 10 + i + 1).toString(16)}:0:0:1`, `ghost-${batch}-${i}@example.com`, 'guess-guess')),
      );
      for (const answer of answers) expect(answer.status).to.equal(401);
    }
    // The right password from yet another address of the /64: refused.
    expect((await login('2001:db8:1:2:ffff:eeee:dddd:cccc', JANE, PASSWORD)).status, 'a fresh address of the banned /64').to.equal(401);
    // Another /64, and an IPv4 client, are other clients.
    expect((await login('2001:db8:1:3::1', JANE, PASSWORD)).status).to.equal(200);
    expect((await login('198.51.100.7', JANE, PASSWORD)).status).to.equal(200);

    const banned = await t.host.api.database.sequelize.query<{ ip: string }>('SELECT ip FROM bp_client_failures WHERE banned_at IS NOT NULL', { type: 'SELECT' as never });
    expect(banned.map((b) => b.ip)).to.deep.equal(['2001:db8:1:2::/64']);
    // The admin sees the /64 on the login check page, and lifts its ban there.
    const admin = await crmLogin(t.url, 'admin', 'Admin-demo-1');
    const page = await fetch(`${t.url}${PAGE}`, { headers: { cookie: admin } });
    const html = await page.text();
    expect(page.status).to.equal(200);
    expect(html).to.include('2001:db8:1:2::/64');
    const token = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const lifted = await fetch(`${t.url}${PAGE}/lift-ban`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: admin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, ip: '2001:db8:1:2::/64' }).toString(),
    });
    expect(lifted.status).to.equal(303);
    const notice = await (await fetch(new URL(lifted.headers.get('location')!, t.url), { headers: { cookie: admin } })).text();
    expect(notice).to.include('2001:db8:1:2::/64');
    expect((await login('2001:db8:1:2::abcd', JANE, PASSWORD)).status).to.equal(200);
  });

  it(`takes ${RESET_REQUESTS_PER_CLIENT_PER_HOUR} reset requests an hour from a /64, whichever of its addresses they come from`, async () => {
    const forgot = (from: string, email: string) =>
      fetch(`${t.url}${API}/auth/forgot`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': from }, body: JSON.stringify({ email }) });
    for (let i = 1; i <= RESET_REQUESTS_PER_CLIENT_PER_HOUR; i += 1) expect((await forgot(`2001:db8:5:6::${i.toString(16)}`, `nobody-${i}@example.com`)).status).to.equal(202);
    const tom = (await t.host.api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: TOM }, limit: 1 })).rows[0]!.id;
    const tokens = async () => Number((await t.host.api.database.sequelize.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_reset_tokens WHERE contact_id = :tom', { type: 'SELECT' as never, replacements: { tom } }))[0]!.n);
    const before = await tokens();
    expect((await forgot('2001:db8:5:6:1:2:3:4', TOM)).status).to.equal(202);
    expect(await tokens(), 'a link sent past the limit of the /64').to.equal(before);
    // Another client still gets one.
    expect((await forgot('2001:db8:5:7::1', TOM)).status).to.equal(202);
    expect(await tokens()).to.equal(before + 1);
  });
});
