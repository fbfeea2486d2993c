/**
 * The client's address as the lockout, the sessions and the login history record it. A server
 * listening on both IPv6 and IPv4 (Node's default) sees IPv4 clients as IPv4-mapped IPv6
 * addresses (`::ffff:203.0.113.7`): they are recorded, counted and shown as plain IPv4, so one
 * client has one address whichever socket it came through.
 */
import { isIP, isIPv6 } from 'node:net';
import type { Request } from 'express';

/** An IPv4-mapped address in the URL parser's canonical form: `::ffff:` and two hex groups. */
const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * One client, one address: IPv4 as it is; IPv6 in its one canonical form (RFC 5952, as the URL
 * parser writes it), since a trusted proxy's `X-Forwarded-For` passes on any spelling
 * (`2001:DB8:0::1`, `2001:db8::0001`…) and each would get a failure counter of its own; an
 * IPv4-mapped one (`::ffff:203.0.113.7`, `::ffff:cb00:7107`) as plain IPv4. Anything else (a
 * zone index, text that is no address) is left as it is.
 */
export function plainAddress(address: string): string {
  if (!isIPv6(address) || address.includes('%')) return address;
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
  const mapped = MAPPED_IPV4.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/**
 * Express's `req.ip` (the host's proxy setting applied), else the socket's peer. A host behind a
 * proxy may pass on whatever the forwarded header said (`<b>1.2.3.4</b>`, `unknown`): text that is
 * no address is never recorded or counted as one, the socket's peer (the proxy) stands instead.
 */
export function clientAddress(req: Request): string {
  const forwarded = req.ip;
  const address = forwarded !== undefined && isIP(forwarded) !== 0 ? forwarded : req.socket.remoteAddress;
  return address && isIP(address) !== 0 ? plainAddress(address) : 'unknown';
}

/**
 * The client a counter of client addresses counts (the ban after repeated failures, the reset
 * requests per client): an IPv4 address, or the /64 of an IPv6 one (`2001:db8:1:2::/64`). An
 * IPv6 client holds a whole /64 — its router hands it out, and privacy addresses change within
 * it by themselves —, so counted per address it guessed on from a fresh address after each ban.
 * Anything else (a zone index, text that is no address, a key already) is left as it is.
 */
export function clientKey(address: string): string {
  const plain = plainAddress(address);
  if (!isIPv6(plain)) return plain;
  const [head = '', tail = ''] = plain.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = plain.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = plain.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${new URL(`http://[${groups.slice(0, 4).join(':')}::]/`).hostname.slice(1, -1)}/64`;
}

/** Whether `text` is a client as `clientKey` names them: an IP address or an IPv6 /64. */
export function isClientKey(text: string): boolean {
  if (isIP(text) !== 0) return true;
  return text.endsWith('::/64') && isIPv6(text.slice(0, -3)) && clientKey(text.slice(0, -3)) === text;
}
