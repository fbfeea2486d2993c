/**
 * The client's address as the lockout, the sessions and the login history record it. A server
 * listening on both IPv6 and IPv4 (Node's default) sees IPv4 clients as IPv4-mapped IPv6
 * addresses (`::ffff:203.0.113.7`): they are recorded, counted and shown as plain IPv4, so one
 * client has one address whichever socket it came through.
 */
import { isIPv4 } from 'node:net';
import type { Request } from 'express';

const MAPPED_IPV4 = '::ffff:';

export function plainAddress(address: string): string {
  if (address.slice(0, MAPPED_IPV4.length).toLowerCase() !== MAPPED_IPV4) return address;
  const ipv4 = address.slice(MAPPED_IPV4.length);
  return isIPv4(ipv4) ? ipv4 : address;
}

export function clientAddress(req: Request): string {
  const address = req.ip ?? req.socket.remoteAddress;
  return address ? plainAddress(address) : 'unknown';
}
