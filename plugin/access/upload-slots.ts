/**
 * How many uploads the process receives at once. An upload is parsed in memory (multer's memory
 * storage: the file is checked against its bytes, then handed to the host whole), so each one in
 * flight holds up to its size until it is stored or refused. Two bounds, taken before a byte of
 * the body is read and given back when the request is done with the file, whatever happened:
 *
 * - each customer (portal contact) sends at most `UPLOADS_PER_CUSTOMER` files at once, however
 *   many sessions or tabs they use: enough for a drag and drop beside a second tab, not a flood;
 * - the process holds at most `UPLOAD_BYTES_AT_ONCE` of uploads: an upload counts its declared
 *   length (Node never reads past it), or the largest body allowed when it declares none.
 *
 * Over either, the request is answered 429 with `Retry-After` and its body is never parsed.
 * Per process on purpose: memory is each process's own, and a count kept in the database would
 * outlive a process that dies mid-upload.
 */
import { injectable } from 'inversify';
import type { IncomingMessage } from 'node:http';
import { MAX_UPLOAD_BYTES } from './upload-checks.js';

export const UPLOADS_PER_CUSTOMER = 2;
export const UPLOAD_BYTES_AT_ONCE = 64 * 1024 * 1024;
/** What a refused upload is told to wait, in seconds: about the time a 10 MB file takes on a slow line. */
export const UPLOAD_RETRY_AFTER = 10;
/** A multipart body's room besides the file: the form's few short fields and the part headers. */
const FORM_ROOM = 64 * 1024;
/** The largest upload body allowed: a file at the limit and its form. */
export const MAX_UPLOAD_BODY = MAX_UPLOAD_BYTES + FORM_ROOM;

export interface UploadSlot {
  /** Gives the slot back; once is enough, more is harmless. */
  release(): void;
}

/** `customer`: this customer already sends as many files as allowed; `busy`: the process holds as many bytes of uploads as it may. */
export type UploadSlotAnswer = { readonly ok: true; readonly slot: UploadSlot } | { readonly ok: false; readonly reason: 'customer' | 'busy' };

/** The bytes an upload may come to hold: its declared length, never more than the largest body allowed. */
export function uploadBytes(req: IncomingMessage): number {
  const most = MAX_UPLOAD_BODY;
  const declared = req.headers['content-length'];
  const length = typeof declared === 'string' && /^[0-9]{1,15}$/.test(declared) ? Number(declared) : most;
  return Math.min(length, most);
}

@injectable()
export class UploadSlots {
  private heldBytes = 0;
  private readonly byCustomer = new Map<number, number>();

  take(customer: number, req: IncomingMessage): UploadSlotAnswer {
    const sending = this.byCustomer.get(customer) ?? 0;
    if (sending >= UPLOADS_PER_CUSTOMER) return { ok: false, reason: 'customer' };
    const bytes = uploadBytes(req);
    if (this.heldBytes + bytes > UPLOAD_BYTES_AT_ONCE) return { ok: false, reason: 'busy' };
    this.heldBytes += bytes;
    this.byCustomer.set(customer, sending + 1);
    let held = true;
    return {
      ok: true,
      slot: {
        release: () => {
          if (!held) return;
          held = false;
          this.heldBytes -= bytes;
          const left = (this.byCustomer.get(customer) ?? 1) - 1;
          if (left > 0) this.byCustomer.set(customer, left);
          else this.byCustomer.delete(customer);
        },
      },
    };
  }
}
