import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { expect, it } from 'vitest';
import { MeDocument, UpsertActionTypeDocument } from '../sdk/generated/graphql.js';
import { createHmac } from 'node:crypto';
import { encodeTicketV2, TICKET_AUDIENCE, TICKET_TYP } from '../src/resolvers/scoring/action-ticket.js';
import { codes, expectNoGraphQLErrors } from './support/app.js';
import { auditChain, writes } from './support/audit.js';
import { completeTask, issue, submit, submitRaw } from './support/play.js';
import { describeBackends } from './support/suite.js';

/** What must be withstood, "Forged and replayed actions", against the real app (two instances on real backends). */
describeBackends(
  'tamper-proof scoring',
  (f) => {
    /** A v2 ticket signed by us in the test, with the server's own key unless told otherwise. */
    const forge = (claims: { sub: string; jti?: string; act?: string; ims?: number }, opts: { key?: Uint8Array; exp?: number } = {}) => {
      const issuedAtMs = claims.ims ?? Date.now();
      return encodeTicketV2(opts.key ?? f.app.config.actionToken.secret, {
        playerId: claims.sub,
        actionId: claims.jti ?? randomUUID(),
        actionType: claims.act ?? 'COMPLETE_TASK',
        issuedAtMs,
        expiresAtMs: opts.exp !== undefined ? opts.exp * 1000 : issuedAtMs + 300_000,
      });
    };
    /** A v2 ticket around any payload, correctly signed with the server's key (or another): for malformed claims. */
    const signV2 = (payload: unknown, key: Uint8Array = f.app.config.actionToken.secret) => {
      const signed = `v2.${Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64url')}`;
      return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
    };
    /** A v1 (JWT) ticket, the format before v2, still accepted for one ticket lifetime after an instance starts. */
    const forgeV1 = async (
      claims: { sub: string; jti?: string; act?: string; ims?: number },
      opts: { key?: Uint8Array; typ?: string; aud?: string; alg?: string; exp?: number } = {},
    ) =>
      new SignJWT({ act: claims.act ?? 'COMPLETE_TASK', ims: claims.ims ?? Date.now() })
        .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: opts.typ ?? TICKET_TYP })
        .setIssuer('scoreboard')
        .setAudience(opts.aud ?? TICKET_AUDIENCE)
        .setSubject(claims.sub)
        .setJti(claims.jti ?? randomUUID())
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 300)
        .sign(opts.key ?? f.app.config.actionToken.secret);
    const jtiOf = (token: string): string => {
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string };
      return payload.jti;
    };

    /** Submits and asserts the error code and that nothing at all was written. */
    async function rejected(token: string | undefined, input: { actionId: string; actionType: string; token: string }, code: string) {
      const before = await writes(f.app);
      const result = await submitRaw(f.at(1), token, input);
      expect(codes(result)).toEqual([code]);
      expect(result.data?.submitAction ?? null).toBeNull();
      expect(await writes(f.app)).toEqual(before);
    }

    it("credits the server's points once and returns delta, score, rank, seq", async () => {
      const p = await f.player('honest');
      const first = await completeTask(f.app, p.token, f.at(1));
      expect(first).toMatchObject({ scoreDelta: 10, newScore: 10, replayed: false, player: { id: p.id, score: 10 } });
      expect(first.rank).toBeGreaterThanOrEqual(1);
      expect(first.seq).toBeGreaterThan(0);
      const second = await completeTask(f.at(1), p.token, f.app);
      expect(second).toMatchObject({ scoreDelta: 10, newScore: 20 });
      expect(second.seq).toBeGreaterThan(first.seq);
      await auditChain(f.app, p.id);
    });

    it('a client cannot send a score or a delta: the input has no such field', async () => {
      const p = await f.player('cheater');
      const t = await issue(f.app, p.token);
      const before = await writes(f.app);
      for (const field of ['score', 'scoreDelta', 'points', 'delta']) {
        const res = await f.app.raw(
          {
            query: `mutation($input: SubmitActionInput!) { submitAction(input: $input) { newScore } }`,
            variables: { input: { actionId: t.actionId, actionType: t.actionType, token: t.token, [field]: 1_000_000 } },
          },
          { token: p.token },
        );
        const body = await res.json();
        expect(body.errors?.[0]?.message).toMatch(new RegExp(`"${field}" is not defined`));
        expect(body.data ?? null).toBeNull();
      }
      expect(await writes(f.app)).toEqual(before);
    });

    it('forged v2 tickets: another key, tampered payload or signature, wrong purpose, malformed claims or encoding', async () => {
      const p = await f.player('forger');
      const actionId = randomUUID();
      const input = (token: string) => ({ actionId, actionType: 'COMPLETE_TASK', token });
      const now = Date.now();
      const good = { aud: TICKET_AUDIENCE, sub: p.id, act: 'COMPLETE_TASK', jti: actionId, iat: now, exp: now + 300_000 };
      // The control: this very payload, correctly signed, is accepted (at the end, so the others find nothing applied).
      const control = signV2(good);
      const cases: [string, string][] = [
        ['another key', forge({ sub: p.id, jti: actionId }, { key: new TextEncoder().encode('k'.repeat(48)) })],
        ['wrong purpose (aud)', signV2({ ...good, aud: 'scoreboard-api' })],
        ['missing claim', signV2({ ...good, exp: undefined })],
        ['extra claim', signV2({ ...good, pts: 1_000_000 })],
        ['claim of the wrong type', signV2({ ...good, exp: String(good.exp) })],
        ['actionId not a UUID', signV2({ ...good, jti: 'not-a-uuid' })],
        ['expiry before issue', signV2({ ...good, exp: good.iat - 1 })],
        ['payload not JSON', signV2('{"aud":')],
        ['payload an array', signV2([good])],
        ['no signature', control.split('.').slice(0, 2).join('.') + '.'],
        ['short signature', control.slice(0, -4)],
        ['signature not base64url', control.slice(0, -1) + '*'],
        ['unknown version', 'v3' + control.slice(2)],
        ['four parts', `${control}.x`],
        ['garbage', 'abc.def.ghi'],
        ['empty', ''],
      ];
      // Tampered: a real ticket with its payload edited (same signature), or its signature edited.
      const real = await issue(f.app, p.token);
      const [version, body, sig] = real.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
      cases.push(['tampered payload', `${version}.${Buffer.from(JSON.stringify({ ...claims, iat: 0 })).toString('base64url')}.${sig}`]);
      const flipped = Buffer.from(sig, 'base64url');
      flipped.writeUInt8(flipped.readUInt8(0) ^ 1, 0);
      cases.push(['tampered signature', `${version}.${body}.${flipped.toString('base64url')}`]);
      for (const [name, token] of cases) {
        const id = name.startsWith('tampered') ? real.actionId : actionId;
        await rejected(p.token, { ...input(token), actionId: id }, 'INVALID_ACTION_TOKEN').catch((error: Error) => {
          throw new Error(`${name}: ${error.message}`, { cause: error });
        });
      }
      expect(await submit(f.at(1), p.token, input(control))).toMatchObject({ replayed: false, scoreDelta: 10 });
    });

    it('v1 (JWT) tickets from before the upgrade land within one ticket lifetime; forged ones do not', async () => {
      const p = await f.player('upgrader');
      const actionId = randomUUID();
      const input = (token: string) => ({ actionId, actionType: 'COMPLETE_TASK', token });
      const { privateKey } = await generateKeyPair('RS256');
      const cases: [string, string][] = [
        ['another key', await forgeV1({ sub: p.id, jti: actionId }, { key: new TextEncoder().encode('k'.repeat(48)) })],
        [
          'alg none',
          new UnsecuredJWT({ sub: p.id, jti: actionId, act: 'COMPLETE_TASK', ims: Date.now(), aud: TICKET_AUDIENCE, iss: 'scoreboard' })
            .setIssuedAt()
            .setExpirationTime('5m')
            .encode(),
        ],
        [
          'RS256',
          await new SignJWT({ act: 'COMPLETE_TASK', ims: Date.now() })
            .setProtectedHeader({ alg: 'RS256', typ: TICKET_TYP })
            .setSubject(p.id)
            .setJti(actionId)
            .setIssuer('scoreboard')
            .setAudience(TICKET_AUDIENCE)
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(privateKey),
        ],
        ['wrong typ', await forgeV1({ sub: p.id, jti: actionId }, { typ: 'JWT' })],
        ['wrong aud', await forgeV1({ sub: p.id, jti: actionId }, { aud: 'scoreboard-api' })],
      ];
      const v1 = await forgeV1({ sub: p.id, jti: actionId });
      const [h, body, sig] = v1.split('.');
      const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
      cases.push(['tampered', `${h}.${Buffer.from(JSON.stringify({ ...claims, ims: 0 })).toString('base64url')}.${sig}`]);
      for (const [name, token] of cases) {
        await rejected(p.token, input(token), 'INVALID_ACTION_TOKEN').catch((error: Error) => {
          throw new Error(`${name}: ${error.message}`, { cause: error });
        });
      }
      // A genuine v1 ticket (the previous version's format, the server's key): credited once, then replayed.
      expect(await submit(f.at(1), p.token, input(v1))).toMatchObject({ replayed: false, scoreDelta: 10 });
      expect(await submit(f.app, p.token, input(v1))).toMatchObject({ replayed: true, scoreDelta: 10 });
    });

    it('a ticket is not a player JWT, and a player JWT is not a ticket', async () => {
      const p = await f.player('mixup');
      const t = await issue(f.app, p.token);
      // Ticket as the bearer token:
      await rejected(t.token, { actionId: t.actionId, actionType: t.actionType, token: t.token }, 'UNAUTHENTICATED');
      // Player JWT as the ticket:
      await rejected(p.token, { actionId: t.actionId, actionType: t.actionType, token: p.token }, 'INVALID_ACTION_TOKEN');
    });

    it("another player's ticket: FORBIDDEN", async () => {
      const [a, b] = [await f.player('owner'), await f.player('thief')];
      const t = await issue(f.app, a.token);
      await rejected(b.token, { actionId: t.actionId, actionType: t.actionType, token: t.token }, 'FORBIDDEN');
      // The owner can still use it.
      expect((await submit(f.app, a.token, t)).replayed).toBe(false);
    });

    it('ticket for type A as type B, or with another actionId: INVALID_ACTION_TOKEN', async () => {
      await f.app.app.services.prisma.actionType.upsert({
        where: { code: 'DAILY_BONUS' },
        create: { code: 'DAILY_BONUS', points: 50, minSeconds: 0 },
        update: {},
      });
      const p = await f.player('switcher');
      const t = await issue(f.app, p.token);
      await rejected(p.token, { actionId: t.actionId, actionType: 'DAILY_BONUS', token: t.token }, 'INVALID_ACTION_TOKEN');
      await rejected(p.token, { actionId: randomUUID(), actionType: t.actionType, token: t.token }, 'INVALID_ACTION_TOKEN');
    });

    it('bad input: BAD_USER_INPUT for a non-UUID actionId; UNKNOWN_ACTION_TYPE for unknown or disabled types', async () => {
      const p = await f.player('sloppy');
      const t = await issue(f.app, p.token);
      await rejected(p.token, { actionId: 'not-a-uuid', actionType: t.actionType, token: t.token }, 'BAD_USER_INPUT');
      await rejected(p.token, { actionId: t.actionId, actionType: 'x'.repeat(1_000_000), token: t.token }, 'BAD_USER_INPUT');
      const res = await f.app.raw({ query: 'mutation { issueActionToken(actionType: "NOPE") { token } }' }, { token: p.token });
      expect(codes(await res.json())).toEqual(['UNKNOWN_ACTION_TYPE']);
      await f.app.app.services.prisma.actionType.upsert({
        where: { code: 'RETIRED' },
        create: { code: 'RETIRED', points: 5, minSeconds: 0, enabled: false },
        update: { enabled: false },
      });
      const res2 = await f.app.raw({ query: 'mutation { issueActionToken(actionType: "RETIRED") { token } }' }, { token: p.token });
      expect(codes(await res2.json())).toEqual(['UNKNOWN_ACTION_TYPE']);
      // Disabled after the ticket was issued: nothing credited.
      const typed = forge({ sub: p.id, act: 'RETIRED' });
      await rejected(p.token, { actionId: jtiOf(typed), actionType: 'RETIRED', token: typed }, 'UNKNOWN_ACTION_TYPE');
    });

    it("too fast for the type's minimum time: ACTION_TOO_FAST, and accepted once the time has passed", async () => {
      const op = await f.operator();
      expectNoGraphQLErrors(await f.app.gql(UpsertActionTypeDocument, { input: { code: 'SLOW_TASK', points: 7, minSeconds: 1 } }, op.token));
      const p = await f.player('hasty');
      const t = await issue(f.app, p.token, 'SLOW_TASK');
      await rejected(p.token, { actionId: t.actionId, actionType: 'SLOW_TASK', token: t.token }, 'ACTION_TOO_FAST');
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await submit(f.at(1), p.token, t)).toMatchObject({ scoreDelta: 7, replayed: false });
    });

    it('expired ticket: ACTION_TOKEN_EXPIRED; but a retry of an applied action after expiry still gets its outcome', async () => {
      const p = await f.player('late');
      const stale = forge({ sub: p.id, ims: Date.now() - 310_000 }, { exp: Math.floor(Date.now() / 1000) - 10 });
      await rejected(p.token, { actionId: jtiOf(stale), actionType: 'COMPLETE_TASK', token: stale }, 'ACTION_TOKEN_EXPIRED');
      // The same for a v1 ticket (within the upgrade window).
      const staleV1 = await forgeV1({ sub: p.id }, { exp: Math.floor(Date.now() / 1000) - 10 });
      await rejected(p.token, { actionId: jtiOf(staleV1), actionType: 'COMPLETE_TASK', token: staleV1 }, 'ACTION_TOKEN_EXPIRED');

      const exp = Math.floor(Date.now() / 1000) + 3;
      const shortLived = forge({ sub: p.id }, { exp });
      const id = jtiOf(shortLived);
      const ticket = { actionId: id, actionType: 'COMPLETE_TASK', token: shortLived };
      const applied = await submit(f.app, p.token, ticket);
      await new Promise((r) => setTimeout(r, (exp + 1) * 1000 - Date.now() + 100)); // now it has expired
      expect(await submit(f.at(1), p.token, ticket)).toMatchObject({ replayed: true, newScore: applied.newScore, scoreDelta: 10 });
    });

    it('the same ticket again, sequentially: credited once, then replayed with the original outcome', async () => {
      const p = await f.player('retry');
      const t = await issue(f.app, p.token);
      const first = await submit(f.app, p.token, t);
      const before = await writes(f.app);
      const again = await submit(f.at(1), p.token, t);
      expect(again).toMatchObject({ replayed: true, scoreDelta: first.scoreDelta, newScore: first.newScore, actionId: t.actionId });
      expect(await writes(f.app)).toEqual(before);
    });

    it('50 concurrent submissions of one ticket over the instances: exactly one credit', async () => {
      const p = await f.player('racer');
      const t = await issue(f.app, p.token);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => submit(f.at(i), p.token, t)));
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect(results.every((r) => r.scoreDelta === 10 && r.newScore === 10)).toBe(true);
      expect(await f.app.app.services.prisma.actionCredit.count({ where: { playerId: p.id } })).toBe(1);
      const me = expectNoGraphQLErrors(await f.app.gql(MeDocument, {}, p.token)).me!;
      expect(me.score).toBe(10);
    });

    it('30 concurrent distinct actions of one player over the instances: score = 30 x points, audit chain unbroken', async () => {
      const p = await f.player('busy');
      const tickets = await Promise.all(Array.from({ length: 30 }, (_, i) => issue(f.at(i), p.token)));
      const results = await Promise.all(tickets.map((t, i) => submit(f.at(i + 1), p.token, t)));
      expect(results.every((r) => !r.replayed && r.scoreDelta === 10)).toBe(true);
      expect(new Set(results.map((r) => r.newScore)).size).toBe(30);
      const rows = await auditChain(f.app, p.id);
      expect(rows).toHaveLength(30);
      expect(Number(rows.at(-1)!.newScore)).toBe(300);
    });

    it('ACTION_ALREADY_USED: an applied actionId presented for another player', async () => {
      const [a, b] = [await f.player('first-user'), await f.player('second-user')];
      const t = await issue(f.app, a.token);
      await submit(f.app, a.token, t);
      // Only the server's key could mint this; it stands for a leaked key or a UUID collision.
      const forged = forge({ sub: b.id, jti: t.actionId });
      await rejected(b.token, { actionId: t.actionId, actionType: 'COMPLETE_TASK', token: forged }, 'ACTION_ALREADY_USED');
    });
  },
  { instances: 2, cluster: true },
);

const QUOTA = 5;
describeBackends(
  'rate limiting',
  (f) => {
    it(`quota ${QUOTA}, ${QUOTA + 6} concurrent actions over the instances: exactly ${QUOTA} accepted, the rest RATE_LIMITED with retryAfter`, async () => {
      const p = await f.player('spammer');
      const tickets = await Promise.all(Array.from({ length: QUOTA + 6 }, (_, i) => issue(f.at(i), p.token)));
      const results = await Promise.all(tickets.map((t, i) => submitRaw(f.at(i + 1), p.token, t)));
      const ok = results.filter((r) => !r.errors);
      const limited = results.filter((r) => codes(r)[0] === 'RATE_LIMITED');
      expect(ok).toHaveLength(QUOTA);
      expect(limited).toHaveLength(6);
      for (const r of limited) expect(r.errors![0]!.extensions.retryAfter).toBeGreaterThanOrEqual(1);
      expect(await f.app.app.services.prisma.actionCredit.count({ where: { playerId: p.id } })).toBe(QUOTA);
    });

    it('no burst at a window boundary: the window slides', async () => {
      const p = await f.player('boundary');
      const window = Number(f.backend.env.RATE_LIMIT_WINDOW_SECONDS) * 1000;
      // 2 early in the window, 3 late in it ...
      for (let i = 0; i < 2; i++) await completeTask(f.app, p.token, f.at(i));
      await new Promise((r) => setTimeout(r, window / 2));
      for (let i = 0; i < 3; i++) await completeTask(f.app, p.token, f.at(i));
      // ... just after the first two have aged out, only 2 may pass (a fixed window would allow 5).
      await new Promise((r) => setTimeout(r, window / 2 + 300));
      const tickets = await Promise.all(Array.from({ length: 5 }, () => issue(f.app, p.token)));
      const results = await Promise.all(tickets.map((t, i) => submitRaw(f.at(i), p.token, t)));
      expect(results.filter((r) => !r.errors)).toHaveLength(2);
      expect(results.filter((r) => codes(r)[0] === 'RATE_LIMITED')).toHaveLength(3);
    });

    it('tickets are limited too, so they cannot be hoarded', async () => {
      const p = await f.player('hoarder');
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          f
            .at(i)
            .raw({ query: 'mutation { issueActionToken(actionType: "COMPLETE_TASK") { actionId } }' }, { token: p.token })
            .then((r) => r.json()),
        ),
      );
      expect(results.filter((r) => !r.errors)).toHaveLength(20);
      expect(results.filter((r) => codes(r)[0] === 'RATE_LIMITED')).toHaveLength(5);
    });
  },
  { instances: 2, cluster: true, env: { RATE_LIMIT_ACTIONS_PER_HOUR: String(QUOTA), RATE_LIMIT_TICKETS_PER_HOUR: '20', RATE_LIMIT_WINDOW_SECONDS: '6' } },
);
