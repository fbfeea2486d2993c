/**
 * Comments and documents on the record page of every module whose profile row has those tools, not
 * only on tickets: the same panels and forms (comments on top with their count, files on the right
 * with an upload form), refusals said next to their form on the same page, internal comments never
 * shown, and nothing for a module without the tool. The documents tool needs a Documents related
 * list: on a module without one (FAQ here) it is not in force — no panel, an upload refused without
 * a 500, the API's tools say so, and the privileges page says why the box is disabled.
 */
import { request } from 'node:http';
import { expect } from 'chai';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { signedIn as apiSignedIn } from '../portal-api/api-test-kit.js';
import { adminClient, profileService } from '../profiles/profile-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, MARIO, changeDefaultModule, recordIdsIn, signedIn, upload } from './portal-pages-kit.js';

describe('portal pages: comments and documents on every module with the tools @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let invoice: number;
  let quote: number;
  let faq: number;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    // The demo gives invoices the documents tool; comments are added here, FAQ gets a documents tool it cannot use.
    await changeDefaultModule(test, 'Invoice', (entry) => ({ ...entry, tools: { ...entry.tools, comments: true, documents: true } }));
    await changeDefaultModule(test, 'Faq', (entry) => ({ ...entry, tools: { ...entry.tools, documents: true, comments: false } }));
    jane = await signedIn(test, JANE);
    invoice = recordIdsIn((await jane.get('/m/Invoice')).html, 'Invoice')[0]!;
    quote = recordIdsIn((await jane.get('/m/Quotes')).html, 'Quotes')[0]!;
    faq = recordIdsIn((await jane.get('/m/Faq')).html, 'Faq')[0]!;
  });
  after(async () => {
    await test?.stop();
  });

  const stored = async (module: string, id: number) => ({
    comments: (await test.host.records.comments(module, id, { includeInternal: true })).length,
    documents: (await test.host.records.documents(module, id)).length,
  });

  it('shows an invoice’s comments and documents with their forms; comments and files are added there', async () => {
    await test.host.records.addComment('Invoice', invoice, { body: 'INTERNAL-CANARY check the VAT', internal: true }, { actor: { kind: 'system' } });
    await test.host.records.addComment('Invoice', invoice, { body: 'Paid by bank transfer', internal: false }, { actor: { kind: 'system' } });
    let page = await jane.get(`/m/Invoice/${invoice}`);
    expect(page.response.status).to.equal(200);
    expect(page.html).to.include('id="bp-comments"').and.include('Comments (1)').and.include('Paid by bank transfer').and.not.include('INTERNAL-CANARY');
    expect(page.html).to.include(`action="/portal/m/Invoice/${invoice}/comments"`);
    expect(page.html).to.include(`action="/portal/m/Invoice/${invoice}/documents"`).and.include('data-drop-zone');
    expect(page.html).to.include('Return to Invoices').and.not.include('data-resolve').and.not.include('data-status');

    const commented = await jane.post(`/m/Invoice/${invoice}/comments`, { _csrf: tokenIn(page.html), body: 'Can you send a copy with our PO number?' });
    expect(commented.response.status).to.equal(303);
    expect(commented.response.headers.get('location')).to.equal(`/portal/m/Invoice/${invoice}?notice=commented#bp-comments`);
    page = await jane.get(`/m/Invoice/${invoice}?notice=commented`);
    expect(page.html).to.include('Your comment was added.').and.include('Comments (2)');
    expect(page.html).to.match(/<strong>Jane Doe<\/strong> <span class="bp-badge">Customer<\/span>/);
    const mine = (await test.host.records.comments('Invoice', invoice, { includeInternal: true })).find((c) => c.body === 'Can you send a copy with our PO number?');
    expect(mine?.internal).to.equal(false);

    const before = (await stored('Invoice', invoice)).documents;
    const uploaded = await upload(`${test.url}/portal`, jane, `/m/Invoice/${invoice}/documents`, tokenIn(page.html), 'purchase order.txt', 'PO 4711\n');
    expect(uploaded.response.status).to.equal(303);
    expect(uploaded.response.headers.get('location')).to.equal(`/portal/m/Invoice/${invoice}?notice=uploaded#bp-documents`);
    page = await jane.get(`/m/Invoice/${invoice}?notice=uploaded`);
    expect(page.html).to.include('The document was added.');
    const href = /href="(\/portal\/m\/Invoice\/\d+\/documents\/\d+)"[^>]*download>purchase order\.txt</.exec(page.html)?.[1];
    expect(href, 'download link').to.be.a('string');
    const download = await jane.get(href!.replace('/portal', ''));
    expect(download.response.headers.get('content-disposition')).to.match(/^attachment/);
    expect(download.html).to.equal('PO 4711\n');
    expect((await stored('Invoice', invoice)).documents).to.equal(before + 1);
  });

  it('shows the newest 50 comments of a long thread, with links to the older and newer pages', async () => {
    const total = (await test.host.records.commentCount('Invoice', invoice)) + 61;
    for (let i = 1; i <= 61; i += 1) {
      await test.host.records.addComment('Invoice', invoice, { body: `Thread reply number ${i}.`, internal: false }, { actor: { kind: 'system' } });
    }
    await test.host.records.addComment('Invoice', invoice, { body: 'INTERNAL-CANARY of the thread', internal: true }, { actor: { kind: 'system' } });
    const bodies = (html: string) => [...html.matchAll(/<p class="bp-comment-body bp-long">([^<]*)<\/p>/g)].map((m) => m[1]);
    const link = (html: string, rel: 'prev' | 'next') => new RegExp(`href="([^"]+)" rel="${rel}"`).exec(html)?.[1]?.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
    const first = await jane.get(`/m/Invoice/${invoice}?list=${encodeURIComponent('sort=invoice_no')}`);
    expect(first.html).to.include(`Comments (${total})`).and.not.include('INTERNAL-CANARY');
    const shown = bodies(first.html);
    expect(shown).to.have.length(50);
    expect(shown[0]).to.equal('Thread reply number 61.');
    expect(shown[49]).to.equal('Thread reply number 12.');
    expect(first.html).to.include(`1–50 of ${total}`).and.include(`start="${total}"`);
    const older = link(first.html, 'next');
    expect(first.html).to.include('Older comments');
    expect(older).to.equal(`/portal/m/Invoice/${invoice}?comments=2&list=sort%3Dinvoice_no#bp-comments`);
    expect(first.html).not.to.include('Newer comments');

    const second = await jane.get(older!.replace('/portal', '').replace(/#.*/, ''));
    const rest = bodies(second.html);
    expect(rest).to.have.length(total - 50);
    expect(rest[0]).to.equal('Thread reply number 11.');
    expect(second.html).to.include(`51–${total} of ${total}`).and.include(`start="${total - 50}"`).and.not.include('Older comments');
    expect(second.html).to.include('Newer comments');
    expect(link(second.html, 'prev')).to.equal(`/portal/m/Invoice/${invoice}?list=sort%3Dinvoice_no#bp-comments`);
    // A page past the last, or not a page at all: no 500, the thread's pages to go back to.
    const past = await jane.get(`/m/Invoice/${invoice}?comments=999`);
    expect(past.response.status).to.equal(200);
    expect(bodies(past.html)).to.deep.equal([]);
    expect(link(past.html, 'prev')).to.equal(`/portal/m/Invoice/${invoice}?comments=2#bp-comments`);
    for (const odd of ['0', '-1', 'x', '1e3', '99999999999']) {
      const page = await jane.get(`/m/Invoice/${invoice}?comments=${odd}`);
      expect(page.response.status, odd).to.equal(200);
      expect(bodies(page.html)[0], odd).to.equal('Thread reply number 61.');
    }
  });

  it('shows the newest 50 documents of a record with many, with links to the older and newer pages', async () => {
    const before = (await test.host.records.documents('Quotes', quote)).length;
    for (let i = 1; i <= 57; i += 1) {
      await test.host.records.attachDocument('Quotes', quote, { title: `Drawing number ${i}`, fileName: `drawing-${i}.txt`, mimeType: 'text/plain', content: Buffer.from(`drawing ${i}\n`) });
    }
    const total = before + 57;
    const titles = (html: string) => [...html.matchAll(/<li><a href="[^"]+" title="[^"]*" download>([^<]*)<\/a>/g)].map((m) => m[1]);
    const link = (html: string, rel: 'prev' | 'next') => new RegExp(`href="([^"]+#bp-documents)" rel="${rel}"`).exec(html)?.[1]?.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
    const first = await jane.get(`/m/Quotes/${quote}?list=${encodeURIComponent('sort=quote_no')}`);
    const shown = titles(first.html);
    expect(shown).to.have.length(50);
    expect(shown[0]).to.equal('Drawing number 57');
    expect(shown[49]).to.equal('Drawing number 8');
    expect(first.html).to.include(`1–50 of ${total}`).and.include('Older documents').and.not.include('Newer documents');
    const older = link(first.html, 'next');
    expect(older).to.equal(`/portal/m/Quotes/${quote}?documents=2&list=sort%3Dquote_no#bp-documents`);

    const second = await jane.get(older!.replace('/portal', '').replace(/#.*/, ''));
    const rest = titles(second.html);
    expect(rest).to.have.length(total - 50);
    expect(rest[0]).to.equal('Drawing number 7');
    expect(second.html).to.include(`51–${total} of ${total}`).and.include('Newer documents').and.not.include('Older documents');
    expect(link(second.html, 'prev')).to.equal(`/portal/m/Quotes/${quote}?list=sort%3Dquote_no#bp-documents`);
    // A page past the last, or not a page at all: no 500, the pages to go back to.
    const past = await jane.get(`/m/Quotes/${quote}?documents=999`);
    expect(past.response.status).to.equal(200);
    expect(titles(past.html)).to.deep.equal([]);
    expect(link(past.html, 'prev')).to.equal(`/portal/m/Quotes/${quote}?documents=2#bp-documents`);
    for (const odd of ['0', '-1', 'x', '1e3', '99999999999']) {
      const page = await jane.get(`/m/Quotes/${quote}?documents=${odd}`);
      expect(page.response.status, odd).to.equal(200);
      expect(titles(page.html)[0], odd).to.equal('Drawing number 57');
    }
    // Another company's quote, paged in Italian for its own customer: never shown to Jane, at any page.
    const mario = await signedIn(test, MARIO, 'it');
    const foreign = recordIdsIn((await mario.get('/m/Quotes')).html, 'Quotes')[0]!;
    expect(foreign).to.not.equal(quote);
    const foreignBefore = (await test.host.records.documents('Quotes', foreign)).length;
    for (let i = 1; i <= 51; i += 1) {
      await test.host.records.attachDocument('Quotes', foreign, { title: `FOREIGN-CANARY ${i}`, fileName: `foreign-${i}.txt`, mimeType: 'text/plain', content: Buffer.from('x') });
    }
    const italian = await mario.get(`/m/Quotes/${foreign}`);
    expect(titles(italian.html)).to.have.length(50);
    expect(italian.html).to.include(`1–50 di ${foreignBefore + 51}`).and.include('Documenti meno recenti').and.include('aria-label="Pagine dei documenti"');
    for (const page of ['', '?documents=2']) {
      const refused = await jane.get(`/m/Quotes/${foreign}${page}`);
      expect(refused.response.status).to.equal(404);
      expect(refused.html).not.to.include('FOREIGN-CANARY');
    }
    expect((await jane.get(`/m/Quotes/${quote}?documents=2`)).html).not.to.include('FOREIGN-CANARY');
  });

  it('keeps a file’s non-ASCII name, and says no notice it does not know', async () => {
    const page = await jane.get(`/m/Invoice/${invoice}`);
    const uploaded = await upload(`${test.url}/portal`, jane, `/m/Invoice/${invoice}/documents`, tokenIn(page.html), 'preventivo_città_€.txt', 'Preventivo\n');
    expect(uploaded.response.status).to.equal(303);
    const files = await test.host.records.documents('Invoice', invoice);
    expect(files.map((f) => f.fileName)).to.include('preventivo_città_€.txt');
    for (const notice of ['constructor', '__proto__', 'toString', 'nonsense']) {
      const odd = await jane.get(`/m/Invoice/${invoice}?notice=${notice}`);
      expect(odd.response.status).to.equal(200);
      expect(odd.html, notice).not.to.include('class="bp-notice"').and.not.include('[object');
    }
  });

  it('refuses an upload without a session before reading its body', async () => {
    // Headers and the start of a large body, then nothing more: the answer must not wait for the rest.
    const url = new URL(`${test.url}/portal/m/Invoice/${invoice}/documents`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(9 * 1024 * 1024) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', (error) => (error.message.includes('socket hang up') || (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      req.write('--x\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n');
      req.write(Buffer.alloc(64 * 1024, 97));
      setTimeout(() => reject(new Error('no answer while the body was unfinished')), 3000).unref();
    });
    expect(status).to.equal(403);
  });

  it('says a refused comment or file next to its form on the record’s own page, keeps the text, and stores nothing', async () => {
    const page = await jane.get(`/m/Invoice/${invoice}`);
    const before = await stored('Invoice', invoice);
    const empty = await jane.post(`/m/Invoice/${invoice}/comments`, { _csrf: tokenIn(page.html), body: '   ' });
    expect(empty.response.status).to.equal(422);
    expect(empty.html).to.include('id="bp-comment-error"').and.include('Write a comment before sending it.').and.include('id="bp-page-title"');
    expect(empty.html, 'the comment box has the focus').to.match(/<textarea id="bp-comment-body"[^>]* autofocus>/);
    const long = 'x'.repeat(10_001);
    const tooLong = await jane.post(`/m/Invoice/${invoice}/comments`, { _csrf: tokenIn(page.html), body: long });
    expect(tooLong.response.status).to.equal(422);
    expect(tooLong.html).to.include(`>${long}</textarea>`);
    expect(tooLong.html).to.include('A comment can be at most 10,000 characters long.');
    const script = await upload(`${test.url}/portal`, jane, `/m/Invoice/${invoice}/documents`, tokenIn(page.html), 'pay.html', '<script>alert(1)</script>', 'text/html');
    expect(script.response.status).to.equal(422);
    expect(script.html).to.include('id="bp-upload-error"').and.include('This type of file is not allowed.').and.include('data-drop-zone');
    expect(await stored('Invoice', invoice)).to.deep.equal(before);
  });

  it('counts a line break of a comment as one character, as the comment box does (forms send it as CR LF)', async () => {
    const page = await jane.get(`/m/Invoice/${invoice}`);
    // 10,000 characters in the box (its maxlength), 10,999 once the form sends each line break as CR LF.
    const lines = `${Array.from({ length: 1000 }, (_, i) => `line ${String(i).padStart(4, '0')}`).join('\n')}.`;
    expect(lines.length).to.equal(10_000);
    const sent = await jane.post(`/m/Invoice/${invoice}/comments`, { _csrf: tokenIn(page.html), body: lines.replace(/\n/g, '\r\n') });
    expect(sent.response.status, sent.html.match(/id="bp-comment-error"[^>]*>[^<]*/)?.[0]).to.equal(303);
    const comments = await test.host.records.comments('Invoice', invoice);
    expect(comments[comments.length - 1]!.body).to.equal(lines);
  });

  it('offers no comments where the module lacks the tool, and refuses a comment posted anyway', async () => {
    const page = await jane.get(`/m/Quotes/${quote}`);
    expect(page.response.status).to.equal(200);
    expect(page.html).not.to.include('id="bp-comments"');
    expect(page.html).to.include('id="bp-documents"'); // the demo gives quotes the documents tool
    const before = await stored('Quotes', quote);
    const refused = await jane.post(`/m/Quotes/${quote}/comments`, { _csrf: tokenIn(page.html), body: 'Let me in' });
    expect(refused.response.status).to.equal(403);
    expect(await stored('Quotes', quote)).to.deep.equal(before);
  });

  it('keeps the documents tool out of force on a module without a Documents list: no panel, no 500, the API and the admin say so', async () => {
    const page = await jane.get(`/m/Faq/${faq}`);
    expect(page.response.status).to.equal(200);
    expect(page.html).not.to.include('id="bp-documents"').and.not.include('data-drop-zone');
    const refused = await upload(`${test.url}/portal`, jane, `/m/Faq/${faq}/documents`, tokenIn(page.html), 'a.txt', 'hello\n');
    expect(refused.response.status).to.equal(403);
    const api = await apiSignedIn(test, JANE);
    const modules = (await api.get('/modules')).body.modules as { name: string; tools: Record<string, boolean> }[];
    expect(modules.find((m) => m.name === 'Faq')!.tools.documents).to.equal(false);
    expect(modules.find((m) => m.name === 'Invoice')!.tools.documents).to.equal(true);
    const viaApi = await api.upload(`/modules/Faq/records/${faq}/documents`, { name: 'a.txt', content: 'hello\n' });
    expect(viaApi.status).to.equal(403);
    expect(await test.host.records.count('Documents', { field: 'filename', op: 'eq', value: 'a.txt' })).to.equal(0);

    const admin = await adminClient(test, 'admin', DEMO_ADMIN_PASSWORD);
    const profile = (await profileService(test.host.api).list()).find((p) => p.isDefault)!;
    const privileges = await (await admin.get(`/settings/business-portal/profiles/${profile.id}/privileges`)).text();
    const faqTools = /data-bp-details="Faq"[\s\S]*?<\/details>/.exec(privileges)![0];
    expect(faqTools).to.match(/<input type="checkbox" data-bp-tool="documents" checked disabled aria-describedby="bp-no-documents-Faq">/);
    expect(faqTools).to.include('id="bp-no-documents-Faq"');
    const invoiceTools = /data-bp-details="Invoice"[\s\S]*?<\/details>/.exec(privileges)![0];
    expect(invoiceTools).to.match(/<input type="checkbox" data-bp-tool="documents" checked>/);
  });

  describe('a download’s address', () => {
    const withoutTokens = (html: string) => html.replace(/value="[^"]+"/g, '');
    const download = (module: string, id: number, documentId: number) => jane.get(`/m/${module}/${id}/documents/${documentId}`);

    it('serves a file only under a record it is attached to; under any other record, the 404 of a missing file', async () => {
      const [ticket, otherTicket] = recordIdsIn((await jane.get('/m/HelpDesk')).html, 'HelpDesk');
      expect(otherTicket, 'Jane reads two tickets').to.be.a('number');
      const file = await test.host.records.attachDocument('HelpDesk', ticket!, { title: 'Wiring diagram', fileName: 'wiring.txt', mimeType: 'text/plain', content: Buffer.from('wiring of line 2\n') });
      // A file of Jane's company (the Documents list) that no ticket holds, and a file of Mario's.
      const agreement = recordIdsIn((await jane.get('/m/Documents')).html, 'Documents')[0]!;
      const mario = await signedIn(test, MARIO, 'it');
      const marioTicket = recordIdsIn((await mario.get('/m/HelpDesk')).html, 'HelpDesk')[0]!;
      const foreign = await test.host.records.attachDocument('HelpDesk', marioTicket, { title: 'FOREIGN-CANARY', fileName: 'foreign.txt', mimeType: 'text/plain', content: Buffer.from('FOREIGN-CANARY\n') });
      expect((await mario.get(`/m/HelpDesk/${marioTicket}/documents/${foreign.documentId}`)).response.status, 'Mario’s own file, for Mario').to.equal(200);

      const served = await download('HelpDesk', ticket!, file.documentId);
      expect(served.response.status).to.equal(200);
      expect(served.html).to.equal('wiring of line 2\n');
      // A Documents record's own file is at the record's own id.
      const own = await download('Documents', agreement, agreement);
      expect(own.response.status).to.equal(200);
      expect(own.html.startsWith('%PDF')).to.equal(true);

      const missing = await download('HelpDesk', ticket!, 2147483647);
      expect(missing.response.status).to.equal(404);
      const elsewhere: [string, string, number, number][] = [
        ['another ticket of Jane’s', 'HelpDesk', otherTicket!, file.documentId],
        ['a FAQ entry (no files at all)', 'Faq', faq, file.documentId],
        ['an invoice of Jane’s (the documents tool)', 'Invoice', invoice, file.documentId],
        ['another Documents record', 'Documents', agreement, file.documentId],
        ['her ticket, a company file it does not hold', 'HelpDesk', ticket!, agreement],
        ['her ticket, Mario’s file', 'HelpDesk', ticket!, foreign.documentId],
        ['Mario’s ticket, his file', 'HelpDesk', marioTicket, foreign.documentId],
      ];
      for (const [what, module, id, documentId] of elsewhere) {
        const answer = await download(module, id, documentId);
        expect(answer.response.status, what).to.equal(404);
        expect(answer.response.headers.get('content-disposition'), what).to.equal(null);
        expect(withoutTokens(answer.html), what).to.equal(withoutTokens(missing.html));
      }
    });

    it('works for every download link of a ticket page and of a Documents record page', async () => {
      const ticket = recordIdsIn((await jane.get('/m/HelpDesk')).html, 'HelpDesk')[1]!;
      for (const name of ['first', 'second']) {
        await test.host.records.attachDocument('HelpDesk', ticket, { title: `The ${name} log`, fileName: `${name}.txt`, mimeType: 'text/plain', content: Buffer.from(`${name} log\n`) });
      }
      const agreement = recordIdsIn((await jane.get('/m/Documents')).html, 'Documents')[0]!;
      for (const [module, id] of [['HelpDesk', ticket], ['Documents', agreement]] as const) {
        const page = await jane.get(`/m/${module}/${id}`);
        const links = [...page.html.matchAll(/href="\/portal(\/m\/[^"]+\/documents\/\d+)"/g)].map((m) => m[1]!);
        const expected = module === 'HelpDesk' ? await test.host.records.documentCount!('HelpDesk', ticket) : 1;
        expect(links, module).to.have.length(expected);
        for (const link of links) {
          expect(link, module).to.match(new RegExp(`^/m/${module}/${id}/documents/`));
          const answer = await jane.get(link);
          expect(answer.response.status, link).to.equal(200);
          expect(answer.response.headers.get('content-disposition'), link).to.match(/^attachment/);
        }
      }
    });
  });
});
