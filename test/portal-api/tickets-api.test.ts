/**
 * Tickets through the portal API on the demo host: public comments only (newest first, with their
 * count), comments written as the customer, uploads checked by size, type and content, downloads
 * as attachments, "OK, resolved", and the rule "Closed tickets are read-only" on the server.
 */
import { crc32, deflateSync } from 'node:zlib';
import { expect } from 'chai';
import type { TestHost } from '../support/host.js';
import { expectSecurityHeaders } from '../support/expectations.js';
import { API, idsWhere, JANE, MARIO, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

/** A PNG of one grey pixel; `animated` adds the APNG chunks (one frame), which a viewer without APNG skips. */
function png(animated: boolean): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]); // 1×1, 8-bit greyscale
  const frame = Buffer.alloc(26);
  frame.writeUInt32BE(1, 4); // width
  frame.writeUInt32BE(1, 8); // height
  frame.writeUInt16BE(1, 22); // delay denominator
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    ...(animated ? [chunk('acTL', Buffer.from([0, 0, 0, 1, 0, 0, 0, 0])), chunk('fcTL', frame)] : []),
    chunk('IDAT', deflateSync(Buffer.from([0, 0x80]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('portal API: tickets @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let mario: ApiClient;
  let ticket: number;

  before(async () => {
    t = await startApiHost();
    jane = await signedIn(t, JANE);
    mario = await signedIn(t, MARIO);
    ticket = (await idsWhere(t.host.api, 'HelpDesk', 'ticket_title', 'Line 2 controller reboots every night'))[0]!;
  });
  after(async () => t?.stop());

  const documentCount = async () => (await t.host.api.records.count('Documents'));

  it('shows public comments only, newest first, with their count; internal ones never', async () => {
    const internal = await t.host.api.records.addComment('HelpDesk', ticket, { body: 'INTERNAL-CANARY escalate to R&D', internal: true }, { actor: { kind: 'system' } });
    expect(internal.internal).to.equal(true);
    const res = await jane.get(`/modules/HelpDesk/records/${ticket}/comments`);
    expect(res.status).to.equal(200);
    expect(res.text).not.to.include('INTERNAL-CANARY');
    expect(res.text).not.to.include('known watchdog issue');
    const publicCount = await t.host.api.records.commentCount('HelpDesk', ticket, { includeInternal: false });
    expect(res.body.count).to.equal(publicCount).and.to.equal(res.body.comments.length);
    const times = res.body.comments.map((c: any) => c.createdAt);
    expect(times).to.deep.equal([...times].sort().reverse());
    expect(res.body.comments.map((c: any) => c.author.kind)).to.include.members(['customer', 'support']);
    for (const comment of res.body.comments) expect(Object.keys(comment)).to.have.members(['id', 'body', 'author', 'createdAt']);
  });

  it('pages the comments when asked (page, pageSize): newest first, with the count of all of them', async () => {
    const path = `/modules/HelpDesk/records/${ticket}/comments`;
    const all = (await jane.get(path)).body;
    expect(all.count).to.be.greaterThan(2);
    const ids = all.comments.map((c: any) => c.id);
    const first = await jane.get(`${path}?pageSize=2`);
    expect(first.status).to.equal(200);
    expect(first.body).to.include({ count: all.count, page: 1, pageSize: 2 });
    expect(first.body.comments.map((c: any) => c.id)).to.deep.equal(ids.slice(0, 2));
    const second = await jane.get(`${path}?page=2&pageSize=2`);
    expect(second.body.comments.map((c: any) => c.id)).to.deep.equal(ids.slice(2, 4));
    const past = await jane.get(`${path}?page=5000&pageSize=2`);
    expect(past.status).to.equal(200);
    expect(past.body).to.deep.include({ comments: [], count: all.count });
    for (const query of ['page=0', 'page=abc', 'pageSize=101', 'limit=5', 'page=1&page=2']) {
      const res = await jane.get(`${path}?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.body.error.code, query).to.equal('invalid_input');
    }
    // Paging reads nothing out of scope: Mario's company does not have Jane's ticket.
    expect((await mario.get(`${path}?pageSize=2`)).status).to.equal(404);
  });

  it('pages the documents when asked (page, pageSize): newest first, with the count of all of them', async () => {
    const path = `/modules/HelpDesk/records/${ticket}/documents`;
    for (let i = 1; i <= 23; i += 1) {
      await t.host.api.records.attachDocument('HelpDesk', ticket, { title: `Log part ${i}`, fileName: `log-${i}.txt`, mimeType: 'text/plain', content: Buffer.from(`log ${i}\n`) });
    }
    const all = (await jane.get(path)).body;
    expect(all.count).to.equal(all.documents.length).and.to.be.at.least(23);
    const ids = all.documents.map((d: any) => d.id);
    expect(all.documents[0].title).to.equal('Log part 23');
    const times = all.documents.map((d: any) => d.createdAt);
    expect(times).to.deep.equal([...times].sort().reverse());
    const first = await jane.get(`${path}?page=1`);
    expect(first.status).to.equal(200);
    expect(first.body).to.include({ count: all.count, page: 1, pageSize: 20 });
    expect(first.body.documents.map((d: any) => d.id)).to.deep.equal(ids.slice(0, 20));
    const second = await jane.get(`${path}?page=2&pageSize=20`);
    expect(second.body.documents.map((d: any) => d.id)).to.deep.equal(ids.slice(20, 40));
    const past = await jane.get(`${path}?page=5000&pageSize=2`);
    expect(past.status).to.equal(200);
    expect(past.body).to.deep.include({ documents: [], count: all.count });
    for (const query of ['page=0', 'page=abc', 'pageSize=0', 'pageSize=101', 'pageSize=2.5', 'limit=5', 'page=1&page=2']) {
      const res = await jane.get(`${path}?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.body.error.code, query).to.equal('invalid_input');
    }
    // Paging reads nothing out of scope: Mario's company does not have Jane's ticket, and his own
    // ticket's documents are his alone.
    expect((await mario.get(`${path}?pageSize=2`)).status).to.equal(404);
    expect((await mario.get(`${path}?page=2`)).status).to.equal(404);
    const marioTicket = (await mario.get('/modules/HelpDesk/records')).body.rows[0].id;
    const his = await mario.get(`/modules/HelpDesk/records/${marioTicket}/documents?pageSize=100`);
    expect(his.status).to.equal(200);
    expect(his.body.documents.map((d: any) => d.id).filter((id: number) => ids.includes(id))).to.deep.equal([]);
    expect(his.body.count).to.equal((await t.host.api.records.documents('HelpDesk', marioTicket)).length);
  });

  it('adds a public comment written as the customer', async () => {
    const res = await jane.send('POST', `/modules/HelpDesk/records/${ticket}/comments`, { body: '  Still happening tonight.  ' });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ body: 'Still happening tonight.' });
    expect(res.body.author).to.deep.equal({ kind: 'customer', name: 'Jane Doe' });
    const stored = (await t.host.api.records.comments('HelpDesk', ticket, { includeInternal: true })).find((c) => c.id === res.body.id)!;
    expect(stored.internal).to.equal(false);
    expect(stored.author).to.deep.include({ kind: 'contact', contactId: (await idsWhere(t.host.api, 'Contacts', 'email', JANE))[0] });
    const list = await jane.get(`/modules/HelpDesk/records/${ticket}/comments`);
    expect(list.body.comments[0].id).to.equal(res.body.id);
    for (const body of [{ body: '' }, { body: 'x'.repeat(10_001) }, { body: 'hi', internal: true }, { text: 'hi' }, { body: 42 }]) {
      const refused = await jane.send('POST', `/modules/HelpDesk/records/${ticket}/comments`, body);
      expect(refused.status, JSON.stringify(body).slice(0, 40)).to.equal(422);
      expect(refused.body.error.code).to.equal('invalid_input');
    }
    expect((await jane.get(`/modules/HelpDesk/records/${ticket}/comments`)).body.count).to.equal(list.body.count);
  });

  it('uploads a file checked against its content and downloads it as an attachment only', async () => {
    const up = await jane.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name: 'controller report.pdf', content: PDF, type: 'text/html' }, { title: 'Controller report' });
    expect(up.status, up.text).to.equal(201);
    expect(up.body).to.include({ title: 'Controller report', fileName: 'controller report.pdf', mimeType: 'application/pdf', size: PDF.length });
    const list = await jane.get(`/modules/HelpDesk/records/${ticket}/documents`);
    expect(list.body.documents.map((d: any) => d.id)).to.include(up.body.id);
    const download = await fetch(`${t.url}${API}${up.body.contentPath}`, { headers: { cookie: jane.cookie } });
    expect(download.status).to.equal(200);
    expect(download.headers.get('content-type')).to.equal('application/pdf');
    expect(download.headers.get('content-disposition')).to.match(/^attachment; filename="controller report.pdf"/);
    expectSecurityHeaders(download, 'download', ['sandbox']);
    expect(Buffer.from(await download.arrayBuffer()).equals(PDF)).to.equal(true);
    // Mario (Rossi SpA) cannot reach it: the same 404 as a document that does not exist.
    const foreign = await mario.get(up.body.contentPath);
    const missing = await mario.get('/documents/999999/content');
    expect(foreign.status).to.equal(404);
    expect(foreign.text).to.equal(missing.text);
  });

  it('refuses dangerous uploads and stores nothing', async () => {
    const before = await documentCount();
    const path = `/modules/HelpDesk/records/${ticket}/documents`;
    const cases: [string, { name: string; content: Buffer | string }, number][] = [
      ['HTML renamed .pdf', { name: 'invoice.pdf', content: '<!doctype html><script>alert(1)</script>' }, 422],
      ['HTML as text', { name: 'notes.txt', content: '<html><script>alert(1)</script></html>' }, 422],
      ['SVG', { name: 'logo.svg', content: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' }, 422],
      ['double extension', { name: 'a.pdf.html', content: PDF }, 422],
      ['odd-case HTML extension', { name: 'page.HTML', content: '<p>x</p>' }, 422],
      ['empty', { name: 'empty.txt', content: Buffer.alloc(0) }, 422],
      ['path traversal', { name: '../../etc/passwd.txt', content: 'root:x:0:0' }, 422],
      ['windows path', { name: '..\\..\\boot.txt', content: 'x' }, 422],
      ['oversized', { name: 'big.txt', content: Buffer.alloc(10 * 1024 * 1024 + 1, 0x61) }, 413],
    ];
    for (const [what, file, status] of cases) {
      const res = await jane.upload(path, file);
      expect(res.status, `${what}: ${res.text}`).to.equal(status);
      expect(res.body.error.code, what).to.equal('upload_refused');
    }
    const noFile = await jane.upload(path, { name: 'x.txt', content: 'x' }, { title: 'only a title' });
    expect(noFile.status).to.equal(201); // control: the same request with a good file is accepted
    expect(await documentCount()).to.equal(before + 1);
  });

  it('takes an animated PNG (APNG: a PNG with animation chunks) as a PNG, and still refuses a PNG named .gif', async () => {
    const path = `/modules/HelpDesk/records/${ticket}/documents`;
    for (const animated of [false, true]) {
      const up = await jane.upload(path, { name: animated ? 'spinner.png' : 'pixel.png', content: png(animated) });
      expect(up.status, `${animated}: ${up.text}`).to.equal(201);
      expect(up.body.mimeType).to.equal('image/png');
    }
    const renamed = await jane.upload(path, { name: 'spinner.gif', content: png(true) });
    expect(renamed.status, renamed.text).to.equal(422);
  });

  it('refuses an extension named like an object property (.constructor, .__proto__) as a type not allowed', async () => {
    const path = `/modules/HelpDesk/records/${ticket}/documents`;
    const notAllowed = await jane.upload(path, { name: 'setup.exe', content: PDF });
    expect(notAllowed.status).to.equal(422);
    for (const name of ['report.constructor', 'report.__proto__', 'report.toString', 'report.hasOwnProperty']) {
      const res = await jane.upload(path, { name, content: PDF });
      expect(res.status, name).to.equal(422);
      expect(res.body.error.message, name).to.equal(notAllowed.body.error.message);
    }
  });

  it('refuses a name of dots alone, or dots and an extension, as a bad name and stores nothing', async () => {
    const before = await documentCount();
    const path = `/modules/HelpDesk/records/${ticket}/documents`;
    // The stored name keeps no leading dot: "...txt" was stored, listed and downloaded as "txt".
    for (const name of ['...', '....', '...txt', '..pdf', '. .txt']) {
      const res = await jane.upload(path, { name, content: name.endsWith('pdf') ? PDF : 'plain text' });
      expect(res.status, `${name}: ${res.text}`).to.equal(422);
      expect(res.body.error.message, name).to.equal('The file name is not valid.');
    }
    expect(await documentCount()).to.equal(before);
    // Control: a name with a dot inside, or after a first letter, is a name.
    const dotted = await jane.upload(path, { name: '.profile.2026.txt', content: 'plain text' });
    expect(dotted.status, dotted.text).to.equal(201);
    expect(dotted.body.fileName).to.equal('profile.2026.txt');
  });

  it('refuses a name whose letters are all invisible (zero-width spaces, a soft hyphen, a BOM) as one of dots alone', async () => {
    const before = await documentCount();
    const path = `/modules/HelpDesk/records/${ticket}/documents`;
    // Listed in the CRM and on the portal, "\u200B\u200B.txt" reads ".txt": a name that names no file, as "..txt" does.
    for (const name of ['\u200B\u200B.txt', '\u2060.pdf', '\uFEFF\u00AD.txt', '\u200B', '\u200B.\u200B.txt']) {
      const res = await jane.upload(path, { name, content: name.endsWith('pdf') ? PDF : 'plain text' });
      expect(res.status, `${JSON.stringify(name)}: ${res.text}`).to.equal(422);
      expect(res.body.error.message, JSON.stringify(name)).to.equal('The file name is not valid.');
    }
    expect(await documentCount()).to.equal(before);
    // Control: an invisible character beside letters leaves a name (a joiner belongs in some words and emoji).
    const named = await jane.upload(path, { name: 'offerta\u200D2026.txt', content: 'plain text' });
    expect(named.status, named.text).to.equal(201);
    expect(named.body.fileName).to.equal('offerta\u200D2026.txt');
    // And one before a leading dot goes with the dot, as the host keeps no leading dot.
    const dotted = await jane.upload(path, { name: '\u200B.profile.txt', content: 'plain text' });
    expect(dotted.status, dotted.text).to.equal(201);
    expect(dotted.body.fileName).to.equal('profile.txt');
  });

  it('takes a UTF-8 text whose letter straddles the first 64 KiB it reads, and still refuses one that its BOM calls UTF-8 but is not', async () => {
    const before = await documentCount();
    const path = `/modules/HelpDesk/records/${ticket}/documents`;
    // "è" is two bytes: the first is the 65,536th of the file, the second the 65,537th.
    const utf8 = Buffer.concat([Buffer.alloc(64 * 1024 - 1, 0x61), Buffer.from('è\n', 'utf8')]);
    const up = await jane.upload(path, { name: 'prezzi.csv', content: utf8 });
    expect(up.status, up.text).to.equal(201);
    const download = await fetch(`${t.url}${API}${up.body.contentPath}`, { headers: { cookie: jane.cookie } });
    expect(Buffer.from(await download.arrayBuffer()).equals(utf8)).to.equal(true);
    // The same letter in Latin-1 (one byte, not UTF-8) after a UTF-8 BOM is refused, wherever it falls
    // past those 64 KiB; without the BOM it is single-byte text (test/security/text-uploads.test.ts).
    const latin1 = Buffer.concat([Buffer.alloc(64 * 1024 - 1, 0x61), Buffer.from([0xe8, 0x0a])]);
    const promised = await jane.upload(path, { name: 'prezzi.csv', content: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), latin1]) });
    expect(promised.status, promised.text).to.equal(422);
    expect(promised.body.error.code).to.equal('upload_refused');
    expect(await documentCount()).to.equal(before + 1);
    const legacy = await jane.upload(path, { name: 'prezzi.csv', content: latin1 });
    expect(legacy.status, legacy.text).to.equal(201);
    const back = await fetch(`${t.url}${API}${legacy.body.contentPath}`, { headers: { cookie: jane.cookie } });
    expect(Buffer.from(await back.arrayBuffer()).equals(latin1)).to.equal(true);
  });

  it('answers a malformed multipart body with 400 and keeps serving', async () => {
    const before = await documentCount();
    const send = (contentType: string, body: string) =>
      fetch(`${t.url}${API}/modules/HelpDesk/records/${ticket}/documents`, {
        method: 'POST',
        headers: { cookie: jane.cookie, 'x-requested-with': 'business-portal', 'content-type': contentType },
        body,
      });
    const truncated = await send('multipart/form-data; boundary=abc', '--abc\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhalf a fi');
    expect(truncated.status).to.equal(400);
    expect(((await truncated.json()) as { error: { code: string } }).error.code).to.equal('invalid_multipart');
    const noBoundary = await send('multipart/form-data', 'whatever');
    expect(noBoundary.status).to.equal(400);
    const twoFiles = await send('multipart/form-data; boundary=abc', ['a.txt', 'b.txt'].map((n) => `--abc\r\nContent-Disposition: form-data; name="file"; filename="${n}"\r\n\r\nx\r\n`).join('') + '--abc--\r\n');
    expect(twoFiles.status).to.equal(422);
    expect(await documentCount()).to.equal(before);
    expect((await jane.get(`/modules/HelpDesk/records/${ticket}/documents`)).status).to.equal(200);
  });

  it('refuses a multipart upload without the custom header (CSRF) and JSON writes sent as text/plain', async () => {
    const before = await documentCount();
    const res = await jane.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name: 'x.txt', content: 'hello' }, { header: false });
    expect(res.status).to.equal(415);
    expect(res.body.error.code).to.equal('unsupported_media_type');
    // The message names what the upload lacks, not JSON.
    expect(res.body.error.message).to.include('X-Requested-With');
    const plain = await fetch(`${t.url}${API}/modules/HelpDesk/records/${ticket}/comments`, {
      method: 'POST',
      headers: { cookie: jane.cookie, 'content-type': 'text/plain' },
      body: JSON.stringify({ body: 'cross-site' }),
    });
    expect(plain.status).to.equal(415);
    const form = await fetch(`${t.url}${API}/modules/HelpDesk/records`, {
      method: 'POST',
      headers: { cookie: jane.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'values[ticket_title]=csrf',
    });
    expect(form.status).to.equal(415);
    expect(await documentCount()).to.equal(before);
    expect((await t.host.api.records.comments('HelpDesk', ticket, { includeInternal: true })).some((c) => c.body === 'cross-site')).to.equal(false);
    expect(await idsWhere(t.host.api, 'HelpDesk', 'ticket_title', 'csrf')).to.deep.equal([]);
  });

  it('resolves a ticket; a closed ticket is read-only on the server ("Closed tickets are read-only")', async () => {
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Resolve me' } });
    const id = created.body.id;
    const resolved = await jane.send('POST', `/tickets/${id}/resolve`);
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body.resolved).to.equal(true);
    expect(resolved.body.record).to.include({ editable: false, deletable: false });
    expect(resolved.body.record.values.status).to.equal('Closed');
    expect((await t.host.api.records.get('HelpDesk', id))!.values.status).to.equal('Closed');
    const again = await jane.send('POST', `/tickets/${id}/resolve`, {});
    expect(again.body.resolved).to.equal(false);
    const patch = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { ticket_title: 'Reopened by the API' } });
    expect(patch.status).to.equal(403);
    expect(patch.body.error.code).to.equal('not_allowed');
    expect((await t.host.api.records.get('HelpDesk', id))!.values.ticket_title).to.equal('Resolve me');
    const mine = await mario.send('POST', `/tickets/${id}/resolve`);
    expect(mine.status).to.equal(404);
    const body = await jane.send('POST', `/tickets/${id}/resolve`, { status: 'Open' });
    expect(body.status).to.equal(422);
  });

  it('closes a ticket "OK, resolved" at once from two tabs: one closes it, the others answer it was closed already', async () => {
    const id = (await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Resolve me twice' } })).body.id;
    const answers = await Promise.all([1, 2, 3, 4].map(() => jane.send('POST', `/tickets/${id}/resolve`)));
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 200]);
    expect(answers.filter((a) => a.body.resolved === true)).to.have.length(1);
    for (const answer of answers) expect(answer.body.record.values.status).to.equal('Closed');
  });
});
