/**
 * Record ids in the portal's page paths are read exactly as the API reads them
 * (`^[1-9][0-9]{0,9}$`, at most 2147483647): any other spelling of an id — leading zeros, a
 * number past the 32-bit ids the databases hold — is the 404 of a missing record, never another
 * address of a real one (README: "a missing id all get the same 404 page").
 */
import { expect } from 'chai';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, recordIdsIn, signedIn } from '../portal-pages/portal-pages-kit.js';

describe('security: record ids in portal page paths', function () {
  this.timeout(60_000);
  let test: TestHost;
  let jane: PortalClient;
  let ticket: number;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    jane = await signedIn(test, JANE);
    ticket = recordIdsIn((await jane.get('/m/HelpDesk')).html, 'HelpDesk')[0]!;
  });
  after(async () => {
    await test?.stop();
  });

  const withoutTokens = (html: string) => html.replace(/value="[^"]+"/g, '');

  it('answers an id with leading zeros, or past 32 bits, like a missing one on every page', async () => {
    const missing = await jane.get('/m/HelpDesk/99999');
    expect(missing.response.status).to.equal(404);
    // The real record answers at its own address.
    expect((await jane.get(`/m/HelpDesk/${ticket}`)).response.status).to.equal(200);
    const before = await test.host.records.get('HelpDesk', ticket);
    const token = tokenIn((await jane.get('/')).html);
    const odd = [`0${ticket}`, `00${ticket}`, '4294967297', '999999999999'];
    for (const id of odd) {
      const attempts = [
        await jane.get(`/m/HelpDesk/${id}`),
        await jane.get(`/m/HelpDesk/${id}/edit`),
        await jane.post(`/m/HelpDesk/${id}/edit`, { _csrf: token, ticket_title: 'changed through an alias', version: String(before!.version) }),
        await jane.post(`/m/HelpDesk/${id}/comments`, { _csrf: token, body: 'through an alias' }),
      ];
      for (const [index, attempt] of attempts.entries()) {
        expect(attempt.response.status, `${id}, attempt ${index}`).to.equal(404);
        expect(withoutTokens(attempt.html), `${id}, attempt ${index}`).to.equal(withoutTokens(missing.html));
      }
    }
    expect(await test.host.records.get('HelpDesk', ticket)).to.deep.equal(before);
    const comments = await test.host.records.comments('HelpDesk', ticket, { includeInternal: true });
    expect(comments.map((c) => c.body)).to.not.include('through an alias');
  });

  it('answers a document id with leading zeros like a missing document', async () => {
    // A ticket of Jane's with a file (the demo gives some), and that file's own address works.
    let link: RegExpExecArray | null = null;
    for (const id of recordIdsIn((await jane.get('/m/HelpDesk')).html, 'HelpDesk')) {
      link = new RegExp(`/portal/m/HelpDesk/${id}/documents/(\\d+)`).exec((await jane.get(`/m/HelpDesk/${id}`)).html);
      if (link) {
        ticket = id;
        break;
      }
    }
    expect(link, 'one of Jane\'s tickets has a file').to.not.equal(null);
    const documentId = link![1]!;
    expect((await jane.get(`/m/HelpDesk/${ticket}/documents/${documentId}`)).response.status).to.equal(200);
    const missing = await jane.get(`/m/HelpDesk/${ticket}/documents/2147483647`);
    expect(missing.response.status).to.equal(404);
    const alias = await jane.get(`/m/HelpDesk/${ticket}/documents/0${documentId}`);
    expect(alias.response.status).to.equal(404);
    expect(withoutTokens(alias.html)).to.equal(withoutTokens(missing.html));
  });
});
