/**
 * What a customer may upload, checked before the file reaches the host: a size limit, an
 * allow-list of types (by extension and declared type), and the content itself — the bytes
 * must be what the name says (magic numbers through `file-type`; plain text must be UTF-8
 * without NUL bytes). HTML, SVG and scripts are never accepted. Stored names are the host's
 * (a generated key); downloads are always served as attachments with `nosniff`.
 */
import { isUtf8 } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
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
  // the host keeps no leading dot, and stored "...txt" as "txt".
  if (/^[.\s]*(\.[^.]*)?$/.test(cleaned) || longerThan(cleaned, MAX_FILE_NAME)) return null;
  // As the host stores it: no leading dot (`.profile.txt` is `profile.txt`).
  return cleaned.replace(/^[.\s]+/, '');
}

function extensionOf(name: string): string {
  const at = name.lastIndexOf('.');
  return at > 0 ? name.slice(at + 1).toLowerCase() : '';
}

/** ZIP containers: Office and OpenDocument files are ZIPs, `file-type` may report either. */
const ZIP_FAMILY = new Set(['application/zip', ALLOWED_UPLOADS.docx!.mime, ALLOWED_UPLOADS.xlsx!.mime, ALLOWED_UPLOADS.odt!.mime, ALLOWED_UPLOADS.ods!.mime]);

/** What `file-type` reports that is a kind of an allowed type: an animated PNG is a PNG (its extra chunks are skipped by viewers without APNG). */
const KIND_OF: Readonly<Record<string, string>> = { 'image/apng': 'image/png' };

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
    // UTF-8 all through: a check of the first 64 KiB alone refused a good file whose letter of two
    // or more bytes straddled their end, and took one whose wrong bytes came later.
    if (content.includes(0) || !isUtf8(content)) return { ok: false, problem: 'content-mismatch' };
    // Markup comes at the start; a letter cut at the end of the part read is held back, not misread.
    const start = new TextDecoder('utf-8').decode(content.subarray(0, 64 * 1024), { stream: true });
    if (/^\s*<(!doctype|html|script|svg|\?xml)/i.test(start)) return { ok: false, problem: 'content-mismatch' };
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

/** The headers of every download: an attachment, never rendered by the browser. */
export function downloadHeaders(fileName: string, mimeType: string, size: number): Record<string, string> {
  return {
    'Content-Type': Object.values(ALLOWED_UPLOADS).some((a) => a.mime === mimeType) ? mimeType : 'application/octet-stream',
    'Content-Length': String(size),
    'Content-Disposition': attachmentDisposition(fileName),
    'X-Content-Type-Options': 'nosniff',
    // The portal's CSP directives every response carries (SECURITY.md), plus a sandbox.
    'Content-Security-Policy': "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; sandbox",
    'Cache-Control': 'no-store',
  };
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
 * closed however the response ends: a client that leaves half-way is let go quietly, and the file
 * with it (`pipe` would keep it open for good, one descriptor per abandoned download). Rejects
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
      if (!error || (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') resolve();
      else reject(error);
    });
  });
}
