/**
 * What describes a stored file — its Documents record's file name, size and type — against the
 * customers who may edit or create Documents (only an upload sets them, from the file itself),
 * and against a size that is not the file's: the download's
 * `Content-Length` comes from the recorded size, so a size smaller than the file made the server
 * write the rest of the file after the answer, where the client (or a proxy in front) reads it as
 * the answer to its next request; a larger one left the client waiting for bytes that never come.
 */
import { expect } from 'chai';
import { connect } from 'node:net';
import { tokenIn } from '../sign-in/sign-in-fixture.js';
import type { TestHost } from '../support/host.js';
import { signedIn as pagesSignedIn, upload } from '../portal-pages/portal-pages-kit.js';
import { API, changeModule, idsWhere, JANE, portalLogin, signedIn, startApiHost, TOM, type ApiClient } from '../portal-api/api-test-kit.js';

const AGREEMENT = 'acme-master-service-agreement.pdf';

/** Everything one raw HTTP/1.1 GET receives on its socket until the server closes it, or `waitMs` passes. */
async function rawGet(url: string, path: string, cookie: string, waitMs = 3000): Promise<{ head: string; body: Buffer; closed: boolean }> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: portal.test\r\nCookie: ${cookie}\r\n\r\n`);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.destroy();
  const all = Buffer.concat(chunks);
  const end = all.indexOf('\r\n\r\n');
  return { head: all.subarray(0, end).toString('latin1'), body: all.subarray(end + 4), closed };
}

const contentLength = (head: string): number => Number(/^content-length:\s*(\d+)/im.exec(head)?.[1]);

describe('security: what describes a stored file @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let documentId: number;
  let fileBytes: number;
  const faults: string[] = [];

  before(async () => {
    t = await startApiHost();
    // Customers may edit their company's Documents records (their title, notes, folder…).
    await changeModule(t.host.api, 'Documents', (entry) => ({ ...entry, edit: true }));
    jane = await signedIn(t, JANE);
    documentId = (await idsWhere(t.host.api, 'Documents', 'filename', AGREEMENT))[0]!;
    const opened = await t.host.api.records.openDocument(documentId);
    fileBytes = opened!.file.size;
    opened!.stream.destroy();
    const logger = t.host.api.logger;
    const error = logger.error.bind(logger);
    logger.error = (message, fields) => {
      faults.push(`${message} ${JSON.stringify(fields ?? {})}`);
      error(message, fields);
    };
  });
  after(async () => t?.stop());

  it('refuses a customer’s change of a stored file’s name, size or type, and changes nothing', async () => {
    const before = await t.host.api.records.get('Documents', documentId);
    const record = await jane.get(`/modules/Documents/records/${documentId}`);
    expect(record.status, record.text).to.equal(200);
    expect(record.body.editable, 'the record itself may be edited').to.equal(true);
    for (const name of ['filename', 'filesize', 'mimetype']) {
      expect(record.body.fields.find((f: any) => f.name === name)?.access, name).to.equal('readonly');
    }
    for (const values of [{ filesize: 12 }, { filename: 'agreement.html' }, { mimetype: 'text/html' }, { filename: 'agreement.svg', filesize: 1 }]) {
      const res = await jane.send('PATCH', `/modules/Documents/records/${documentId}`, { values, version: before!.version });
      expect(res.status, `${JSON.stringify(values)}: ${res.text}`).to.equal(422);
      for (const field of Object.keys(values)) {
        expect(res.body.error.problems.some((p: any) => p.field === `values.${field}` && p.code === 'not-writable'), `${field}: ${res.text}`).to.equal(true);
      }
    }
    const after = await t.host.api.records.get('Documents', documentId);
    expect(after!.values).to.deep.equal(before!.values);
    expect(after!.version).to.equal(before!.version);
    // What is the customer's to change still is.
    const notes = await jane.send('PATCH', `/modules/Documents/records/${documentId}`, { values: { notes: 'Signed copy' }, version: before!.version });
    expect(notes.status, notes.text).to.equal(200);
  });

  for (const where of ['page', 'API'] as const) {
    it(`never sends a byte past the Content-Length it announced, and ends the answer when the file is not its recorded size (${where})`, async () => {
      const cookie = await portalLogin(t, TOM);
      const account = (await t.host.api.records.get('Documents', documentId))!;
      // The page's download of a Documents record's own file (an account page offers no files: Accounts have no documents tool).
      const path = where === 'page' ? `/portal/m/Documents/${documentId}/documents/${documentId}` : `${API}/documents/${documentId}/content`;
      const actor = { actor: { kind: 'user' as const, userId: 1 } };
      try {
        // The CRM records a size smaller than the file (an edit there, an import…).
        await t.host.api.records.update('Documents', documentId, { values: { filesize: 16 } }, actor);
        faults.length = 0;
        const shorter = await rawGet(t.url, path, cookie);
        // No answer at all, or one cut off within what it announced: never a second one after it.
        if (shorter.head !== '') expect(contentLength(shorter.head)).to.equal(16);
        expect(shorter.body.length, 'bytes after the announced answer are read as the next answer').to.be.at.most(16);
        expect(shorter.closed, 'the connection ends with the refused answer').to.equal(true);
        // And one larger than the file: the client is not left waiting for the rest.
        await t.host.api.records.update('Documents', documentId, { values: { filesize: fileBytes + 1000 } }, actor);
        const longer = await rawGet(t.url, path, cookie);
        expect(longer.head).to.match(/^HTTP\/1\.1 200 /);
        expect(contentLength(longer.head)).to.equal(fileBytes + 1000);
        expect(longer.body.length).to.be.below(fileBytes + 1000);
        expect(longer.closed, 'the answer ends with the connection, not with a wait').to.equal(true);
        // The CRM's wrong size is a fault worth fixing: logged, once per download.
        expect(faults.filter((f) => /longer than|shorter than/.test(f)), faults.join('\n')).to.have.length(2);
      } finally {
        await t.host.api.records.update('Documents', documentId, { values: { filesize: account.values.filesize ?? fileBytes } }, actor);
      }
      // The file whole, at its right size, as before.
      const whole = await rawGet(t.url, path, cookie, 500);
      expect(contentLength(whole.head)).to.equal(fileBytes);
      expect(whole.body.length).to.equal(fileBytes);
      expect(whole.body.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    });
  }

  it('refuses a file name, size or type on a new Documents record (API and page), and creates nothing', async () => {
    await changeModule(t.host.api, 'Documents', (entry) => ({ ...entry, create: true }));
    const count = async () => (await t.host.api.records.query('Documents', { limit: 1, withTotal: true })).total;
    const before = await count();
    for (const values of [{ filename: 'invoice.html' }, { filesize: 99999999 }, { mimetype: 'text/html' }, { filename: 'a.svg', filesize: 1, mimetype: 'image/svg+xml' }]) {
      const res = await jane.send('POST', '/modules/Documents/records', { values: { title: 'Planted', ...values } });
      expect(res.status, `${JSON.stringify(values)}: ${res.text}`).to.equal(422);
      for (const field of Object.keys(values)) {
        expect(res.body.error.problems.some((p: any) => p.field === `values.${field}` && p.code === 'not-writable'), `${field}: ${res.text}`).to.equal(true);
      }
    }
    const pages = await pagesSignedIn(t, JANE);
    const form = await pages.get('/m/Documents/new');
    expect(form.response.status).to.equal(200);
    const posted = await pages.post('/m/Documents/new', { _csrf: tokenIn(form.html), title: 'Planted', filename: 'invoice.html', filesize: '1', mimetype: 'text/html' });
    expect(posted.response.status).to.equal(422);
    expect(await count()).to.equal(before);
    expect(await idsWhere(t.host.api, 'Documents', 'title', 'Planted')).to.deep.equal([]);
    // A record without a file is still the customer's to create.
    const plain = await jane.send('POST', '/modules/Documents/records', { values: { title: 'Meeting notes', notes: 'No file' } });
    expect(plain.status, plain.text).to.equal(201);
  });

  it('leaves a file’s name, size and type off a new Documents record’s form (page and API), and shows them on a stored one', async () => {
    await changeModule(t.host.api, 'Documents', (entry) => ({ ...entry, create: true }));
    const fileFields = ['filename', 'filesize', 'mimetype'];
    // The API's description of a new record's fields: what a customer fills in.
    const fields = await jane.get('/modules/Documents/fields');
    expect(fields.status, fields.text).to.equal(200);
    const names = fields.body.fields.map((f: any) => f.name);
    expect(names).to.include('title');
    for (const name of fileFields) expect(names, name).to.not.include(name);
    // The new-record page: no empty read-only inputs for a file the record does not have yet.
    const pages = await pagesSignedIn(t, JANE);
    const form = await pages.get('/m/Documents/new');
    expect(form.response.status).to.equal(200);
    expect(form.html).to.match(/name="title"/);
    for (const name of fileFields) expect(form.html, name).to.not.match(new RegExp(`name="${name}"|id="[^"]*${name}"`));
    // A stored record still shows its file's facts.
    const stored = await jane.get(`/modules/Documents/records/${documentId}`);
    expect(stored.status, stored.text).to.equal(200);
    expect(stored.body.values).to.include({ filename: AGREEMENT });
    const view = await pages.get(`/m/Documents/${documentId}`);
    expect(view.response.status).to.equal(200);
    expect(view.html).to.include(AGREEMENT);
  });

  it('still takes a file’s name, size and type from an upload, the one path that has the file (API and page)', async () => {
    const janeId = (await idsWhere(t.host.api, 'Contacts', 'email', JANE))[0]!;
    const acme = (await idsWhere(t.host.api, 'Accounts', 'accountname', 'Acme Ltd'))[0]!;
    const ticket = (await t.host.api.records.create('HelpDesk', { values: { ticket_title: 'Files', status: 'Open', priority: 'Normal', contact_id: janeId, account_id: acme } })).id;
    const up = await jane.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name: 'report.txt', content: 'hello world', type: 'text/plain' }, { title: 'Report' });
    expect(up.status, up.text).to.equal(201);
    expect(up.body).to.include({ title: 'Report', fileName: 'report.txt', mimeType: 'text/plain', size: 11 });
    const stored = await t.host.api.records.get('Documents', up.body.id);
    expect(stored!.values).to.include({ filename: 'report.txt', mimetype: 'text/plain', filesize: 11 });
    const pages = await pagesSignedIn(t, JANE);
    const page = await pages.get(`/m/HelpDesk/${ticket}`);
    const sent = await upload(`${t.url}/portal`, pages, `/m/HelpDesk/${ticket}/documents`, tokenIn(page.html), 'minutes.csv', 'a,b\n1,2\n', 'text/csv');
    expect(sent.response.status, sent.html).to.equal(303);
    const files = await t.host.api.records.documents('HelpDesk', ticket);
    expect(files.find((f) => f.fileName === 'minutes.csv')).to.include({ title: 'minutes.csv', mimeType: 'text/csv', size: 8 });
  });
});
