/**
 * What describes a stored file — its Documents record's file name, size and type — against the
 * customers who may edit Documents, and against a size that is not the file's: the download's
 * `Content-Length` comes from the recorded size, so a size smaller than the file made the server
 * write the rest of the file after the answer, where the client (or a proxy in front) reads it as
 * the answer to its next request; a larger one left the client waiting for bytes that never come.
 */
import { expect } from 'chai';
import { connect } from 'node:net';
import type { TestHost } from '../support/host.js';
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
      const accountId = (await idsWhere(t.host.api, 'Accounts', 'accountname', 'Acme Ltd'))[0]!;
      const path = where === 'page' ? `/portal/m/Accounts/${accountId}/documents/${documentId}` : `${API}/documents/${documentId}/content`;
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
});
