/**
 * Express routes a path in any case (`/portal/API/v1/…` reaches the API's handlers as
 * `/portal/api/v1/…` does), with a trailing slash, and a HEAD to the GET handler. The checks that
 * run before the handlers must see the same route. Whatever the case of its prefix, the API answers
 * as the API: it takes its JSON writes, refuses other bodies with its JSON error, and keeps a
 * customer who must change their password out with its JSON 403. The body checks and the password
 * gate told API from page by the lower-case prefix only: a JSON write there was refused with the
 * 415 page of a form, a text/plain one got that HTML page too, and the gate sent an API client a
 * redirect. The gate also judged a HEAD apart from its GET: `HEAD /first-access` was redirected to
 * itself, and `HEAD /api/v1/me` refused while its GET answered.
 */
import { expect } from 'chai';
import type { TestHost } from '../support/host.js';
import { JANE, TOM, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

const PREFIXES = ['/portal/API/v1', '/portal/Api/V1'] as const;

describe('portal routes as Express routes them: any case, a trailing slash, HEAD as GET', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;

  before(async () => {
    t = await startApiHost();
    jane = await signedIn(t, JANE);
  });
  after(async () => t?.stop());

  it('takes a JSON write and refuses any other body with the API’s JSON error, as under /api/v1', async () => {
    for (const prefix of PREFIXES) {
      const created = await fetch(`${t.url}${prefix}/modules/HelpDesk/records`, {
        method: 'POST',
        headers: { cookie: jane.cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ values: { ticket_title: `Case ${prefix}` } }),
      });
      const body = (await created.json().catch(() => null)) as any;
      expect(created.status, `${prefix}: JSON write`).to.equal(201);
      expect(body?.values?.ticket_title).to.equal(`Case ${prefix}`);

      const before = (await jane.get('/modules/HelpDesk/records')).body.total;
      const text = await fetch(`${t.url}${prefix}/modules/HelpDesk/records`, {
        method: 'POST',
        headers: { cookie: jane.cookie, 'content-type': 'text/plain' },
        body: JSON.stringify({ values: { ticket_title: 'As text' } }),
      });
      expect(text.status, `${prefix}: text/plain write`).to.equal(415);
      expect(text.headers.get('content-type'), `${prefix}: text/plain write`).to.match(/^application\/json/);
      expect(((await text.json()) as any).error.code).to.equal('unsupported_media_type');
      expect((await jane.get('/modules/HelpDesk/records')).body.total, 'nothing created').to.equal(before);

      // What a cross-site form can send is refused there as under /api/v1 (the API's CSRF defence).
      const ticket: number = body.id;
      const form = await fetch(`${t.url}${prefix}/modules/HelpDesk/records/${ticket}/comments`, {
        method: 'POST',
        headers: { cookie: jane.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'body=forged',
      });
      expect(form.status, `${prefix}: form comment`).to.equal(415);
      const files = new FormData();
      files.append('file', new Blob(['hello'], { type: 'text/plain' }), 'forged.txt');
      const upload = await fetch(`${t.url}${prefix}/modules/HelpDesk/records/${ticket}/documents`, { method: 'POST', headers: { cookie: jane.cookie }, body: files });
      expect(upload.status, `${prefix}: upload without its header`).to.equal(415);
      expect(await t.host.api.records.commentCount('HelpDesk', ticket, { includeInternal: true }), 'no comment').to.equal(0);
      expect(await t.host.api.records.documents('HelpDesk', ticket), 'no file').to.deep.equal([]);
    }
  });

  it('keeps a customer who must change their password out with the API’s 403, not a redirect to a page, and lets through what it lets through in every form', async () => {
    const tom = await signedIn(t, TOM);
    await t.host.api.database.sequelize.query('UPDATE bp_portal_accounts SET must_change_password = :yes WHERE email = :email', { replacements: { yes: true, email: TOM } });
    for (const prefix of PREFIXES) {
      const res = await fetch(`${t.url}${prefix}/modules/HelpDesk/records`, { headers: { cookie: tom.cookie }, redirect: 'manual' });
      expect(res.status, prefix).to.equal(403);
      expect(((await res.json()) as any).error.code, prefix).to.equal('password_change_required');
      // What the gate lets through under /api/v1 it lets through in any case.
      const me = await fetch(`${t.url}${prefix}/me`, { headers: { cookie: tom.cookie }, redirect: 'manual' });
      expect(me.status, `${prefix}/me`).to.equal(200);
      expect(((await me.json()) as any).contact.mustChangePassword).to.equal(true);
    }
    // A HEAD is answered as its GET, and a trailing slash changes nothing.
    const answers: string[] = [];
    for (const [method, path] of [
      ['HEAD', '/portal/api/v1/me'],
      ['GET', '/portal/api/v1/me/'],
      ['HEAD', '/portal/first-access'],
      ['GET', '/portal/first-access/'],
      ['HEAD', '/portal/api/v1/modules'],
      ['HEAD', '/portal/'],
    ] as const) {
      const res = await fetch(`${t.url}${path}`, { method, headers: { cookie: tom.cookie }, redirect: 'manual' });
      await res.arrayBuffer();
      answers.push(`${method} ${path} ${res.status} ${res.headers.get('location') ?? ''}`.trim());
    }
    expect(answers).to.deep.equal([
      'HEAD /portal/api/v1/me 200',
      'GET /portal/api/v1/me/ 200',
      'HEAD /portal/first-access 200',
      'GET /portal/first-access/ 200',
      'HEAD /portal/api/v1/modules 403',
      'HEAD /portal/ 303 /portal/first-access',
    ]);
  });
});
