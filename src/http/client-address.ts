import type { IncomingMessage } from 'node:http';

/**
 * The caller's address. X-Forwarded-For is only believed when TRUST_PROXY says
 * a load balancer we run sets it; otherwise anyone could pick their own address.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
