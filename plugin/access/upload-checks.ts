/**
 * What a customer may upload, checked before the file reaches the host: a size limit, an
 * allow-list of types (by extension and declared type), and the content itself — the bytes
 * must be what the name says (magic numbers through `file-type`; plain text in one of the
 * encodings of `textOf`). HTML, SVG and scripts are never accepted, in whatever encoding. Stored
 * names are the host's (a generated key); downloads are always served as attachments with `nosniff`.
 */
import { isUtf8 } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import { pipeline, Readable, Transform } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { longerThan } from './field-input.js';

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const MAX_FILE_NAME = 200;

/** Extension → the one content type stored for it; `text` ones have no magic number. */
export const ALLOWED_UPLOADS: Readonly<Record<string, { readonly mime: string; readonly text?: boolean }>> = {
  pdf: { mime: 'application/pdf' },
  png: { mime: 'image/png' },
  jpg: { mime: 'image/jpeg' },
  jpeg: { mime: 'image/jpeg' },
  gif: { mime: 'image/gif' },
  webp: { mime: 'image/webp' },
  zip: { mime: 'application/zip' },
  docx: { mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
  xlsx: { mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  odt: { mime: 'application/vnd.oasis.opendocument.text' },
  ods: { mime: 'application/vnd.oasis.opendocument.spreadsheet' },
  txt: { mime: 'text/plain', text: true },
  csv: { mime: 'text/csv', text: true },
  log: { mime: 'text/plain', text: true },
};

export type UploadProblem = 'empty' | 'too-large' | 'type-not-allowed' | 'content-mismatch' | 'bad-name';

export type UploadCheck = { readonly ok: true; readonly fileName: string; readonly mimeType: string } | { readonly ok: false; readonly problem: UploadProblem };

/** The name as the customer will see it again: no path, no control characters, bounded. */
export function safeFileName(original: string): string | null {
  const base = original.split(/[\\/]/).pop() ?? '';
  // Control characters, the characters Windows refuses, and the invisible direction marks,
  // embeddings, overrides and isolates (Unicode's Bidi_Control: U+061C, U+200E/F, U+202A–E,
  // U+2066–9) that make "inv\u202Efdp.txt" read as "invtxt.pdf".
  const cleaned = base.normalize('NFC').replace(/[\p{Cc}\p{Bidi_Control}"<>|:*?]/gu, '').replace(/\s+/g, ' ').trim();
  // Dots (and spaces) alone, or before the extension only (`...`, `..pdf`, `. .txt`), name no file:
  // the host keeps no leading dot, and stored "...txt" as "txt". Characters that show nothing
  // (Unicode's format characters: zero-width spaces, a soft hyphen, a BOM) count as spaces here, so
  // that "\u200B\u200B.txt", which every list shows as ".txt", is no name either.
  if (/^[.\s\p{Cf}]*(\.[^.]*)?$/u.test(cleaned) || longerThan(cleaned, MAX_FILE_NAME)) return null;
  // As the host stores it: no leading dot (`.profile.txt` is `profile.txt`), nor an unseen character before one.
  return cleaned.replace(/^[.\s\p{Cf}]+/u, '');
}

function extensionOf(name: string): string {
  const at = name.lastIndexOf('.');
  return at > 0 ? name.slice(at + 1).toLowerCase() : '';
}

/** ZIP containers: Office and OpenDocument files are ZIPs, `file-type` may report either. */
const ZIP_FAMILY = new Set(['application/zip', ALLOWED_UPLOADS.docx!.mime, ALLOWED_UPLOADS.xlsx!.mime, ALLOWED_UPLOADS.odt!.mime, ALLOWED_UPLOADS.ods!.mime]);

/** What `file-type` reports that is a kind of an allowed type: an animated PNG is a PNG (its extra chunks are skipped by viewers without APNG). */
const KIND_OF: Readonly<Record<string, string>> = { 'image/apng': 'image/png' };

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Whether `start` begins with a UTF-16 BOM: FF FE (little-endian) or FE FF (big-endian). */
function utf16Order(start: Buffer): 'utf-16le' | 'utf-16be' | null {
  if (start[0] === 0xff && start[1] === 0xfe) return 'utf-16le';
  if (start[0] === 0xfe && start[1] === 0xff) return 'utf-16be';
  return null;
}

/** A control character that is no part of text: any but tab, line feed, form feed and carriage return. */
const BINARY_CONTROL = /[^\P{Cc}\t\n\f\r]/u;

/**
 * A byte that is no part of single-byte text, read as ISO-8859-1: a control (but tab, line feed,
 * form feed and carriage return), DEL, or one of the five bytes Windows-1252 leaves undefined.
 * (By the byte: Node's `TextDecoder('windows-1252')` reads 0x80–0x9F as C1 controls, "€" too.)
 */
const BINARY_BYTE = /[\x00-\x08\x0b\x0e-\x1f\x7f\x81\x8d\x8f\x90\x9d]/;

/**
 * The text of a `.txt`, `.csv` or `.log` file (its start, where a whole is not needed), or null
 * when its bytes are no text:
 * - UTF-16 LE or BE with its BOM (Notepad's "Unicode"), decoded whole without a fault;
 * - UTF-8, with or without its BOM, all through (a check of the first 64 KiB alone refused a good
 *   file whose letter of two or more bytes straddled their end, and took one whose wrong bytes
 *   came later), without NUL bytes;
 * - otherwise single-byte text as Excel and Notepad save it on an Italian or Western Windows
 *   ("ANSI": Windows-1252, whose letters are ISO-8859-1's and more) — unless it starts with a
 *   UTF-8 BOM, which promises UTF-8. Every byte is a letter of some single-byte code, so what
 *   tells such text from a binary is that it has no control bytes.
 * UTF-16 and single-byte text may hold no control characters but tab, line feed, form feed and
 * carriage return: executables, images, PDFs and archives renamed `.txt` are full of them. Valid
 * UTF-8 is text already (binaries are not), and keeps what it was let hold before (a log's escape codes).
 */
function textOf(content: Buffer): string | null {
  const start = content.subarray(0, 64 * 1024);
  const utf16 = utf16Order(content);
  if (utf16) {
    let text: string;
    try {
      // Whole: an odd byte at the end, or half a surrogate pair, is no UTF-16.
      text = new TextDecoder(utf16, { fatal: true }).decode(content);
    } catch {
      return null;
    }
    return BINARY_CONTROL.test(text) ? null : text;
  }
  if (isUtf8(content)) {
    if (content.includes(0)) return null;
    // A letter cut at the end of the part read is held back, not misread; the BOM is left off.
    return new TextDecoder('utf-8').decode(start, { stream: true });
  }
  const bytes = content.toString('latin1');
  if (start.subarray(0, 3).equals(UTF8_BOM) || BINARY_BYTE.test(bytes)) return null;
  // Markup is ASCII, read alike by ISO-8859-1 and Windows-1252.
  return bytes;
}

export async function checkUpload(originalName: string, content: Buffer): Promise<UploadCheck> {
  const fileName = safeFileName(originalName);
  if (!fileName) return { ok: false, problem: 'bad-name' };
  if (content.length === 0) return { ok: false, problem: 'empty' };
  if (content.length > MAX_UPLOAD_BYTES) return { ok: false, problem: 'too-large' };
  // An own entry only: `.constructor` or `.toString` is no type of the list, not one whose content is wrong.
  const extension = extensionOf(fileName);
  const allowed = Object.hasOwn(ALLOWED_UPLOADS, extension) ? ALLOWED_UPLOADS[extension] : undefined;
  if (!allowed) return { ok: false, problem: 'type-not-allowed' };
  if (allowed.text) {
    // Markup comes at the start, whatever the encoding (a UTF-16 `<html>` is still HTML).
    const text = textOf(content);
    if (text === null || /^\s*<(!doctype|html|script|svg|\?xml)/i.test(text)) return { ok: false, problem: 'content-mismatch' };
    return { ok: true, fileName, mimeType: allowed.mime };
  }
  const detected = await fileTypeFromBuffer(content);
  if (!detected) return { ok: false, problem: 'content-mismatch' };
  const mime = KIND_OF[detected.mime] ?? detected.mime;
  const matches = mime === allowed.mime || (ZIP_FAMILY.has(allowed.mime) && ZIP_FAMILY.has(mime));
  return matches ? { ok: true, fileName, mimeType: allowed.mime } : { ok: false, problem: 'content-mismatch' };
}

/**
 * A name as RFC 5987's `filename*` carries it: `encodeURIComponent` leaves `'`, `(`, `)` and `*`
 * as they are, which the RFC does not allow there, and browsers then fall back to the ASCII name.
 */
function extendedName(fileName: string): string {
  return encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `Content-Disposition` of a download named `fileName`: in ASCII, and whole in RFC 5987's `filename*`. */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${extendedName(fileName)}`;
}

/** The headers of every download: an attachment, never rendered by the browser; a text file's `charset` where `textDownload` could tell it. */
export function downloadHeaders(fileName: string, mimeType: string, size: number, charset?: string): Record<string, string> {
  const known = Object.values(ALLOWED_UPLOADS).find((a) => a.mime === mimeType);
  return {
    'Content-Type': !known ? 'application/octet-stream' : known.text && charset ? `${mimeType}; charset=${charset}` : mimeType,
    'Content-Length': String(size),
    'Content-Disposition': attachmentDisposition(fileName),
    'X-Content-Type-Options': 'nosniff',
    // The portal's CSP directives every response carries (SECURITY.md), plus a sandbox.
    'Content-Security-Policy': "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; sandbox",
    'Cache-Control': 'no-store',
  };
}

/** How far into a text file a download reads before its headers, to tell its charset, and keeps to send. */
const CHARSET_BYTES = 64 * 1024;

/**
 * The charset of a text file that starts with `start` and is `size` bytes long as far as its start
 * tells it, or undefined when only the rest can: a BOM tells UTF-16 (LE or BE) or UTF-8; bytes that
 * are not UTF-8 tell Windows-1252 (`textOf` took them as that); a whole file of good UTF-8 (ASCII
 * alone too) tells UTF-8. Good UTF-8 before more bytes tells nothing: what comes later may be
 * Windows-1252, and then `textOf` took the whole file as that.
 */
function charsetOf(start: Buffer, size: number): string | undefined {
  // The order by name: a WHATWG decoder (`fetch`, `TextDecoder`) reads "utf-16" as little-endian
  // whatever the BOM says, and drops a BOM of the order named.
  const utf16 = utf16Order(start);
  if (utf16) return utf16;
  if (start.subarray(0, 3).equals(UTF8_BOM)) return 'utf-8';
  // A letter cut at the end of the bytes read is no fault, unless they are the whole file.
  const letters = utf8Prefix(start);
  if (!isUtf8(start.subarray(0, letters))) return 'windows-1252';
  if (start.length < size) return undefined;
  return letters === start.length ? 'utf-8' : 'windows-1252';
}

/** How many bytes of `bytes` end with a whole UTF-8 letter: a letter cut at the end (at most 3 bytes of it) is left off. */
function utf8Prefix(bytes: Buffer): number {
  for (let at = bytes.length - 1; at >= Math.max(0, bytes.length - 4); at--) {
    const byte = bytes[at]!;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return at + length > bytes.length ? at : bytes.length;
  }
  return bytes.length;
}

/**
 * The charset of a text file of `size` bytes whose start did not tell it (`charsetOf`), read through
 * `file` a chunk at a time, nothing kept but a cut letter's bytes: Windows-1252 at the first byte
 * that is no UTF-8, UTF-8 when all of it is (as `textOf` took it at upload). A file longer than its
 * `size` is left undefined: its download fails on the size (`sendFile`). So is one whose client has
 * gone (`res` closed): the read stops at the next chunk rather than read megabytes for no one. The
 * file is closed however it ends.
 */
async function charsetThroughout(file: Readable, size: number, res: ServerResponse): Promise<string | undefined> {
  let cut = Buffer.alloc(0);
  let read = 0;
  try {
    for await (const chunk of file as AsyncIterable<Buffer>) {
      if (res.destroyed) return undefined;
      read += chunk.length;
      if (read > size) return undefined;
      const bytes = cut.length > 0 ? Buffer.concat([cut, chunk]) : chunk;
      const whole = utf8Prefix(bytes);
      if (!isUtf8(bytes.subarray(0, whole))) return 'windows-1252';
      cut = Buffer.from(bytes.subarray(whole));
    }
  } finally {
    file.destroy();
  }
  return cut.length > 0 ? 'windows-1252' : 'utf-8';
}

/**
 * A download of a stored file of type `mimeType`: for a text type, its first 64 KiB are read
 * before the headers to tell its charset (`charsetOf`), and `stream` sends them and then the
 * rest of `file`; other types pass as they are. When the start does not tell (good UTF-8, ASCII
 * alone too, with more to come), the file is opened again (`reopen`) and read through to its end
 * or its first byte that is no UTF-8 (`charsetThroughout`) while `file` waits: the label is the one
 * every byte gives, as at upload, and memory stays one chunk (README, "Text downloads"). Only a file
 * a customer could upload (`MAX_UPLOAD_BYTES`) is read through; a longer one, the CRM's own, is
 * labelled by its start alone, so that a HEAD of it does not read megabytes it then throws away
 * (Express then names its default, UTF-8, for a text type). Nor is one whose client has gone
 * (`res`, the download's answer, closed): `sendFile` then lets it go. The files are closed when
 * `stream` is, however it ends.
 */
export async function textDownload(file: Readable, mimeType: string, size: number, reopen: () => Promise<Readable>, res: ServerResponse): Promise<{ readonly stream: Readable; readonly charset?: string }> {
  if (!Object.values(ALLOWED_UPLOADS).some((a) => a.text && a.mime === mimeType) || size === 0) return { stream: file };
  const chunks: Buffer[] = [];
  let read = 0;
  let ended = false;
  const bytes = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let start = Buffer.alloc(0);
  let charset: string | undefined;
  try {
    while (read < Math.min(CHARSET_BYTES, size)) {
      const next = await bytes.next();
      if (next.done) {
        ended = true;
        break;
      }
      chunks.push(next.value);
      read += next.value.length;
    }
    start = Buffer.concat(chunks);
    charset = charsetOf(start, size);
    if (charset === undefined && !ended && size <= MAX_UPLOAD_BYTES && !res.destroyed) charset = await charsetThroughout(await reopen(), size, res);
  } catch (error) {
    file.destroy();
    throw error;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (start.length > 0) yield start;
    if (ended) return;
    for (let next = await bytes.next(); !next.done; next = await bytes.next()) yield next.value;
  }
  const stream = Readable.from(rest(), { objectMode: false });
  stream.once('close', () => file.destroy());
  return charset ? { stream, charset } : { stream };
}

/** A stored file whose bytes are not the size its record gives (the download's `Content-Length`). */
export class FileSizeMismatchError extends Error {
  constructor(expected: number, longer: boolean) {
    super(`Business Portal: a stored file is ${longer ? 'longer' : 'shorter'} than the ${expected} bytes its document records`);
    this.name = 'FileSizeMismatchError';
  }
}

/**
 * Passes on at most `size` bytes and fails when the file is longer or shorter than that. Node
 * writes whatever it is given past a `Content-Length`, and a client (or a proxy in front) reads
 * those bytes as the answer to its next request; a file shorter than announced left the client
 * waiting for the rest.
 */
function exactly(size: number): Transform {
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      if (sent > size) callback(new FileSizeMismatchError(size, true));
      else callback(null, chunk);
    },
    flush(callback) {
      callback(sent < size ? new FileSizeMismatchError(size, false) : null);
    },
  });
}

/**
 * Sends a stored file as the body of a download whose `Content-Length` is `size` (the headers of
 * a `HEAD`, without opening the file's bytes). The file is
 * closed however the response ends: a client that leaves half-way (or before the first byte) is
 * let go quietly, and the file with it (`pipe` would keep it open for good, one descriptor per abandoned download). Rejects
 * when the file cannot be read or is not `size` bytes long: the caller's error handler then cuts
 * the answer off, so the client sees it incomplete, and logs it.
 */
export function sendFile(file: Readable, res: ServerResponse, size: number): Promise<void> {
  // A HEAD has its headers already: the file is not read (it was read whole, to be thrown away).
  if (res.req.method === 'HEAD') {
    file.destroy();
    res.end();
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    pipeline(file, exactly(size), res, (error) => {
      if (!error || (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
        // A client gone before the first byte: the answer is ended all the same (a no-op on the
        // closed connection), or the host counts the request as in flight for good and a shutdown
        // waits its whole grace for it.
        if (!res.writableEnded) res.end();
        resolve();
      } else reject(error);
    });
  });
}
