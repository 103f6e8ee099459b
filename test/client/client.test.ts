import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ActionAlreadyUsedError,
  BadUserInputError,
  createScoreboardClient,
  ForbiddenError,
  InvalidActionTokenError,
  RateLimitedError,
  UnauthenticatedError,
  UnknownActionTypeError,
  type Leaderboard,
  type ScoreboardClient,
} from '../../packages/client/src/index.js';
import { UpsertAchievementDocument, UpsertBoardDocument } from '../../sdk/generated/graphql.js';
import { waitFor } from '../support/app.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * The client package against the real server (both backends), through a
 * loopback TCP proxy that can cut a connection at the worst moment.
 */

async function creditsOf(f: Fixture, playerId: string) {
  const rows = await f.app.app.services.prisma.$queryRaw<{ credits: bigint; score: bigint | null }[]>`
    SELECT (SELECT count(*) FROM action_credits WHERE player_id = ${playerId}) AS credits,
           (SELECT score FROM players WHERE id = ${playerId}) AS score`;
  return { credits: Number(rows[0]!.credits), score: Number(rows[0]!.score ?? 0) };
}

describeBackends('client package', (f) => {
  let proxy: TcpProxy;
  const clients: ScoreboardClient[] = [];

  /** A client for a new player, talking to the server through the proxy. */
  async function playerClient(name = 'player') {
    const player = await f.player(name);
    const client = createScoreboardClient({
      url: `${proxy.url}/graphql`,
      getToken: () => player.token,
      webSocketImpl: WebSocket,
      retry: { baseDelayMs: 20, maxDelayMs: 100 },
    });
    clients.push(client);
    return { player, client };
  }

  beforeAll(async () => {
    proxy = await startTcpProxy(f.app.url);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('performAction credits one action; leaderboard and me are typed reads of the result', async () => {
    const { player, client } = await playerClient('ada');
    const before = proxy.submits;
    const result = await client.performAction('COMPLETE_TASK');
    expect(result).toMatchObject({ scoreDelta: 10, newScore: 10, replayed: false, player: { id: player.id } });
    expect(proxy.submits - before).toBe(1);
    const me = await client.me();
    expect(me).toMatchObject({ id: player.id, score: 10, rank: result.rank });
    const board = await client.leaderboard({ first: 100 });
    expect(board.seq).toBeGreaterThanOrEqual(result.seq);
    expect(board.entries.find((e) => e.player.id === player.id)).toMatchObject({ score: 10, rank: result.rank });
  });

  it('boards: leaderboard and leaderboardAround take board, period and rank mode; watchLeaderboard follows a board; standings come back', async () => {
    const op = await f.operator();
    const boardId = `client-daily-${Math.random().toString(36).slice(2, 8)}`;
    const created = await f.app.gql(UpsertBoardDocument, { input: { id: boardId, title: 'Client daily', window: 'DAILY' } }, op.token);
    expect(created.errors).toBeUndefined();
    const [a, b] = [await playerClient('around-a'), await playerClient('around-b')];
    const boards: Leaderboard[] = [];
    const stop = a.client.watchLeaderboard({ board: boardId, first: 5 }, (board) => boards.push(board));
    await waitFor(() => boards.length >= 1, 10_000, 'the snapshot');
    const first = await a.client.performAction('COMPLETE_TASK');
    expect(first.standings.map((s) => s.board.id)).toContain(boardId);
    await b.client.performAction('COMPLETE_TASK');
    await b.client.performAction('COMPLETE_TASK');
    const board = await a.client.leaderboard({ board: boardId, first: 5, rankMode: 'DENSE' });
    expect(board.board.id).toBe(boardId);
    expect(board.entries.map((e) => [e.player.id, e.score, e.position, e.rank])).toEqual([
      [b.player.id, 20, 1, 1],
      [a.player.id, 10, 2, 2],
    ]);
    const around = await a.client.leaderboardAround({ board: boardId, above: 1, below: 1 });
    expect(around.period.key).toBe(board.period.key);
    expect(around.entries.map((e) => e.player.id)).toEqual([b.player.id, a.player.id]);
    await waitFor(() => boards.at(-1)?.seq === board.seq, 10_000, 'the watched board to catch up');
    expect(boards.at(-1)!.entries.map((e) => e.player.id)).toEqual([b.player.id, a.player.id]);
    stop();
  });

  it('a cut after the server committed: the same ticket again gives replayed: true and exactly one credit', async () => {
    const { player, client } = await playerClient('cut');
    let ticketId: string | undefined;
    const before = proxy.submits;
    proxy.cutNextSubmit('after-server');
    const result = await client.performAction('COMPLETE_TASK', { onTicket: (t) => (ticketId = t.actionId) });
    expect(proxy.submits - before).toBe(2); // the cut one, then the retry
    expect(result).toMatchObject({ actionId: ticketId, replayed: true, scoreDelta: 10, newScore: 10 });
    expect(await creditsOf(f, player.id)).toEqual({ credits: 1, score: 10 });
  });

  it('a cut before the server saw it: the retry credits it, once', async () => {
    const { player, client } = await playerClient('lost');
    const before = proxy.submits;
    proxy.cutNextSubmit('before-server');
    const result = await client.performAction('COMPLETE_TASK');
    expect(proxy.submits - before).toBe(2);
    expect(result).toMatchObject({ replayed: false, newScore: 10 });
    expect(await creditsOf(f, player.id)).toEqual({ credits: 1, score: 10 });
  });

  it('INVALID_ACTION_TOKEN is final: one attempt, a typed error, nothing credited', async () => {
    const { player, client } = await playerClient('tamper');
    const ticket = await client.issueTicket('COMPLETE_TASK');
    const before = proxy.submits;
    const error = await client.submitTicket({ ...ticket, token: `${ticket.token.slice(0, -4)}AAAA` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidActionTokenError);
    expect(error).toMatchObject({ code: 'INVALID_ACTION_TOKEN', retryable: false });
    expect(proxy.submits - before).toBe(1);
    expect(await creditsOf(f, player.id)).toEqual({ credits: 0, score: 0 });
  });

  it("FORBIDDEN is final: another player's ticket is not retried", async () => {
    const { client: owner } = await playerClient('owner');
    const { player: thief, client } = await playerClient('thief');
    const ticket = await owner.issueTicket('COMPLETE_TASK');
    const before = proxy.submits;
    await expect(client.submitTicket(ticket)).rejects.toBeInstanceOf(ForbiddenError);
    expect(proxy.submits - before).toBe(1);
    expect(await creditsOf(f, thief.id)).toEqual({ credits: 0, score: 0 });
  });

  it('ACTION_ALREADY_USED is final: an applied actionId under another type is not retried', async () => {
    const { player, client } = await playerClient('reuse');
    const credited = await client.performAction('COMPLETE_TASK');
    // A ticket for the same actionId but another type, signed with this deployment's ticket key.
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ act: 'OTHER_TASK', ims: Date.now() })
      .setProtectedHeader({ alg: 'HS256', typ: 'scoreboard-action+jwt' })
      .setIssuer('scoreboard')
      .setAudience('scoreboard-action')
      .setSubject(player.id)
      .setJti(credited.actionId)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(f.app.config.actionToken.secret);
    const before = proxy.submits;
    const error = await client.submitTicket({ actionId: credited.actionId, actionType: 'OTHER_TASK', token: forged, expiresAt: '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionAlreadyUsedError);
    expect(proxy.submits - before).toBe(1);
    expect(await creditsOf(f, player.id)).toEqual({ credits: 1, score: 10 });
  });

  it('UNKNOWN_ACTION_TYPE and UNAUTHENTICATED reject with their typed errors', async () => {
    const { client } = await playerClient('typo');
    await expect(client.performAction('NOT_A_TYPE')).rejects.toBeInstanceOf(UnknownActionTypeError);
    const anonymous = createScoreboardClient({ url: `${proxy.url}/graphql`, getToken: () => null });
    const before = proxy.submits;
    await expect(anonymous.performAction('COMPLETE_TASK')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(proxy.submits - before).toBe(0); // refused at the ticket: nothing to submit
  });

  it('watchLeaderboard: snapshot first, each change, a resync after a cut, never an older seq', async () => {
    const { client: watcher } = await playerClient('watcher');
    const { player, client } = await playerClient('mover');
    const boards: Leaderboard[] = [];
    const states: string[] = [];
    const stop = watcher.watchLeaderboard({ first: 100 }, (b) => boards.push(b), { onConnection: (s) => states.push(s) });
    await waitFor(() => boards.length >= 1, 10_000, 'the snapshot');
    const snapshot = boards[0]!;
    expect(snapshot.entries.some((e) => e.player.id === player.id)).toBe(false);

    const first = await client.performAction('COMPLETE_TASK');
    await waitFor(() => boards.some((b) => b.seq >= first.seq), 10_000, 'the change');
    expect(boards.at(-1)!.entries.find((e) => e.player.id === player.id)?.score).toBe(10);

    // The network drops every connection; a credit lands while the watcher is away.
    const connectedBefore = states.filter((s) => s === 'connected').length;
    proxy.dropAll();
    const second = await client.performAction('COMPLETE_TASK');
    await waitFor(() => states.filter((s) => s === 'connected').length > connectedBefore, 15_000, 'the reconnect');
    await waitFor(() => boards.some((b) => b.entries.find((e) => e.player.id === player.id)?.score === 20), 15_000, 'the resync');
    expect(states).toContain('reconnecting');
    expect(boards.at(-1)!.seq).toBeGreaterThanOrEqual(second.seq);
    const seqs = boards.map((b) => b.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1]!);
    stop();
  });

  it('watchLeaderboard reports a refused subscription as a typed error', async () => {
    const { client } = await playerClient('bad-args');
    const errors: unknown[] = [];
    const stop = client.watchLeaderboard({ first: 0 }, () => {}, { onError: (e) => errors.push(e) });
    await waitFor(() => errors.length > 0, 10_000, 'the error');
    expect(errors[0]).toBeInstanceOf(BadUserInputError);
    stop();
  });

  it('friends, the friends board, achievements and the live standing and unlocks', async () => {
    const a = await playerClient('friend-a');
    const b = await playerClient('friend-b');
    const op = await f.operator();
    const code = `CLIENT_FIRST_${process.pid}_${Date.now()}`;
    await f.app.gql(
      UpsertAchievementDocument,
      { input: { code, title: 'First step', kind: 'ACTION_COUNT', board: 'global', threshold: 1, actionType: 'COMPLETE_TASK' } },
      op.token,
    );

    await b.client.me(); // b exists from its first authenticated request
    expect(await a.client.requestFriend(b.player.id)).toMatchObject({ status: 'PENDING_OUT', player: { id: b.player.id } });
    expect((await b.client.friends()).map((x) => [x.player.id, x.status])).toEqual([[a.player.id, 'PENDING_IN']]);
    expect(await b.client.acceptFriend(a.player.id)).toMatchObject({ status: 'ACCEPTED' });
    await expect(a.client.requestFriend(a.player.id)).rejects.toBeInstanceOf(BadUserInputError);

    const changes: { rank: number | null; previousRank: number | null; overtakenBy: string[] }[] = [];
    const unlocks: string[] = [];
    const stopStanding = a.client.watchMyStanding({}, (c) =>
      changes.push({ rank: c.standing?.rank ?? null, previousRank: c.previousRank ?? null, overtakenBy: c.overtakenBy.map((p) => p.id) }),
    );
    const stopUnlocks = a.client.watchAchievements((u) => unlocks.push(u.achievement.code));
    await waitFor(() => changes.length >= 1, 10_000, 'the current standing');
    expect(changes[0]).toEqual({ rank: null, previousRank: null, overtakenBy: [] });

    const done = await a.client.performAction('COMPLETE_TASK');
    expect(done.unlocked.map((u) => u.code)).toContain(code);
    await waitFor(() => unlocks.includes(code) && changes.length >= 2, 10_000, 'the unlock and the new standing');
    expect(changes[1]!.previousRank).toBeNull();
    expect(changes[1]!.rank).toBe(done.rank);
    const mine = (await a.client.achievements()).find((x) => x.achievement.code === code)!;
    expect(mine).toMatchObject({ progress: 1, target: 1 });
    expect(mine.unlockedAt).not.toBeNull();

    await b.client.performAction('COMPLETE_TASK');
    const board = await a.client.friendsLeaderboard();
    expect(board.entries.map((e) => e.player.id).sort()).toEqual([a.player.id, b.player.id].sort());
    expect(board.entries.map((e) => e.position)).toEqual([1, 2]);
    expect(await a.client.removeFriend(b.player.id)).toBe(true);
    expect((await a.client.friendsLeaderboard()).entries.map((e) => e.player.id)).toEqual([a.player.id]);
    stopStanding();
    stopUnlocks();
  });
});

describeBackends(
  'client package, rate limited',
  (f) => {
    it('RATE_LIMITED rejects with retryAfter and is not retried', async () => {
      const proxy = await startTcpProxy(f.app.url);
      const player = await f.player('busy');
      const client = createScoreboardClient({ url: `${proxy.url}/graphql`, getToken: () => player.token, retry: { baseDelayMs: 20 } });
      try {
        await client.performAction('COMPLETE_TASK');
        await client.performAction('COMPLETE_TASK');
        const before = proxy.submits;
        const error = await client.performAction('COMPLETE_TASK').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RateLimitedError);
        expect((error as RateLimitedError).retryAfter).toBeGreaterThan(0);
        expect(proxy.submits - before).toBe(1);
      } finally {
        await client.close();
        await proxy.close();
      }
    });
  },
  { env: { RATE_LIMIT_ACTIONS_PER_HOUR: '2' } },
);

describe('client package, without a server', () => {
  it('a server that is not there is a retryable NETWORK_ERROR after the configured attempts', async () => {
    // A port that was just free: nothing listens there.
    const proxy = await startTcpProxy('http://127.0.0.1:9');
    const url = proxy.url;
    await proxy.close();
    const client = createScoreboardClient({ url: `${url}/graphql`, getToken: () => 'x', retry: { attempts: 3, baseDelayMs: 1 } });
    const error = await client.submitTicket({ actionId: '00000000-0000-4000-8000-000000000000', actionType: 'COMPLETE_TASK', token: 't', expiresAt: '' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
  });
});
