/** The client's address as the lockout and the login history record it. */
import type { Request } from 'express';

export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
