/**
 * Express matches the portal's routes in any case, so `/portal/API/v1/…` reaches the API's
 * handlers as `/portal/api/v1/…` does. Whatever the case of its prefix, the API must answer as the
 * API: it takes its JSON writes, refuses other bodies with its JSON error, and keeps a customer who
 * must change their password out with its JSON 403. The body checks and the password gate told
 * API from page by the lower-case prefix only: a JSON write there was refused with the 415 page of
 * a form, a text/plain one got that HTML page too, and the gate sent an API client a redirect.
 */
import { expect } from 'chai';
import type { TestHost } from '../support/host.js';
import { JANE, TOM, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

const PREFIXES = ['/portal/API/v1', '/portal/Api/V1'] as const;

describe('portal API: its prefix in another case', function () {
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

  it('keeps a customer who must change their password out with the API’s 403, not a redirect to a page', async () => {
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
  });
});
