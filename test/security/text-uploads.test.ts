/**
 * Text files as customers' programs save them, through the record page's upload form and the API:
 * Excel's Italian CSV (Windows-1252, "è" and "€"), Notepad's "Unicode" text (UTF-16 LE with its
 * BOM, NUL bytes and all) and UTF-16 BE are taken, stored byte for byte and downloaded labelled
 * with their charset; binaries renamed .txt/.csv (an ELF and a PE header, a PNG, a PDF with binary
 * bytes) and markup in any of those encodings (a UTF-16 `<html>`) are refused, and nothing stored.
 */
import { crc32, deflateSync } from 'node:zlib';
import { expect } from 'chai';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { expectSecurityHeaders } from '../support/expectations.js';
import type { TestHost } from '../support/host.js';
import { API, idsWhere, JANE, signedIn as apiSignedIn, startApiHost, type ApiClient } from '../portal-api/api-test-kit.js';
import { signedIn as pageSignedIn, upload } from '../portal-pages/portal-pages-kit.js';

/** The letters Windows-1252 writes in 0x80–0x9F that the tests use; the rest are Latin-1's own byte. */
const CP1252_HIGH: Readonly<Record<string, number>> = { '€': 0x80, '’': 0x92 };

function cp1252(text: string): Buffer {
  return Buffer.from([...text].map((c) => CP1252_HIGH[c] ?? (c.charCodeAt(0) <= 0xff ? c.charCodeAt(0) : Number.NaN)));
}

/** Windows-1252 read back (Node's `TextDecoder('windows-1252')` reads 0x80–0x9F as Latin-1's controls). */
function fromCp1252(bytes: Buffer): string {
  const high = new Map(Object.entries(CP1252_HIGH).map(([c, b]) => [b, c]));
  return [...bytes].map((b) => high.get(b) ?? String.fromCharCode(b)).join('');
}

function utf16le(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

function utf16be(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
}

/** A PNG of one grey pixel, as a camera app or a screenshot tool writes it. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])),
    chunk('IDAT', deflateSync(Buffer.from([0, 0x80]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The start of a 64-bit Linux executable: the ELF header, then program text. */
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(8), Buffer.from([0x02, 0x00, 0x3e, 0x00, 0x01, 0x00, 0x00, 0x00]), Buffer.from('text after the header')]);
/** The start of a Windows executable: "MZ", the DOS header and its stub. */
const PE = Buffer.concat([Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff]), Buffer.from('This program cannot be run in DOS mode.\r\r\n$')]);
/** A PDF as writers save it: a comment of high bytes, then a compressed stream (bytes of every kind). */
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), Buffer.from('\n1 0 obj\n<< /Length 12 /Filter /FlateDecode >>\nstream\n'), deflateSync(Buffer.from('BT /F1 12 Tf (Caffè) Tj ET')), Buffer.from('\nendstream\nendobj\n%%EOF\n')]);

const CSV = 'Prodotto;Prezzo;Note\r\nCaffè;1,50 €;l’espresso\r\nTè verde;2,00 €;\r\n';
const NOTES = 'Riunione del 3 dicembre: perché il controller si riavvia? Costo 1.200 €\r\n';

const ACCEPTED: readonly { readonly what: string; readonly name: string; readonly content: Buffer; readonly contentType: string }[] = [
  { what: 'Excel CSV (Windows-1252)', name: 'listino.csv', content: cp1252(CSV), contentType: 'text/csv; charset=windows-1252' },
  { what: 'Notepad "Unicode" text (UTF-16 LE with BOM)', name: 'appunti.txt', content: utf16le(NOTES), contentType: 'text/plain; charset=utf-16le' },
  { what: 'UTF-16 BE text with BOM', name: 'appunti-be.log', content: utf16be(NOTES), contentType: 'text/plain; charset=utf-16be' },
  { what: 'UTF-8 with BOM', name: 'listino-utf8.csv', content: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV, 'utf8')]), contentType: 'text/csv; charset=utf-8' },
  { what: 'UTF-8 without BOM', name: 'listino-plain.csv', content: Buffer.from(CSV, 'utf8'), contentType: 'text/csv; charset=utf-8' },
];

const REFUSED: readonly { readonly what: string; readonly name: string; readonly content: Buffer }[] = [
  { what: 'an ELF executable renamed .txt', name: 'readme.txt', content: ELF },
  { what: 'a PE executable renamed .txt', name: 'setup.txt', content: PE },
  { what: 'a PNG renamed .csv', name: 'dati.csv', content: png() },
  { what: 'a PDF renamed .log', name: 'trace.log', content: PDF },
  { what: 'HTML in UTF-16 LE', name: 'page.txt', content: utf16le('<html><script>alert(1)</script></html>') },
  { what: 'SVG in UTF-16 BE', name: 'logo.txt', content: utf16be('  <svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>') },
  { what: 'HTML in Windows-1252', name: 'prezzi.csv', content: cp1252('<!DOCTYPE html><p>Caffè 1,50 €</p>') },
  { what: 'HTML after a UTF-8 BOM', name: 'bom.txt', content: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<script>alert(1)</script>')]) },
  { what: 'UTF-16 without its BOM (NUL bytes)', name: 'nobom.txt', content: Buffer.from('plain words', 'utf16le') },
  { what: 'a UTF-16 text of an odd number of bytes', name: 'odd.txt', content: Buffer.concat([utf16le('half'), Buffer.from([0x41])]) },
  { what: 'single-byte text with a DEL control byte', name: 'del.txt', content: cp1252('Caffè\x7f') },
];

describe('text uploads in the encodings customers save them in @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let api: ApiClient;
  let page: PortalClient;
  let ticket: number;

  before(async () => {
    t = await startApiHost();
    api = await apiSignedIn(t, JANE);
    page = await pageSignedIn(t, JANE);
    ticket = (await idsWhere(t.host.api, 'HelpDesk', 'ticket_title', 'Line 2 controller reboots every night'))[0]!;
  });
  after(async () => t?.stop());

  const documentCount = async () => t.host.api.records.count('Documents');

  /** Uploads through the API; the path of its download, or the refusal's status and message. */
  async function viaApi(name: string, content: Buffer): Promise<{ status: number; download?: string; message?: string }> {
    const res = await api.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name, content, type: 'application/octet-stream' });
    return res.status === 201 ? { status: res.status, download: `${API}${res.body.contentPath}` } : { status: res.status, message: res.body.error?.message };
  }

  /** Uploads through the record page's form; the path of its download (the page's link), or the refusal. */
  async function viaPage(name: string, content: Buffer): Promise<{ status: number; download?: string; message?: string }> {
    const form = await page.get(`/m/HelpDesk/${ticket}`);
    const sent = await upload(`${t.url}/portal`, page, `/m/HelpDesk/${ticket}/documents`, tokenIn(form.html), name, content, 'application/octet-stream');
    if (sent.response.status !== 303) return { status: sent.response.status, message: /does not match its type/.exec(sent.html)?.[0] ?? sent.html.slice(0, 200) };
    const after = await page.get(`/m/HelpDesk/${ticket}`);
    const escaped = name.replace(/[.]/g, '\\.');
    const href = new RegExp(`href="(/portal/m/HelpDesk/\\d+/documents/\\d+)"[^>]*download>${escaped}<`).exec(after.html)?.[1];
    return { status: 303, download: href };
  }

  for (const [where, send] of [
    ['API', viaApi],
    ['page', viaPage],
  ] as const) {
    it(`takes Windows-1252, UTF-16 LE/BE and UTF-8 text, keeps its bytes and labels its download with the charset (${where})`, async () => {
      for (const file of ACCEPTED) {
        const before = await documentCount();
        const sent = await send(`${where}-${file.name}`, file.content);
        expect(sent.status, `${file.what}: ${sent.message}`).to.equal(where === 'API' ? 201 : 303);
        expect(await documentCount(), file.what).to.equal(before + 1);
        expect(sent.download, `${file.what}: its download link`).to.be.a('string');
        const download = await fetch(`${t.url}${sent.download}`, { headers: { cookie: where === 'API' ? api.cookie : page.cookieHeader() } });
        expect(download.status, file.what).to.equal(200);
        expect(download.headers.get('content-type'), file.what).to.equal(file.contentType);
        expect(download.headers.get('content-disposition'), file.what).to.match(new RegExp(`^attachment; filename="${where}-${file.name.replace('.', '\\.')}"`));
        expectSecurityHeaders(download, `${file.what} download`, ['sandbox']);
        const bytes = Buffer.from(await download.arrayBuffer());
        expect(bytes.equals(file.content), `${file.what}: the bytes as they came`).to.equal(true);
        // What a reader of the label makes of them is the text the customer wrote.
        const charset = /charset=([\w-]+)/.exec(file.contentType)![1]!;
        expect(charset === 'windows-1252' ? fromCp1252(bytes) : new TextDecoder(charset).decode(bytes), file.what).to.equal(file.what.startsWith('Excel') || file.what.startsWith('UTF-8') ? CSV : NOTES);
        // A HEAD gives the GET's type.
        const head = await fetch(`${t.url}${sent.download}`, { method: 'HEAD', headers: { cookie: where === 'API' ? api.cookie : page.cookieHeader() } });
        expect(head.headers.get('content-type'), `${file.what} HEAD`).to.equal(file.contentType);
      }
    });

    it(`labels a long text by all of its bytes, not its first 64 KiB: ASCII, then Windows-1252 or UTF-8 letters (${where})`, async () => {
      // 70 KiB of plain ASCII rows, as an export's header and first rows are, then the rows with letters.
      const ascii = 'Riga;Codice;Quantita\r\n'.repeat(Math.ceil((70 * 1024) / 22));
      const LATER = 'Caffè;1,50 €;l’espresso\r\n';
      const files = [
        { what: 'ASCII for 70 KiB, then Windows-1252', name: 'lungo.csv', content: cp1252(ascii + LATER), contentType: 'text/csv; charset=windows-1252' },
        { what: 'ASCII for 70 KiB, then UTF-8', name: 'lungo-utf8.csv', content: Buffer.from(ascii + LATER, 'utf8'), contentType: 'text/csv; charset=utf-8' },
        // Good UTF-8 letters first do not make it UTF-8: a later Windows-1252 byte made the upload take it as that (`textOf`).
        { what: 'UTF-8 letters at the start, a Windows-1252 byte after 70 KiB', name: 'misto.txt', content: Buffer.concat([Buffer.from(`Caffè\r\n${ascii}`, 'utf8'), cp1252(LATER)]), contentType: 'text/plain; charset=windows-1252' },
        { what: 'ASCII for 70 KiB only', name: 'ascii.log', content: Buffer.from(ascii), contentType: 'text/plain; charset=utf-8' },
        // Letters cut by the 64 KiB read before the headers, and by the 64 KiB chunks read after it, are letters still.
        { what: 'UTF-8 letters across 64 and 128 KiB', name: 'tagli.txt', content: Buffer.from(`${'a'.repeat(64 * 1024 - 1)}è${'b'.repeat(64 * 1024 - 3)}€\r\n${ascii}`, 'utf8'), contentType: 'text/plain; charset=utf-8' },
        { what: 'ASCII for 70 KiB, then the first byte of a UTF-8 letter at the end', name: 'coda.txt', content: Buffer.concat([Buffer.from(ascii), Buffer.from([0xc3])]), contentType: 'text/plain; charset=windows-1252' },
      ];
      const cookie = where === 'API' ? api.cookie : page.cookieHeader();
      for (const file of files) {
        const sent = await send(`${where}-${file.name}`, file.content);
        expect(sent.status, `${file.what}: ${sent.message}`).to.equal(where === 'API' ? 201 : 303);
        const download = await fetch(`${t.url}${sent.download}`, { headers: { cookie } });
        expect(download.status, file.what).to.equal(200);
        expect(download.headers.get('content-type'), file.what).to.equal(file.contentType);
        expect(Buffer.from(await download.arrayBuffer()).equals(file.content), `${file.what}: the bytes as they came`).to.equal(true);
        const head = await fetch(`${t.url}${sent.download}`, { method: 'HEAD', headers: { cookie } });
        expect(head.status, `${file.what} HEAD`).to.equal(200);
        for (const header of ['content-type', 'content-length', 'content-disposition']) expect(head.headers.get(header), `${file.what} HEAD ${header}`).to.equal(download.headers.get(header));
      }
    });

    it(`refuses binaries renamed .txt/.csv/.log and markup in any text encoding, and stores nothing (${where})`, async () => {
      const before = await documentCount();
      for (const file of REFUSED) {
        const sent = await send(file.name, file.content);
        expect(sent.status, `${file.what}: ${sent.download}`).to.equal(422);
        expect(sent.message, file.what).to.match(/does not match its type/);
      }
      expect(await documentCount()).to.equal(before);
    });
  }
});
