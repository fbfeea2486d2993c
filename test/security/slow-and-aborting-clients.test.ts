/**
 * Clients that read slowly or leave half-way, over raw sockets against the host that runs in this
 * process: a CSV export (page and API) reads the database no faster than the client takes the
 * CSV, and stops when the client leaves; a download reads its file no faster than the client takes
 * it, and closes it when the client leaves half-way; an upload cut off half-way stores no file and
 * no row.
 *
 * The export's rows are wide (a long description among the list columns) so that the whole CSV
 * is several times what the kernel's socket buffers hold: what the client does not read stays in
 * the database rather than in the process.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, readlinkSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { QueryTypes } from 'sequelize';
import type { TestHost } from '../support/host.js';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { signedIn as pageClient } from '../portal-pages/portal-pages-kit.js';
import { API, changeModule, idsWhere, JANE, portalLogin, startApiHost } from '../portal-api/api-test-kit.js';
import { MAX_UPLOAD_BYTES } from '../../plugin/access/upload-checks.js';

const TICKETS = 8000;
const BIG_FILE = 16 * 1024 * 1024;
const LATE_FILE = MAX_UPLOAD_BYTES;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw HTTP/1.1 request on its own socket; the caller decides how much of the answer to read. */
async function rawRequest(url: string, head: string, body: Buffer | string = ''): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined);
  socket.write(head);
  if (body.length > 0) socket.write(body);
  return socket;
}

/**
 * Waits until `read()` gives `wanted` (or `maxMs` passed); its last value. For what must come to
 * pass (a file closed): a loaded machine may take longer than a quiet spell to close it, and a
 * file that stays open fails all the same.
 */
async function reaches(read: () => number, wanted: number, maxMs = 10_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  let now = read();
  while (now !== wanted && Date.now() < deadline) {
    await sleep(100);
    now = read();
  }
  return now;
}

/** Waits until `read()` has not changed for `quietMs` (or `maxMs` passed); its last value. */
async function settled(read: () => number, quietMs = 1500, maxMs = 30_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = read();
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(100);
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return last;
}

describe('slow and aborting clients: exports, downloads, uploads @db', function () {
  this.timeout(240_000);
  let test: TestHost;
  let cookie: string;
  let jane: PortalClient;
  let ticket: number;
  let ticketReads = 0;
  const faults: string[] = [];

  before(async () => {
    test = await startApiHost();
    cookie = await portalLogin(test, JANE);
    jane = await pageClient(test, JANE);
    ticket = (await idsWhere(test.host.api, 'HelpDesk', 'ticket_title', 'Line 2 controller reboots every night'))[0]!;
    // Wide rows: the description (a textarea) among the list columns, about 2.6 KB a row.
    await changeModule(test.host.api, 'HelpDesk', (entry) => ({ ...entry, listColumns: [...entry.listColumns, 'description'] }));
    const sequelize = test.host.api.database.sequelize;
    const [sample] = await sequelize.query<Record<string, unknown>>('SELECT * FROM mod_helpdesk WHERE id = $id', { bind: { id: ticket }, type: QueryTypes.SELECT });
    const columns = ['ticket_no', 'ticket_title', 'contact_id', 'account_id', 'status', 'priority', 'description', 'owner_kind', 'owner_id', 'created_at', 'modified_at', 'version'];
    const description = sequelize.escape('The label printer on the third floor jams on every second sheet since the update. '.repeat(30));
    for (let start = 0; start < TICKETS; start += 500) {
      const rows: string[] = [];
      for (let i = start; i < Math.min(TICKETS, start + 500); i += 1) {
        const values = [`'SLOW${i}'`, `'Generated ticket ${i}'`, sample!.contact_id, sample!.account_id, "'Open'", "'Normal'", description, "'user'", sample!.owner_id];
        rows.push(`(${[...values, sequelize.escape(sample!.created_at as string | Date), sequelize.escape(sample!.modified_at as string | Date), 1].join(', ')})`);
      }
      await sequelize.query(`INSERT INTO mod_helpdesk (${columns.join(', ')}) VALUES ${rows.join(', ')}`);
    }
    // Every statement the store sends goes through sequelize.query: count the reads of tickets.
    const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
    (sequelize as unknown as { query: typeof original }).query = (sql, options) => {
      if (typeof sql === 'string' && /^\s*SELECT/i.test(sql) && /mod_helpdesk/i.test(sql)) ticketReads += 1;
      return original(sql, options);
    };
    const logger = test.host.api.logger;
    const error = logger.error.bind(logger);
    logger.error = (message, fields) => {
      faults.push(`${message} ${JSON.stringify(fields ?? {})}`);
      error(message, fields);
    };
  });
  after(async () => {
    await test?.stop();
  });

  /** On PostgreSQL: the sessions of this database that are inside a transaction or running a statement, but this one. */
  async function busySessions(): Promise<string[]> {
    const database = test.host.api.database;
    if (database.dialect !== 'postgres') return [];
    const rows = await database.sequelize.query<{ state: string; query: string }>(
      "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (state <> 'idle' OR xact_start IS NOT NULL)",
      { type: QueryTypes.SELECT },
    );
    return rows.map((r) => `${r.state}: ${r.query.slice(0, 80)}`);
  }

  for (const [where, path] of [
    ['page', '/portal/m/HelpDesk/export.csv'],
    ['API', `${API}/modules/HelpDesk/export.csv`],
  ] as const) {
    it(`reads no further than a client that reads nothing takes the CSV, and stops when it leaves (${where})`, async () => {
      let reads = ticketReads;
      const whole = await fetch(`${test.url}${path}`, { headers: { cookie } });
      expect(whole.status).to.equal(200);
      const csv = await whole.text();
      expect(csv.split('\r\n').length).to.be.greaterThan(TICKETS);
      expect(csv.length, 'the CSV is several times what the socket buffers hold').to.be.greaterThan(20_000_000);
      const wholeReads = ticketReads - reads;

      reads = ticketReads;
      faults.length = 0;
      const socket = await rawRequest(test.url, `GET ${path} HTTP/1.1\r\nHost: portal.test\r\nCookie: ${cookie}\r\n\r\n`);
      socket.pause();
      const stalled = (await settled(() => ticketReads)) - reads;
      expect(stalled, `reads while the client reads nothing (of ${wholeReads} for the whole CSV)`).to.be.below(wholeReads / 2);

      socket.destroy();
      const afterLeaving = (await settled(() => ticketReads, 1000)) - reads;
      expect(afterLeaving - stalled, 'reads after the client left').to.be.at.most(1);
      expect(faults, 'a client that leaves is not a fault').to.deep.equal([]);
      expect(await busySessions()).to.deep.equal([]);
      // The host serves the next export whole.
      expect((await fetch(`${test.url}${path}`, { headers: { cookie } })).status).to.equal(200);
    });
  }

  describe('a download', () => {
    let documentId: number;
    let lateId: number;
    let filesDir: string;
    before(async () => {
      filesDir = join(test.host.options.dataDir, 'files');
      const stored = await test.host.api.records.attachDocument(
        'HelpDesk',
        ticket,
        { title: 'Line 2 controller trace', fileName: 'controller-trace.log', mimeType: 'text/plain', content: Buffer.alloc(BIG_FILE, 0x61) },
        { actor: { kind: 'system' } },
      );
      documentId = stored.documentId;
      // As large as an upload may be: ASCII, then one Windows-1252 letter at the very end. Its
      // start tells no charset, so a download reads it through (a second open) before its headers.
      const late = await test.host.api.records.attachDocument(
        'HelpDesk',
        ticket,
        { title: 'Line 2 export', fileName: 'export-late.txt', mimeType: 'text/plain', content: Buffer.concat([Buffer.alloc(LATE_FILE - 1, 0x61), Buffer.from([0xe8])]) },
        { actor: { kind: 'system' } },
      );
      lateId = late.documentId;
    });

    /** This process's descriptors open on stored document files. */
    const fileDescriptors = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(filesDir);
        } catch {
          return false;
        }
      });
    const openFiles = () => fileDescriptors().length;
    /** What each descriptor open on a stored file is: its file, how far it was read, its flags (for a failure's message). */
    const describeOpen = () => fileDescriptors().map((fd) => `fd ${fd} → ${readlinkSync(`/proc/self/fd/${fd}`).slice(filesDir.length)} ${readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').replace(/\s+/g, ' ')}`).join('; ');
    /** How far into the file the process has read, for each file it has open. */
    const readPositions = () => fileDescriptors().map((fd) => Number(/^pos:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1]));
    /** Bytes this process has read through read(2) and the like, files and sockets alike (`rchar`). */
    const bytesRead = () => Number(/^rchar:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);

    for (const where of ['page', 'API'] as const) {
      it(`closes the file when the client leaves half-way, and answers HEAD without a body (${where})`, async () => {
        const path = where === 'page' ? `/portal/m/HelpDesk/${ticket}/documents/${documentId}` : `${API}/documents/${documentId}/content`;
        // None: every test here ends with its files closed. Counted as it came, the count caught the
        // previous test's last download (a whole file, answered) in the instant before its close,
        // and this test then waited for a file that had closed meanwhile (full serial runs, CI).
        const before = 0;
        expect(await reaches(openFiles, before), `files open as the test begins: ${describeOpen()}`).to.equal(before);
        faults.length = 0;
        for (let i = 0; i < 3; i += 1) {
          const socket = await rawRequest(test.url, `GET ${path} HTTP/1.1\r\nHost: portal.test\r\nCookie: ${cookie}\r\n\r\n`);
          const first = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
          expect(first.toString('latin1')).to.match(/^HTTP\/1\.1 200 /);
          socket.pause();
          await sleep(200);
          if (i === 0) {
            // A client that reads nothing more: the file is read no further than the socket buffers hold.
            await settled(() => readPositions().reduce((a, b) => a + b, 0), 300, 5000);
            for (const position of readPositions()) expect(position).to.be.below(BIG_FILE / 2);
          }
          socket.destroy();
        }
        expect(await reaches(openFiles, before), `files left open by abandoned downloads: ${describeOpen()}`).to.equal(before);
        expect(faults, 'a client that leaves is not a fault').to.deep.equal([]);

        // A HEAD answers the headers without reading the file (it read all 16 MB to throw them away).
        const readBefore = bytesRead();
        for (let i = 0; i < 3; i += 1) {
          const head = await fetch(`${test.url}${path}`, { method: 'HEAD', headers: { cookie } });
          expect(head.status).to.equal(200);
          expect(head.headers.get('content-length')).to.equal(String(BIG_FILE));
          expect(head.headers.get('content-disposition')).to.match(/^attachment; filename="controller-trace\.log"/);
          expect(await head.text()).to.equal('');
        }
        expect(bytesRead() - readBefore, 'bytes the process read for three HEADs').to.be.below(BIG_FILE / 4);
        expect(await reaches(openFiles, before), `files left open by HEADs: ${describeOpen()}`).to.equal(before);
        const whole = await fetch(`${test.url}${path}`, { headers: { cookie } });
        expect((await whole.arrayBuffer()).byteLength).to.equal(BIG_FILE);
        expect(await reaches(openFiles, before)).to.equal(before);
      });

      it(`stops reading a text file through for its charset when the client leaves, and closes both of its opens (${where})`, async () => {
        const path = where === 'page' ? `/portal/m/HelpDesk/${ticket}/documents/${lateId}` : `${API}/documents/${lateId}/content`;
        const whole = await fetch(`${test.url}${path}`, { headers: { cookie } });
        expect(whole.headers.get('content-type'), 'the label all its bytes give').to.equal('text/plain; charset=windows-1252');
        expect((await whole.arrayBuffer()).byteLength).to.equal(LATE_FILE);
        expect(await reaches(openFiles, 0)).to.equal(0);
        faults.length = 0;
        const readBefore = bytesRead();
        // Clients that ask and leave at once: each read-through would read all 10 MB for no one.
        const CLIENTS = 5;
        for (let i = 0; i < CLIENTS; i += 1) {
          const socket = await rawRequest(test.url, `GET ${path} HTTP/1.1\r\nHost: portal.test\r\nCookie: ${cookie}\r\n\r\n`);
          socket.destroy();
        }
        // Each download is answered to its end, though no one reads it: one still under way opened
        // the file in the next test, counted as that test's (a full run on a loaded machine).
        expect(await reaches(() => test.host.requestsInFlight(), 0, 20_000), 'downloads still being answered').to.equal(0);
        // By the MiB: reading /proc/self/io to poll is a read too.
        await settled(() => Math.floor(bytesRead() / 2 ** 20), 500, 20_000);
        expect(bytesRead() - readBefore, `bytes the process read for ${CLIENTS} downloads left at once`).to.be.below(LATE_FILE);
        expect(await reaches(openFiles, 0), 'files left open by the downloads left').to.equal(0);
        expect(faults, 'a client that leaves is not a fault').to.deep.equal([]);
      });

      for (const [when, held] of [
        ["between the download's two opens", true],
        ['as the download opens it, after its look that it is there', false],
      ] as const) {
        it(`answers 404 when the file goes ${when}, and leaves no file open (${where})`, async () => {
          const path = where === 'page' ? `/portal/m/HelpDesk/${ticket}/documents/${lateId}` : `${API}/documents/${lateId}/content`;
          const [row] = await test.host.api.database.sequelize.query<{ storage_key: string }>('SELECT storage_key FROM mod_documents WHERE id = $id', { bind: { id: lateId }, type: QueryTypes.SELECT });
          const stored = join(filesDir, row!.storage_key);
          const aside = `${stored}.aside`;
          // The file is moved away right after the download's first open (as a CRM user's delete or a
          // cleanup would, in the instant between), and back after the answer.
          expect(await reaches(() => test.host.requestsInFlight(), 0), 'requests still being answered as the test begins').to.equal(0);
          const records = test.host.api.records;
          const open = records.openDocument.bind(records);
          let opens = 0;
          records.openDocument = async (id) => {
            const opened = await open(id);
            if (id === lateId && (opens += 1) === 1) {
              // Once this open holds the file (a stream opens it a moment after it is made).
              if (opened && held && (opened.stream as { pending?: boolean }).pending) await once(opened.stream, 'ready');
              renameSync(stored, aside);
            }
            return opened;
          };
          faults.length = 0;
          try {
            const answer = await fetch(`${test.url}${path}`, { headers: { cookie } });
            expect(opens, 'the file was opened twice').to.equal(2);
            expect(answer.status).to.equal(404);
            await answer.arrayBuffer();
          } finally {
            records.openDocument = open;
            if (existsSync(aside)) renameSync(aside, stored);
          }
          expect(await reaches(openFiles, 0), 'files left open').to.equal(0);
          expect(faults, 'a file gone is no fault of the portal').to.deep.equal([]);
          const back = await fetch(`${test.url}${path}`, { headers: { cookie } });
          expect(back.status, 'the file back').to.equal(200);
          expect((await back.arrayBuffer()).byteLength).to.equal(LATE_FILE);
          expect(await reaches(openFiles, 0), `files left open by the download of the file back: ${describeOpen()}`).to.equal(0);
        });
      }
    }
  });

  describe('an upload cut off half-way', () => {
    const storedFiles = () => {
      try {
        return readdirSync(join(test.host.options.dataDir, 'files')).length;
      } catch {
        return 0;
      }
    };

    /** A multipart body that promises a 5 MB text file; the client sends 1 MB of it and leaves. */
    async function cutOff(path: string, headers: string, fields: Record<string, string>): Promise<void> {
      const boundary = 'bp-cut-off-upload';
      const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
      const head = `${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.txt"\r\nContent-Type: text/plain\r\n\r\n`;
      const length = Buffer.byteLength(head) + 5 * 1024 * 1024 + `\r\n--${boundary}--\r\n`.length;
      const socket = await rawRequest(
        test.url,
        `POST ${path} HTTP/1.1\r\nHost: portal.test\r\n${headers}Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${length}\r\n\r\n`,
        Buffer.concat([Buffer.from(head), Buffer.alloc(1024 * 1024, 0x62)]),
      );
      await sleep(300);
      socket.destroy();
      await sleep(300);
    }

    /**
     * A file far over the limit whose client goes on sending (a 200 MB video, or a body that never
     * ends): how many bytes it had written when the answer came, the answer, and whether the server
     * closed the connection within `closeWithinMs` of it while the client was still sending.
     */
    async function overTheLimit(path: string, headers: string, fields: Record<string, string>, chunked: boolean, closeWithinMs: number) {
      const boundary = 'bp-over-the-limit';
      const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
      const head = `${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="video.txt"\r\nContent-Type: text/plain\r\n\r\n`;
      const length = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${Buffer.byteLength(head) + 200 * 1024 * 1024}`;
      const frame = (data: Buffer) => (chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data);
      const socket = await rawRequest(test.url, `POST ${path} HTTP/1.1\r\nHost: portal.test\r\n${headers}Content-Type: multipart/form-data; boundary=${boundary}\r\n${length}\r\n\r\n`, frame(Buffer.from(head)));
      let answer = '';
      let closedAt = 0;
      socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
      socket.on('close', () => (closedAt = Date.now()));
      const megabyte = frame(Buffer.alloc(1024 * 1024, 0x61));
      let sent = 0;
      let sentAtAnswer = 0;
      let answeredAt = 0;
      // Up to 64 MB, then on for as long as the server may take to close.
      while (!closedAt && (sent < 64 * 1024 * 1024 || (answeredAt && Date.now() - answeredAt < closeWithinMs + 2000))) {
        if (!answeredAt && answer.includes('\r\n\r\n')) [answeredAt, sentAtAnswer] = [Date.now(), sent];
        if (!socket.write(megabyte)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), sleep(200)]);
        sent += 1024 * 1024;
        await sleep(5);
      }
      socket.destroy();
      return { status: Number(answer.slice(9, 12)), answer, sentAtAnswer, closedAfter: closedAt && answeredAt ? closedAt - answeredAt : Infinity };
    }

    it('answers a file over the limit as soon as the body passes it, and stops reading a body that goes on', async () => {
      const documents = await test.host.api.records.count('Documents');
      const files = storedFiles();
      const { html } = await jane.get(`/m/HelpDesk/${ticket}`);
      const page = await overTheLimit(`/portal/m/HelpDesk/${ticket}/documents`, `Cookie: ${jane.cookieHeader()}\r\n`, { _csrf: tokenIn(html) }, false, 10_000);
      const api = await overTheLimit(`${API}/modules/HelpDesk/records/${ticket}/documents`, `Cookie: ${cookie}\r\nX-Requested-With: business-portal\r\n`, {}, true, 10_000);
      for (const [where, upload] of [['page', page], ['API', api]] as const) {
        expect(upload.status, where).to.equal(413);
        // The answer comes while the body streams: after its first 10 MB, not after its 200.
        expect(upload.sentAtAnswer, where).to.be.greaterThan(0).and.below(32 * 1024 * 1024);
        expect(upload.closedAfter, where).to.be.below(10_000);
      }
      expect(page.answer).to.include('The file is too large');
      expect(api.answer).to.include('"upload_refused"');
      expect(await test.host.api.records.count('Documents')).to.equal(documents);
      expect(storedFiles()).to.equal(files);
      // The host lives on, and the customer's slots came back: two uploads at once are stored.
      const form = () => {
        const body = new FormData();
        body.set('file', new Blob(['whole'], { type: 'text/plain' }), 'whole.txt');
        return body;
      };
      const send = () => fetch(`${test.url}${API}/modules/HelpDesk/records/${ticket}/documents`, { method: 'POST', headers: { cookie, 'x-requested-with': 'business-portal' }, body: form() });
      expect((await Promise.all([send(), send()])).map((r) => r.status)).to.deep.equal([201, 201]);
    });

    it('stores no file and no row, on the page and through the API', async () => {
      const documents = await test.host.api.records.count('Documents');
      const files = storedFiles();
      const { html } = await jane.get(`/m/HelpDesk/${ticket}`);
      const token = tokenIn(html);
      await cutOff(`/portal/m/HelpDesk/${ticket}/documents`, `Cookie: ${jane.cookieHeader()}\r\n`, { _csrf: token });
      await cutOff(`${API}/modules/HelpDesk/records/${ticket}/documents`, `Cookie: ${cookie}\r\nX-Requested-With: business-portal\r\n`, {});
      expect(await test.host.api.records.count('Documents')).to.equal(documents);
      expect(storedFiles()).to.equal(files);
      // The host lives on: a whole upload is stored.
      const form = new FormData();
      form.set('file', new Blob(['whole'], { type: 'text/plain' }), 'whole.txt');
      const whole = await fetch(`${test.url}${API}/modules/HelpDesk/records/${ticket}/documents`, { method: 'POST', headers: { cookie, 'x-requested-with': 'business-portal' }, body: form });
      expect(whole.status).to.equal(201);
      expect(await test.host.api.records.count('Documents')).to.equal(documents + 1);
    });
  });
});
