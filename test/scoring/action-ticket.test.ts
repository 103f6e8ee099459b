import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createActionTickets, encodeTicketV2, TICKET_AUDIENCE, TICKET_TYP } from '../../src/resolvers/scoring/action-ticket.js';
import type { AppError } from '../../src/errors.js';

/** The ticket format on its own, with an injected clock (the whole-app cases are in test/scoring.test.ts). */
const secret = randomBytes(32);
const config = { secret, ttlSeconds: 300 };
const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);

function clock(start = T0) {
  let now = start;
  return { now: () => now, set: (ms: number) => (now = ms) };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: AppError) => String(error.extensions?.code),
  );

const v1Ticket = (claims: { sub: string; jti: string; act: string; ims: number }, expSeconds: number) =>
  new SignJWT({ act: claims.act, ims: claims.ims })
    .setProtectedHeader({ alg: 'HS256', typ: TICKET_TYP })
    .setIssuer('scoreboard')
    .setAudience(TICKET_AUDIENCE)
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt(Math.floor(claims.ims / 1000))
    .setExpirationTime(expSeconds)
    .sign(secret);

describe('action tickets (v2: node:crypto HMAC)', () => {
  it('issues v2 tickets that verify to the same claims, bound to player, type and actionId', async () => {
    const c = clock();
    const tickets = createActionTickets(config, { now: c.now });
    const issued = await tickets.issue('alice', 'COMPLETE_TASK');
    expect(issued.token).toMatch(/^v2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(await tickets.verify(issued.token)).toEqual({
      playerId: 'alice',
      actionType: 'COMPLETE_TASK',
      actionId: issued.actionId,
      issuedAtMs: T0,
      expiresAtMs: T0 + 300_000,
      expired: false,
    });
    // The payload is plain JSON with exactly the documented claims (times in ms).
    const payload = JSON.parse(Buffer.from(issued.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toEqual({ aud: TICKET_AUDIENCE, sub: 'alice', act: 'COMPLETE_TASK', jti: issued.actionId, iat: T0, exp: T0 + 300_000 });
  });

  it('reports expiry from the exact millisecond, after checking the signature', async () => {
    const c = clock();
    const tickets = createActionTickets(config, { now: c.now });
    const issued = await tickets.issue('alice', 'COMPLETE_TASK');
    c.set(T0 + 299_999);
    expect((await tickets.verify(issued.token)).expired).toBe(false);
    c.set(T0 + 300_000);
    expect((await tickets.verify(issued.token)).expired).toBe(true);
    // An expired ticket with a bad signature is invalid, not expired.
    const [version, payload, signature] = issued.token.split('.') as [string, string, string];
    const tampered = `${version}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(await codeOf(tickets.verify(tampered))).toBe('INVALID_ACTION_TOKEN');
  });

  it('refuses a ticket signed with another key, and one signed for another deployment', async () => {
    const tickets = createActionTickets(config, { now: clock().now });
    const claims = { playerId: 'alice', actionType: 'COMPLETE_TASK', actionId: '5b1f4c0e-8f44-4b8e-9d5e-0c2f0e6b7a11', issuedAtMs: T0, expiresAtMs: T0 + 1000 };
    expect(await codeOf(tickets.verify(encodeTicketV2(secret, claims)))).toBe('accepted');
    expect(await codeOf(tickets.verify(encodeTicketV2(randomBytes(32), claims)))).toBe('INVALID_ACTION_TOKEN');
    const other = createActionTickets({ secret: randomBytes(32), ttlSeconds: 300 }, { now: clock().now });
    expect(await codeOf(other.verify((await tickets.issue('alice', 'COMPLETE_TASK')).token))).toBe('INVALID_ACTION_TOKEN');
  });

  it('v1 (JWT) tickets are verified for one ticket lifetime after start, then refused', async () => {
    const c = clock();
    const tickets = createActionTickets(config, { now: c.now });
    const jti = '5b1f4c0e-8f44-4b8e-9d5e-0c2f0e6b7a11';
    // Issued by the previous version just before the upgrade, valid for its own 300 s.
    const old = await v1Ticket({ sub: 'bob', jti, act: 'COMPLETE_TASK', ims: T0 - 1000 }, Math.floor(T0 / 1000) + 299);
    expect(await tickets.verify(old)).toEqual({
      playerId: 'bob',
      actionType: 'COMPLETE_TASK',
      actionId: jti,
      issuedAtMs: T0 - 1000,
      expiresAtMs: (Math.floor(T0 / 1000) + 299) * 1000,
      expired: false,
    });
    // Past its own expiry but inside the window: reported expired (an applied action can still be replayed).
    c.set(T0 + 299_500);
    expect((await tickets.verify(old)).expired).toBe(true);
    // A v1 ticket that claims a longer life is refused once the window (one TTL after start) has passed.
    const longLived = await v1Ticket({ sub: 'bob', jti, act: 'COMPLETE_TASK', ims: T0 }, Math.floor(T0 / 1000) + 3600);
    c.set(T0 + 299_999);
    expect(await codeOf(tickets.verify(longLived))).toBe('accepted');
    c.set(T0 + 300_000);
    expect(await codeOf(tickets.verify(longLived))).toBe('INVALID_ACTION_TOKEN');
    expect(await codeOf(tickets.verify(old))).toBe('INVALID_ACTION_TOKEN');
  });
});
