import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The caller's address. With `trustedHops` = 0 it is the socket's peer. Behind
 * N proxies we run, each appends the address it received from to
 * X-Forwarded-For, so the client is the Nth entry from the RIGHT: everything to
 * the left of it was written by the client and proves nothing. If the header
 * is missing, too short or not an address, the socket's peer (our proxy) is
 * used: never a value the client chose.
 */
export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedHops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const candidate = entries[entries.length - trustedHops];
  return candidate && isIP(candidate) ? candidate : peer;
}
