/**
 * Reading an upload's multipart body with multer, bounded as it streams. Multer refuses a file over
 * the limit only once the whole body has arrived: it reads the rest and drops it first, so that
 * the client is not cut off while still sending. A 200 MB video was read to its end before the
 * customer learnt it was too large, and a body that never ends was read until the client gave up.
 *
 * Here the body is counted as it arrives: past `MAX_UPLOAD_BODY` (the largest body an upload may
 * be, whatever its declared length) the upload is settled as too large at once, and the caller
 * answers while the client is still sending. The rest of the body is still read and dropped, for
 * `UPLOAD_LINGER_MS` after that answer, so that a client that reads its answer only once it has
 * sent its body gets it; then the connection is closed. A body that ends within that time leaves
 * the connection as it was.
 */
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { MAX_UPLOAD_BODY } from './upload-slots.js';

/** How long the rest of a body over the limit is still read after the answer. */
export const UPLOAD_LINGER_MS = 3000;

/**
 * Runs `parser` (multer) on the request; resolves with its error (none when the body was read),
 * or with multer's `LIMIT_FILE_SIZE` as soon as more than `MAX_UPLOAD_BODY` bytes have arrived.
 * Never rejects.
 */
export function parseUploadBody(parser: RequestHandler, req: Request, res: Response): Promise<unknown> {
  return new Promise((resolve) => {
    let settled = false;
    let received = 0;
    const settle = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.off('data', count);
      resolve(error);
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= MAX_UPLOAD_BODY) return;
      settle(new multer.MulterError('LIMIT_FILE_SIZE', 'file'));
      lingerThenClose(req, res);
    };
    req.on('data', count);
    parser(req, res, (error?: unknown) => settle(error ?? undefined));
  });
}

/** Once the answer is sent, the rest of the body is read for a while; a body still coming then is cut off. */
function lingerThenClose(req: Request, res: Response): void {
  // Nothing more is parsed (nor held: multer's file in memory is let go); the rest is read and dropped.
  req.unpipe();
  req.resume();
  let timer: NodeJS.Timeout | undefined;
  const ended = () => clearTimeout(timer);
  req.once('end', ended);
  req.once('close', ended);
  res.once('finish', () => {
    if (req.readableEnded) return;
    timer = setTimeout(() => req.socket.destroy(), UPLOAD_LINGER_MS);
    timer.unref();
  });
}
