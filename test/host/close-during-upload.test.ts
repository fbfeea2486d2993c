/**
 * The host asked to stop (SIGTERM runs `close()`) while a customer's upload or ticket create is
 * on its way: one that ends within the grace is answered and stored whole; one that does not is
 * cut, and leaves nothing behind (no Documents record, no file, no ticket).
 */
import { expect } from 'chai';
import { readdirSync, existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { QueryTypes } from 'sequelize';
import { openDatabase } from '../../host/database.js';
import { API, apiClient, JANE, portalLogin } from '../portal-api/api-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';

const BOUNDARY = 'closeduringupload';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An HTTP request sent in two parts: the head and `first` now, `rest()` later. Answers its status, or 'cut'. */
async function sendInTwo(url: string, path: string, headers: string, first: Buffer, rest: Buffer): Promise<{ answer: Promise<number | 'cut'>; rest(): void }> {
  const socket: Socket = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  const answer = new Promise<number | 'cut'>((resolve) => {
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(/^HTTP\/1\.1 (\d{3})/.exec(text) ? Number(/^HTTP\/1\.1 (\d{3})/.exec(text)![1]) : 'cut'));
    socket.on('end', () => socket.destroy());
  });
  socket.write(`POST ${path} HTTP/1.1\r\nHost: portal.test\r\nConnection: close\r\n${headers}Content-Length: ${first.length + rest.length}\r\n\r\n`);
  socket.write(first);
  return { answer, rest: () => void (socket.destroyed || socket.write(rest)) };
}

function multipart(name: string, content: Buffer): { first: Buffer; rest: Buffer } {
  const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const half = Math.floor(content.length / 2);
  return { first: Buffer.concat([head, content.subarray(0, half)]), rest: Buffer.concat([content.subarray(half), tail]) };
}

describe('reference host: close() while an upload or a ticket create is in flight @db', function () {
  let test: TestHost;
  let cookie: string;
  let ticket: number;

  async function counts(): Promise<{ documents: number; tickets: number; files: number }> {
    // The host's database is closed by now: read it on a connection of the test's own.
    const db = await openDatabase(test.host.options.databaseUrl);
    try {
      const count = async (table: string) => Number((await db.sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table}`, { type: QueryTypes.SELECT }))[0]!.n);
      const dir = join(test.host.options.dataDir, 'files');
      return { documents: await count(test.host.registry.tableName('Documents')), tickets: await count(test.host.registry.tableName('HelpDesk')), files: existsSync(dir) ? readdirSync(dir).length : 0 };
    } finally {
      await db.sequelize.close();
    }
  }

  async function start(shutdownGraceMs: number): Promise<void> {
    test = await startTestHost({ demo: true, logLevel: 'silent', shutdownGraceMs });
    cookie = await portalLogin(test, JANE);
    const created = await apiClient(test, cookie).send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Before the stop' } });
    ticket = created.body.id;
  }

  afterEach(async () => {
    await test?.stop();
  });

  it('answers an upload that ends within the grace, and stores its record and its file', async () => {
    await start(5000);
    const before = await counts();
    const body = multipart('during the stop.txt', Buffer.alloc(256 * 1024, 'a'));
    const upload = await sendInTwo(test.url, `${API}/modules/HelpDesk/records/${ticket}/documents`, `Cookie: ${cookie}\r\nX-Requested-With: business-portal\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n`, body.first, body.rest);
    await sleep(100);
    const closing = test.host.close();
    await sleep(100);
    upload.rest();
    expect(await upload.answer).to.equal(201);
    await closing;
    const after = await counts();
    expect(after.documents).to.equal(before.documents + 1);
    expect(after.files).to.equal(before.files + 1);
  });

  it('cuts an upload that does not end within the grace, and leaves neither a record nor a file', async () => {
    await start(300);
    const before = await counts();
    const body = multipart('cut by the stop.txt', Buffer.alloc(256 * 1024, 'b'));
    const upload = await sendInTwo(test.url, `${API}/modules/HelpDesk/records/${ticket}/documents`, `Cookie: ${cookie}\r\nX-Requested-With: business-portal\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n`, body.first, body.rest);
    await sleep(100);
    await test.host.close();
    expect(await upload.answer).to.equal('cut');
    await sleep(200);
    const after = await counts();
    expect(after.documents, 'no record').to.equal(before.documents);
    expect(after.files, 'no file on disk without its record').to.equal(before.files);
  });

  it('creates a ticket whose body ends within the grace; one that does not is cut and writes nothing', async () => {
    await start(400);
    const before = await counts();
    const json = (title: string) => Buffer.from(JSON.stringify({ values: { ticket_title: title } }));
    const whole = json('During the stop');
    const slow = await sendInTwo(test.url, `${API}/modules/HelpDesk/records`, `Cookie: ${cookie}\r\nContent-Type: application/json\r\n`, whole.subarray(0, 10), whole.subarray(10));
    const cutBody = json('Cut by the stop');
    const cut = await sendInTwo(test.url, `${API}/modules/HelpDesk/records`, `Cookie: ${cookie}\r\nContent-Type: application/json\r\n`, cutBody.subarray(0, 10), cutBody.subarray(10));
    await sleep(100);
    const closing = test.host.close();
    await sleep(50);
    slow.rest();
    expect(await slow.answer).to.equal(201);
    await closing;
    expect(await cut.answer).to.equal('cut');
    const after = await counts();
    expect(after.tickets).to.equal(before.tickets + 1);
  });
});
