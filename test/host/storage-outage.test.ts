/**
 * What a customer's upload gets when the host's file storage refuses the write: its folder replaced
 * by a file (as a full or read-only disk, which this test's root user could write through anyway,
 * refuses it), then removed while the host runs. Nothing is half-written: no Documents record
 * without its file, no file without its record.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_UNAVAILABLE_RETRY_AFTER } from '../../plugin/http/database-outage.js';
import { apiClient, portalLogin, JANE } from '../portal-api/api-test-kit.js';
import { signedIn, upload } from '../portal-pages/portal-pages-kit.js';
import { tokenIn } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';

describe('file storage outage: an upload the disk refuses is a 503 that leaves nothing behind', function () {
  let test: TestHost;
  let files: string;
  const documents = async () => (await test.host.api.records.query('Documents', { limit: 1000 })).rows.length;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'warn' });
    files = join(test.host.options.dataDir, 'files');
  });
  after(async () => {
    rmSync(files, { force: true, recursive: true });
    await test?.stop();
  });

  it('answers the API and the page 503 with Retry-After in the customer’s language, logs it once, and takes uploads again once the folder can be written', async () => {
    const api = apiClient(test, await portalLogin(test, JANE));
    const ticket = await api.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Upload while the disk refuses' } });
    expect(ticket.status).to.equal(201);
    const path = `/modules/HelpDesk/records/${ticket.body.id}/documents`;
    expect((await api.upload(path, { name: 'first.txt', content: 'first' })).status).to.equal(201);
    const before = await documents();
    const filesBefore = readdirSync(files).length;

    rmSync(files, { recursive: true, force: true });
    writeFileSync(files, 'a file where the folder was');
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: unknown) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    let refused, page;
    try {
      refused = await api.upload(path, { name: 'refused.txt', content: 'refused' });
      const jane = await signedIn(test, JANE);
      const record = await jane.get(`/m/HelpDesk/${ticket.body.id}`);
      page = await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${ticket.body.id}/documents`, tokenIn(record.html), 'refused too.txt', 'refused');
    } finally {
      process.stderr.write = write;
    }
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal(String(DATABASE_UNAVAILABLE_RETRY_AFTER));
    expect(refused.body.error.code).to.equal('service_unavailable');
    expect(page.response.status).to.equal(503);
    // Jane's contact speaks English: her sign-in chose it (the Italian words are the database suite's).
    expect(page.html).to.include('The portal is unavailable for a moment');
    expect(page.html).not.to.match(/ENOTDIR|EEXIST|at \S+ \(/);
    expect(await documents(), 'no record without its file').to.equal(before);
    const said = lines.filter((line) => line.includes('the file storage refuses to write'));
    expect(said, lines.join('')).to.have.length(1);
    expect(lines.join('')).not.to.include('"stack"');

    // The folder removed while the host runs: the next upload makes it again.
    rmSync(files, { force: true });
    expect(existsSync(files)).to.equal(false);
    expect((await api.upload(path, { name: 'after.txt', content: 'after' })).status).to.equal(201);
    expect(await documents()).to.equal(before + 1);
    expect(readdirSync(files), 'only the new upload’s file').to.have.length(1);
    expect(filesBefore, 'one file per record before').to.be.greaterThan(0);
  });
});
