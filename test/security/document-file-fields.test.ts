/**
 * What describes a stored file — its Documents record's file name, size and type — against the
 * customers who may edit Documents, and against a size that is not the file's: the download's
 * `Content-Length` comes from the recorded size, so a size smaller than the file made the server
 * write the rest of the file after the answer, where the client (or a proxy in front) reads it as
 * the answer to its next request; a larger one left the client waiting for bytes that never come.
 */
import { expect } from 'chai';
import type { TestHost } from '../support/host.js';
import { changeModule, idsWhere, JANE, signedIn, startApiHost, type ApiClient } from '../portal-api/api-test-kit.js';

const AGREEMENT = 'acme-master-service-agreement.pdf';

describe('security: what describes a stored file @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let documentId: number;

  before(async () => {
    t = await startApiHost();
    // Customers may edit their company's Documents records (their title, notes, folder…).
    await changeModule(t.host.api, 'Documents', (entry) => ({ ...entry, edit: true }));
    jane = await signedIn(t, JANE);
    documentId = (await idsWhere(t.host.api, 'Documents', 'filename', AGREEMENT))[0]!;
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
});
