/**
 * The package's static files on a demo host: every page that loads one links it with its content
 * version (the first 12 hex digits of the file's SHA-256), asked with that version it is kept a
 * year (`immutable`), without it or with another one it is revalidated (`no-cache`, ETag); css and
 * js go out compressed. Pages, their errors, a missing asset and the API stay `no-store` and are
 * never compressed (they reflect a form token and a customer's search text: BREACH).
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { crmLogin, startTestHost, type TestHost } from '../support/host.js';
import { expectSecurityHeaders } from '../support/expectations.js';
import { JANE, MARIO, signedIn } from '../portal-pages/portal-pages-kit.js';
import type { PortalClient } from '../sign-in/sign-in-fixture.js';

const SETTINGS = '/settings/business-portal';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const ASSET_LINK = /(?:href|src)="([^"]*\/assets\/[^"]*)"/g;

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The bytes as they came over the wire (not decompressed). */
  readonly body: Buffer;
}

/** A GET that keeps the bytes as sent (fetch would decompress them and hide the encoding's size). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

function linksIn(html: string): string[] {
  return [...html.matchAll(ASSET_LINK)].map((match) => match[1]!.replaceAll('&amp;', '&').replaceAll('&#x3D;', '='));
}

describe('package assets: versioned links, a year in the cache, compressed; pages never', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let admin: string;

  before(async () => {
    test = await startTestHost({ demo: true });
    jane = await signedIn(test, JANE);
    admin = await crmLogin(test.url, 'admin', DEMO_ADMIN_PASSWORD);
  });
  after(() => test?.stop());

  const adminGet = (path: string, headers: Record<string, string> = {}) => fetch(`${test.url}${path}`, { redirect: 'manual', headers: { cookie: admin, ...headers } });

  async function pages(): Promise<{ name: string; html: string; cookie: string; expected: string[] }[]> {
    const sql = test.host.api.database.sequelize;
    const [contact] = await sql.query<{ id: unknown }>('SELECT contact_id AS id FROM bp_portal_accounts WHERE email = :email', { replacements: { email: JANE }, type: QueryTypes.SELECT });
    const [profile] = await sql.query<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { replacements: { yes: true }, type: QueryTypes.SELECT });
    // The login check's script is on the page only while an account is locked.
    await sql.query('UPDATE bp_portal_accounts SET failed_attempts = 5, locked_at = :now WHERE email = :email', { replacements: { now: new Date(), email: MARIO } });
    const portal = jane.cookieHeader();
    const anonymousLogin = await fetch(`${test.url}/portal/login`);
    const found = [
      { name: 'portal login', html: await anonymousLogin.text(), cookie: '', expected: ['portal.css', 'favicon.svg', 'auto-submit.js'] },
      { name: 'portal home', html: (await jane.get('/')).html, cookie: portal, expected: ['portal.css', 'favicon.svg', 'auto-submit.js', 'workspace.css', 'workspace.js'] },
      { name: 'ticket list', html: (await jane.get('/m/HelpDesk')).html, cookie: portal, expected: ['portal.css', 'workspace.css', 'workspace.js'] },
      { name: 'portal 404', html: (await jane.get('/no-such-page')).html, cookie: portal, expected: ['portal.css', 'favicon.svg'] },
      { name: 'settings home', html: await (await adminGet(SETTINGS)).text(), cookie: admin, expected: ['admin.css'] },
      { name: 'privileges', html: await (await adminGet(`${SETTINGS}/profiles/${String(profile!.id)}/privileges`)).text(), cookie: admin, expected: ['privileges.css', 'privileges.js', 'vendor/sortable.min.js', 'admin.css'] },
      { name: 'profile import', html: await (await adminGet(`${SETTINGS}/profiles/import`)).text(), cookie: admin, expected: ['profiles-import.js', 'admin.css'] },
      { name: 'login check', html: await (await adminGet(`${SETTINGS}/login-check`)).text(), cookie: admin, expected: ['login-check.css', 'login-check.js', 'admin.css'] },
      { name: 'contact page', html: await (await adminGet(`/contacts/${String(contact!.id)}`)).text(), cookie: admin, expected: ['contact-block.css'] },
    ];
    return found;
  }

  it('links every asset of every page with its content version, and that address answers 200 for a year', async () => {
    for (const page of await pages()) {
      const links = linksIn(page.html);
      for (const name of page.expected) {
        expect(links.some((link) => link.split('?')[0]!.endsWith(`/assets/${name}`) || link.split('?')[0]!.endsWith(`/${name}`)), `${page.name} links ${name}: ${links.join(' ')}`).to.equal(true);
      }
      for (const link of links) {
        const [path, query] = link.split('?');
        expect(query, `${page.name}: ${link} carries a version`).to.match(/^v=[0-9a-f]{12}$/);
        const bare = await fetch(`${test.url}${path}`, { headers: { cookie: page.cookie } });
        expect(bare.status, `${page.name}: ${path}`).to.equal(200);
        const version = createHash('sha256')
          .update(Buffer.from(await bare.arrayBuffer()))
          .digest('hex')
          .slice(0, 12);
        expect(query, `${page.name}: ${path} is linked with the version of its bytes`).to.equal(`v=${version}`);
        const versioned = await fetch(`${test.url}${link}`, { headers: { cookie: page.cookie } });
        expect(versioned.status, `${page.name}: ${link}`).to.equal(200);
        expect(versioned.headers.get('cache-control'), `${page.name}: ${link}`).to.equal(IMMUTABLE);
        await versioned.arrayBuffer();
      }
    }
  });

  it('keeps an asset a year only at its current version; without one or with another it is revalidated', async () => {
    const home = (await jane.get('/')).html;
    const link = linksIn(home).find((l) => l.includes('/workspace.css?'))!;
    const path = link.split('?')[0]!;

    const versioned = await fetch(`${test.url}${link}`);
    expect(versioned.status).to.equal(200);
    expect(versioned.headers.get('content-type')).to.match(/^text\/css/);
    expectSecurityHeaders(versioned, 'versioned asset', ["default-src 'self'"], IMMUTABLE);

    for (const other of [path, `${path}?v=000000000000`, `${path}?v=`, `${path}?v=a&v=b`, `${path}?other=1`]) {
      const res = await fetch(`${test.url}${other}`);
      expect(res.status, other).to.equal(200);
      expectSecurityHeaders(res, other, ["default-src 'self'"], 'no-cache');
      const etag = res.headers.get('etag');
      expect(etag, `${other} has an ETag`).to.be.a('string');
      expect(res.headers.get('last-modified'), other).to.be.a('string');
      await res.arrayBuffer();
      // fetch would add `Cache-Control: no-cache` to a conditional request, which asks for the whole file.
      const again = await rawGet(`${test.url}${other}`, { 'if-none-match': etag! });
      expect(again.status, `${other} revalidated`).to.equal(304);
      expect(again.headers['cache-control'], `${other} revalidated`).to.equal('no-cache');
    }
  });

  it('answers a missing asset with the 404 page, no-store, uncompressed, with no path or stack', async () => {
    for (const [path, cookie] of [
      ['/portal/assets/nothing.css', ''],
      ['/portal/assets/nothing.css?v=000000000000', ''],
      ['/portal/assets/contacts/nothing.css', ''],
      [`${SETTINGS}/assets/nothing.css`, admin],
      [`${SETTINGS}/assets/vendor/nothing.js`, admin],
      [`${SETTINGS}/login-check/assets/nothing.js`, admin],
    ] as const) {
      const res = await rawGet(`${test.url}${path}`, { 'accept-encoding': 'gzip, br', cookie });
      expect(res.status, path).to.equal(404);
      expect(res.headers['cache-control'], path).to.equal('no-store');
      expect(res.headers['content-encoding'], path).to.equal(undefined);
      expect(res.headers['content-security-policy'], path).to.include("object-src 'none'");
      expect(res.headers['x-content-type-options'], path).to.equal('nosniff');
      const text = res.body.toString('utf8');
      expect(text, path).not.to.match(/\/tmp\/|\/plugin\/|node_modules|\bat \w+ \(|ENOENT/);
    }
  });

  it('compresses css and js, never a page, an error page or the API', async () => {
    const home = await jane.get('/');
    const links = linksIn(home.html);
    const css = links.find((l) => l.includes('/workspace.css?'))!;
    const js = links.find((l) => l.includes('/workspace.js?'))!;
    for (const link of [css, js]) {
      for (const encoding of ['gzip', 'br']) {
        const plain = await rawGet(`${test.url}${link}`);
        const packed = await rawGet(`${test.url}${link}`, { 'accept-encoding': encoding });
        expect(plain.headers['content-encoding'], link).to.equal(undefined);
        expect(packed.headers['content-encoding'], `${link} ${encoding}`).to.equal(encoding);
        expect(packed.headers.vary, link).to.match(/accept-encoding/i);
        expect(packed.body.length, `${link} ${encoding}: ${packed.body.length} of ${plain.body.length} bytes`).to.be.below(plain.body.length / 2);
        expect(packed.headers['cache-control'], link).to.equal(IMMUTABLE);
        expect((encoding === 'gzip' ? gunzipSync : brotliDecompressSync)(packed.body).equals(plain.body), `${link} ${encoding} decodes to the file`).to.equal(true);
      }
    }
    for (const asset of [`${SETTINGS}/assets/vendor/sortable.min.js`, `${SETTINGS}/assets/privileges.js`, `${SETTINGS}/login-check/assets/login-check.css`, '/portal/assets/contacts/contact-block.css']) {
      const plain = await rawGet(`${test.url}${asset}`, { cookie: admin });
      const packed = await rawGet(`${test.url}${asset}`, { 'accept-encoding': 'gzip', cookie: admin });
      expect(packed.status, asset).to.equal(200);
      expect(packed.headers['content-encoding'], asset).to.equal('gzip');
      expect(gunzipSync(packed.body).equals(plain.body), `${asset} decodes to the file (compressed once)`).to.equal(true);
    }

    const cookie = jane.cookieHeader();
    for (const [path, who] of [
      ['/portal/', cookie],
      ['/portal/m/HelpDesk?search=secret-words', cookie],
      ['/portal/no-such-page', cookie],
      ['/portal/api/v1', cookie],
      ['/portal/api/v1/no-such-thing', cookie],
      ['/portal/login', ''],
    ] as const) {
      const res = await rawGet(`${test.url}${path}`, { 'accept-encoding': 'gzip, deflate, br', cookie: who });
      expect(res.body.length, path).to.be.above(50);
      expect(res.headers['content-encoding'], path).to.equal(undefined);
      expect(res.headers['cache-control'], path).to.equal('no-store');
    }
    for (const path of [SETTINGS, `${SETTINGS}/login-check`]) {
      const res = await rawGet(`${test.url}${path}`, { 'accept-encoding': 'gzip, deflate, br', cookie: admin });
      expect(res.status, path).to.equal(200);
      expect(res.headers['content-encoding'], path).to.equal(undefined);
      expect(res.headers['cache-control'], path).to.equal('no-store');
    }
  });
});
