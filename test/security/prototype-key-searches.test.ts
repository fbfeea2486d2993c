/**
 * Column searches typed by hand whose field is named like one of JavaScript's object internals
 * (`f___proto__`, `f_constructor`, `f_toString`): no field has such a name, so the list leaves the
 * search out and names it, and the export refuses it — exactly as for any field that does not
 * exist (README: "a hand-typed `f_` … of one that does not exist … is left out, the page naming
 * it"; an export "exports nothing"). `f___proto__` was dropped in silence instead: the list said
 * nothing and the export sent every row of the list, more than asked for.
 */
import { expect } from 'chai';
import type { PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, recordIdsIn, signedIn } from '../portal-pages/portal-pages-kit.js';

describe('security: hand-typed column searches named like object internals', function () {
  this.timeout(60_000);
  let test: TestHost;
  let jane: PortalClient;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    jane = await signedIn(test, JANE);
  });
  after(async () => {
    await test?.stop();
  });

  const problem = (html: string) => /id="bp-list-problem"[^>]*>([^<]*)</.exec(html)?.[1] ?? null;
  const kept = 'f_status=Open&sort=ticket_no&dir=asc';

  it('leaves each out of the list and names it, as a field that does not exist', async () => {
    const wanted = await jane.get(`/m/HelpDesk?${kept}`);
    expect(wanted.response.status).to.equal(200);
    const open = recordIdsIn(wanted.html, 'HelpDesk');
    expect(open.length, 'open tickets').to.be.greaterThan(0);
    const nothing = await jane.get(`/m/HelpDesk?f_nothing=a&${kept}`);
    expect(nothing.response.status).to.equal(400);
    for (const field of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const page = await jane.get(`/m/HelpDesk?f_${field}=a&${kept}`);
      expect(page.response.status, field).to.equal(400);
      expect(problem(page.html), field).to.equal(`The list cannot be searched by “${field}”, so that part of the search was left out; the rest of it was kept.`);
      expect(recordIdsIn(page.html, 'HelpDesk'), field).to.deep.equal(open);
    }
  });

  it('exports nothing for any of them: a 400 page, never the whole list', async () => {
    const exported = async (query: string) => {
      const answer = await fetch(`${test.url}/portal/m/HelpDesk/export.csv?${query}`, { headers: { cookie: jane.cookieHeader() }, redirect: 'manual' });
      return { status: answer.status, type: answer.headers.get('content-type') ?? '', body: await answer.text() };
    };
    expect((await exported(kept)).status).to.equal(200);
    for (const field of ['__proto__', 'constructor', 'toString']) {
      const answer = await exported(`f_${field}=a&${kept}`);
      expect(answer.status, field).to.equal(400);
      expect(answer.type, field).to.match(/^text\/html/);
      expect(answer.body, field).not.to.include('Ticket number,');
      expect(answer.body, field).to.include(`The list cannot be searched by “${field}” as written, so nothing was exported`);
    }
  });
});
