/**
 * Many uploads at once, over raw sockets against the host that runs in this process: each
 * customer sends at most two files at once (pages and API together) and the process holds at most
 * `UPLOAD_BYTES_AT_ONCE` of them; the others are answered 429 (`Retry-After`, the API's error
 * shape or the record page in the customer's language) before their body is read, and store
 * nothing; the process's memory grows by what it accepted, not by what was sent; and the slots come
 * back on every path — stored, refused, cut off by the client, failed — so that the next uploads
 * are taken again.
 *
 * The bodies are sent in two steps: the head and a first slice, then (once every refusal has come
 * back) the rest. While the first uploads wait for their bytes nothing frees a slot, so which
 * requests are refused does not depend on timing.
 */
import { expect } from 'chai';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { UPLOAD_BYTES_AT_ONCE, UPLOAD_RETRY_AFTER, UPLOADS_PER_CUSTOMER } from '../../plugin/access/upload-slots.js';
import type { TestHost } from '../support/host.js';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { signedIn as pageClient } from '../portal-pages/portal-pages-kit.js';
import { API, GIULIA, JANE, MARIO, portalLogin, startApiHost, TOM } from '../portal-api/api-test-kit.js';

const MiB = 1024 * 1024;
/** Under the 10 MB limit: seven of these fit in the process's 64 MiB, eight do not. */
const FILE = 9 * MiB;
const CONTENT = Buffer.alloc(FILE, 0x61);
const FIRST_SLICE = 64 * 1024;
const BOUNDARY = 'bp-parallel-upload';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** An upload on its own socket whose body is sent in two steps (`rest`), or cut off (`abort`). */
interface Sending {
  readonly answer: Promise<RawAnswer>;
  answered: RawAnswer | null;
  rest(): void;
  abort(): void;
}

function multipartHead(fields: Record<string, string>, fileName: string): Buffer {
  const parts = Object.entries(fields).map(([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  return Buffer.from(`${parts.join('')}--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: text/plain\r\n\r\n`);
}
const TAIL = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

/** Reads one HTTP/1.1 answer off a socket (its body by `Content-Length`, or up to the close). */
function readAnswer(socket: Socket): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const parse = (ended: boolean): boolean => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
      const body = received.subarray(end + 4);
      if (length === null ? !ended : body.length < length) return false;
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: body.subarray(0, length ?? body.length).toString('utf8') });
      return true;
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      parse(false);
    });
    socket.on('end', () => parse(true) || reject(new Error('the connection ended without an answer')));
    socket.on('close', () => reject(new Error('the connection closed without an answer')));
    socket.on('error', () => undefined);
  });
}

async function startUpload(url: string, path: string, headers: string, fields: Record<string, string> = {}): Promise<Sending> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const head = multipartHead(fields, 'report.txt');
  const length = head.length + FILE + TAIL.length;
  const sending: Sending = {
    answer: readAnswer(socket),
    answered: null,
    rest: () => {
      if (socket.destroyed) return;
      socket.write(CONTENT.subarray(FIRST_SLICE));
      socket.write(TAIL);
    },
    abort: () => socket.destroy(),
  };
  sending.answer.then(
    (answer) => (sending.answered = answer),
    () => undefined,
  );
  socket.write(`POST ${path} HTTP/1.1\r\nHost: portal.test\r\n${headers}Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${length}\r\n\r\n`);
  socket.write(head);
  socket.write(CONTENT.subarray(0, FIRST_SLICE));
  return sending;
}

/** Waits until `condition()` holds, at most `maxMs`. */
async function until(condition: () => boolean, maxMs = 15_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!condition() && Date.now() < deadline) await sleep(20);
}

/** This process's live memory (after a full collection): the JavaScript heap and the buffers outside it. */
function liveBytes(): number {
  // A young-generation collection: cheap enough to run every 50 ms, and the chunks read and thrown
  // away (a refused body) die young, while those an upload holds are live.
  (gc as (options: { type: 'minor' }) => void)({ type: 'minor' });
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

describe('many uploads at once: per customer, per process, and given back on every path @db', function () {
  this.timeout(300_000);
  let test: TestHost;
  const customers: { email: string; cookie: string; ticket: number }[] = [];
  let jane: PortalClient;
  let giulia: PortalClient;
  const faults: string[] = [];

  before(async () => {
    test = await startApiHost();
    for (const email of [JANE, TOM, GIULIA, MARIO]) {
      const cookie = await portalLogin(test, email);
      const list = (await (await fetch(`${test.url}${API}/modules/HelpDesk/records`, { headers: { cookie } })).json()) as { rows: { id: number }[] };
      customers.push({ email, cookie, ticket: list.rows[0]!.id });
    }
    jane = await pageClient(test, JANE);
    // Her contact's language is Italian: the pages speak it once she has signed in.
    giulia = await pageClient(test, GIULIA);
    const logger = test.host.api.logger;
    const error = logger.error.bind(logger);
    logger.error = (message, fields) => {
      faults.push(`${message} ${String(fields?.error)}`);
      error(message, fields);
    };
  });
  after(async () => {
    await test?.stop();
  });

  const documents = () => test.host.api.records.count('Documents');
  const storedFiles = () => {
    try {
      return readdirSync(join(test.host.options.dataDir, 'files')).length;
    } catch {
      return 0;
    }
  };
  const apiUpload = (customer: (typeof customers)[number]) =>
    startUpload(test.url, `${API}/modules/HelpDesk/records/${customer.ticket}/documents`, `Cookie: ${customer.cookie}\r\nX-Requested-With: business-portal\r\n`);

  /**
   * `counts[i]` uploads of customer i at once, held after their first slice until every refusal is
   * back; then the rest of every body, the refused ones' too (as a client that ignores the 429).
   */
  async function burst(counts: readonly number[]): Promise<{ early: number[]; accepted: RawAnswer[]; refused: RawAnswer[]; perCustomer: number[]; growth: number }> {
    const eligible = counts.reduce((sum, n) => sum + Math.min(n, UPLOADS_PER_CUSTOMER), 0);
    const bodyLength = multipartHead({}, 'report.txt').length + FILE + TAIL.length;
    const expectedAccepted = Math.min(eligible, Math.floor(UPLOAD_BYTES_AT_ONCE / bodyLength));
    const total = counts.reduce((sum, n) => sum + n, 0);
    const baseline = liveBytes();
    let peak = baseline;
    const sendings = (await Promise.all(counts.map((n, i) => Promise.all(Array.from({ length: n }, () => apiUpload(customers[i]!)))))).map((list, i) => list.map((s) => ({ s, i })));
    const all = sendings.flat();
    await until(() => all.filter(({ s }) => s.answered).length >= total - expectedAccepted);
    await sleep(300);
    const early = all.filter(({ s }) => s.answered).map(({ s }) => s.answered!.status);
    const sampler = setInterval(() => (peak = Math.max(peak, liveBytes())), 50);
    try {
      for (const { s } of all) s.rest();
      const answers = await Promise.all(all.map(({ s }) => s.answer));
      peak = Math.max(peak, liveBytes());
      const accepted = answers.filter((a) => a.status !== 429);
      const perCustomer = counts.map((_, i) => all.filter(({ s, i: c }) => c === i && s.answered!.status !== 429).length);
      return { early, accepted, refused: answers.filter((a) => a.status === 429), perCustomer, growth: peak - baseline };
    } finally {
      clearInterval(sampler);
      for (const { s } of all) s.abort();
    }
  }

  function expectTooMany(answer: RawAnswer): string {
    expect(answer.status).to.equal(429);
    expect(answer.headers['retry-after']).to.equal(String(UPLOAD_RETRY_AFTER));
    const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('too_many_uploads');
    return body.error.message;
  }

  it('takes two files of each customer and 64 MiB for the process; refuses the rest at once, stores none of them, and holds only what it took', async () => {
    const beforeDocuments = await documents();
    const beforeFiles = storedFiles();
    // 30 uploads of 9 MiB (270 MiB sent): 8 + 8 + 7 + 7.
    const { early, accepted, refused, perCustomer, growth } = await burst([8, 8, 7, 7]);
    // The seven it took (63 MiB, counted up to twice: read, then joined into one buffer), not the 270 MiB sent.
    expect(growth / MiB, 'live memory growth in MiB').to.be.below((2 * UPLOAD_BYTES_AT_ONCE) / MiB + 16);
    expect(early, 'answered before their body was sent').to.deep.equal(Array(23).fill(429));
    expect(accepted.map((a) => a.status)).to.deep.equal(Array(7).fill(201));
    expect(refused).to.have.length(23);
    const messages = refused.map(expectTooMany);
    // Two for each customer, but the 64 MiB held one back from whoever came last: the rest of that
    // customer's files are refused for the process, everyone else's for the customer.
    expect([...perCustomer].sort()).to.deep.equal([1, 2, 2, 2]);
    const last = perCustomer.indexOf(1);
    const busy = [8, 8, 7, 7][last]! - 1;
    expect(messages.filter((m) => m === `You are already sending ${UPLOADS_PER_CUSTOMER} files. Send this one again when one of them is done (see Retry-After).`)).to.have.length(23 - busy);
    expect(messages.filter((m) => m === 'The portal is receiving many files right now. Send this one again in a moment (see Retry-After).')).to.have.length(busy);
    expect(await documents()).to.equal(beforeDocuments + 7);
    expect(storedFiles()).to.equal(beforeFiles + 7);
    expect(faults, 'no upload failed for want of memory or of the database').to.deep.equal([]);
  });

  it('refuses a third file of one customer on the record page too: the page in their language, 429, nothing stored', async () => {
    const customer = customers[2]!;
    const { html } = await giulia.get(`/m/HelpDesk/${customer.ticket}`);
    const token = tokenIn(html);
    const path = `/portal/m/HelpDesk/${customer.ticket}/documents`;
    const headers = `Cookie: ${giulia.cookieHeader()}\r\n`;
    const beforeDocuments = await documents();
    // A page upload and an API upload of the same customer take both of her slots.
    const first = await startUpload(test.url, path, headers, { _csrf: token });
    const second = await apiUpload(customer);
    await sleep(300);
    const third = await startUpload(test.url, path, headers, { _csrf: token });
    try {
      const refused = await third.answer;
      expect(refused.status).to.equal(429);
      expect(refused.headers['retry-after']).to.equal(String(UPLOAD_RETRY_AFTER));
      expect(refused.headers['content-type']).to.match(/^text\/html/);
      expect(refused.body).to.include('<html lang="it"');
      expect(refused.body).to.include('Stai già inviando 2 file: questo non è stato ricevuto. Attendi che uno di essi sia completato, poi invialo di nuovo.');
      expect(refused.body, 'the record page, with its upload form').to.include('id="bp-documents"');
      expect(first.answered, 'the first two still wait for their bytes').to.equal(null);
      expect(second.answered).to.equal(null);
      first.rest();
      second.rest();
      expect((await first.answer).status).to.equal(303);
      expect((await second.answer).status).to.equal(201);
      expect(await documents()).to.equal(beforeDocuments + 2);
      expect(faults).to.deep.equal([]);
    } finally {
      for (const sending of [first, second, third]) sending.abort();
    }
  });

  it('gives the slots back on every path: refused, cut off, failed, no CSRF token — and takes the next uploads again', async () => {
    const customer = customers[0]!;
    const path = `/modules/HelpDesk/records/${customer.ticket}/documents`;
    const form = (name: string, content: string | Buffer, type = 'text/plain') => {
      const body = new FormData();
      body.set('file', new Blob([content], { type }), name);
      return body;
    };
    const post = async (body: FormData | string, contentType?: string) =>
      (
        await fetch(`${test.url}${API}${path}`, {
          method: 'POST',
          headers: { cookie: customer.cookie, 'x-requested-with': 'business-portal', ...(contentType ? { 'content-type': contentType } : {}) },
          body,
        })
      ).status;
    const beforeDocuments = await documents();
    // Each path three times: one slot it kept would leave the customer none by the third.
    for (let i = 0; i < 3; i += 1) {
      expect(await post(form('page.html', '<html></html>', 'text/html')), 'a type not allowed').to.equal(422);
      expect(await post(form('big.txt', Buffer.alloc(10 * MiB + 1, 0x61))), 'too large').to.equal(413);
      expect(await post(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\n\r\nbroken`, `multipart/form-data; boundary=${BOUNDARY}`), 'malformed').to.equal(400);
      // Cut off half-way by the client, on the API and on the page.
      const cut = await apiUpload(customer);
      await sleep(100);
      cut.abort();
      const page = await startUpload(test.url, `/portal/m/HelpDesk/${customer.ticket}/documents`, `Cookie: ${jane.cookieHeader()}\r\n`, { _csrf: tokenIn((await jane.get(`/m/HelpDesk/${customer.ticket}`)).html) });
      await sleep(100);
      page.abort();
      // A page upload without the CSRF token: read, refused (403), stored nowhere.
      const noToken = await startUpload(test.url, `/portal/m/HelpDesk/${customer.ticket}/documents`, `Cookie: ${jane.cookieHeader()}\r\n`);
      noToken.rest();
      expect((await noToken.answer).status).to.equal(403);
      noToken.abort();
      await sleep(100);
    }
    // The host's file store refuses the write (its folder is not one): a 503 (storage-outage.test.ts), and the slot back.
    const files = join(test.host.options.dataDir, 'files');
    renameSync(files, `${files}.kept`);
    writeFileSync(files, 'not a folder');
    try {
      for (let i = 0; i < 3; i += 1) expect(await post(form('fault.txt', 'fault')), 'a failing store').to.equal(503);
    } finally {
      rmSync(files);
      renameSync(`${files}.kept`, files);
      mkdirSync(files, { recursive: true });
    }
    expect(await documents()).to.equal(beforeDocuments);

    // Everything given back: the same burst as before is taken the same way.
    const again = await burst([3, 3, 3, 3]);
    expect(again.early).to.deep.equal(Array(5).fill(429));
    expect(again.accepted.map((a) => a.status)).to.deep.equal(Array(7).fill(201));
    expect(again.refused).to.have.length(5);
    for (const answer of again.refused) expectTooMany(answer);
    expect([...again.perCustomer].sort()).to.deep.equal([1, 2, 2, 2]);
    expect(await documents()).to.equal(beforeDocuments + 7);
  });
});
