import { expect, it } from 'vitest';
import {
  AcceptFriendDocument,
  FriendsDocument,
  FriendsLeaderboardDocument,
  LeaderboardAroundDocument,
  RemoveFriendDocument,
  RequestFriendDocument,
  UpsertBoardDocument,
} from '../../sdk/generated/graphql.js';
import { codes, expectNoGraphQLErrors } from '../support/app.js';
import { completeTask } from '../support/play.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * Friends: every state and transition, the cap, bad input, and the friends
 * board. Both backends; on the real one every step alternates between two
 * instances, so what one instance wrote the other answers.
 */

type Player = Awaited<ReturnType<Fixture['player']>>;

async function friendsOf(f: Fixture, p: Player, on = 0) {
  const list = expectNoGraphQLErrors(await f.at(on).gql(FriendsDocument, {}, p.token)).friends;
  return list.map((x) => [x.player.id, x.status]);
}

async function request(f: Fixture, from: Player, to: Player | string, on = 0) {
  return f.at(on).gql(RequestFriendDocument, { player: typeof to === 'string' ? to : to.id }, from.token);
}

/** Runs tasks with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** Players exist from their first authenticated request: a read with their JWT creates them. */
async function known(f: Fixture, name: string) {
  const p = await f.player(name);
  expectNoGraphQLErrors(await f.app.gql(FriendsDocument, {}, p.token));
  await f.app.app.services.players.ensure({ playerId: p.id, username: p.username, roles: [], attributes: {} });
  return p;
}

describeBackends(
  'friends',
  (f) => {
    it('a request is PENDING_OUT for the asker and PENDING_IN for the other, then ACCEPTED for both', async () => {
      const a = await known(f, 'ann');
      const b = await known(f, 'bob');
      const asked = expectNoGraphQLErrors(await request(f, a, b, 0)).requestFriend;
      expect(asked).toMatchObject({ status: 'PENDING_OUT', player: { id: b.id, username: 'bob' } });
      expect(await friendsOf(f, a, 1)).toEqual([[b.id, 'PENDING_OUT']]);
      expect(await friendsOf(f, b, 1)).toEqual([[a.id, 'PENDING_IN']]);
      // Asking again changes nothing.
      expect(expectNoGraphQLErrors(await request(f, a, b, 1)).requestFriend).toMatchObject({ status: 'PENDING_OUT', since: asked.since });

      const accepted = expectNoGraphQLErrors(await f.at(1).gql(AcceptFriendDocument, { player: a.id }, b.token)).acceptFriend;
      expect(accepted).toMatchObject({ status: 'ACCEPTED', player: { id: a.id } });
      expect(new Date(accepted.since).getTime()).toBeGreaterThanOrEqual(new Date(asked.since).getTime());
      expect(await friendsOf(f, a, 0)).toEqual([[b.id, 'ACCEPTED']]);
      expect(await friendsOf(f, b, 1)).toEqual([[a.id, 'ACCEPTED']]);
    });

    it('a reciprocal request accepts', async () => {
      const a = await known(f, 'cat');
      const b = await known(f, 'dan');
      expectNoGraphQLErrors(await request(f, a, b, 0));
      expect(expectNoGraphQLErrors(await request(f, b, a, 1)).requestFriend).toMatchObject({ status: 'ACCEPTED', player: { id: a.id } });
      expect(await friendsOf(f, a, 1)).toEqual([[b.id, 'ACCEPTED']]);
      expect(await friendsOf(f, b, 0)).toEqual([[a.id, 'ACCEPTED']]);
    });

    it('removeFriend unfriends, declines and withdraws; with nothing to remove it answers false; accepting nothing is NOT_FOUND', async () => {
      const a = await known(f, 'eve');
      const b = await known(f, 'fay');
      const remove = async (from: Player, other: Player, on: number) =>
        expectNoGraphQLErrors(await f.at(on).gql(RemoveFriendDocument, { player: other.id }, from.token)).removeFriend;

      // Withdraw: the asker removes the request.
      expectNoGraphQLErrors(await request(f, a, b, 0));
      expect(await remove(a, b, 1)).toBe(true);
      expect(await friendsOf(f, a)).toEqual([]);
      expect(await friendsOf(f, b)).toEqual([]);
      expect(codes(await f.at(1).gql(AcceptFriendDocument, { player: a.id }, b.token))).toEqual(['NOT_FOUND']);

      // Decline: the asked one removes it.
      expectNoGraphQLErrors(await request(f, a, b, 0));
      expect(await remove(b, a, 1)).toBe(true);
      expect(await friendsOf(f, a)).toEqual([]);
      expect(await friendsOf(f, b)).toEqual([]);

      // Unfriend: either side ends an accepted friendship for both.
      expectNoGraphQLErrors(await request(f, a, b, 0));
      expectNoGraphQLErrors(await f.at(1).gql(AcceptFriendDocument, { player: a.id }, b.token));
      expect(await remove(a, b, 0)).toBe(true);
      expect(await friendsOf(f, a, 1)).toEqual([]);
      expect(await friendsOf(f, b, 0)).toEqual([]);
      expect(await remove(a, b, 1)).toBe(false);
      // Accepting your own outgoing request is not accepting anything.
      expectNoGraphQLErrors(await request(f, a, b, 0));
      expect(codes(await f.at(1).gql(AcceptFriendDocument, { player: b.id }, a.token))).toEqual(['NOT_FOUND']);
      expect(await friendsOf(f, a)).toEqual([[b.id, 'PENDING_OUT']]);
    });

    it('bad input: yourself, an unknown or hidden player, no JWT; nothing changes', async () => {
      const a = await known(f, 'gil');
      const ghost = await known(f, 'ghost');
      // Hidden by an operator (set in the database as moderation does: the player and their entries).
      await completeTask(f.app, ghost.token);
      await f.app.app.services.prisma.$executeRaw`UPDATE players SET hidden = true WHERE id = ${ghost.id}`;
      await f.app.app.services.prisma.$executeRaw`UPDATE board_entries SET hidden = true WHERE player_id = ${ghost.id}`;

      expect(codes(await request(f, a, a))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await request(f, a, 'nobody-at-all'))).toEqual(['NOT_FOUND']);
      expect(codes(await request(f, a, ghost, 1))).toEqual(['NOT_FOUND']);
      expect(codes(await f.app.gql(RequestFriendDocument, { player: ghost.id }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await f.app.gql(AcceptFriendDocument, { player: a.id }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await f.app.gql(RemoveFriendDocument, { player: a.id }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await f.app.gql(FriendsDocument, {}))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await f.app.gql(FriendsLeaderboardDocument, {}))).toEqual(['UNAUTHENTICATED']);
      expect(await friendsOf(f, a)).toEqual([]);
      const rows = await f.app.app.services.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM friendships WHERE player_id IN (${a.id}, ${ghost.id}) OR friend_id IN (${a.id}, ${ghost.id})`;
      expect(rows[0]!.n).toBe(0);
    });

    it('a friend who becomes hidden vanishes from friends and the friends board', async () => {
      const a = await known(f, 'hal');
      const b = await known(f, 'ivy');
      expectNoGraphQLErrors(await request(f, a, b, 0));
      expectNoGraphQLErrors(await f.at(1).gql(AcceptFriendDocument, { player: a.id }, b.token));
      await completeTask(f.app, a.token);
      await completeTask(f.app, b.token);
      await completeTask(f.app, b.token);
      const board = async () => expectNoGraphQLErrors(await f.at(1).gql(FriendsLeaderboardDocument, {}, a.token)).friendsLeaderboard;
      expect((await board()).entries.map((e) => [e.player.id, e.position])).toEqual([
        [b.id, 1],
        [a.id, 2],
      ]);
      await f.app.app.services.prisma.$executeRaw`UPDATE players SET hidden = true WHERE id = ${b.id}`;
      await f.app.app.services.prisma.$executeRaw`UPDATE board_entries SET hidden = true WHERE player_id = ${b.id}`;
      expect((await board()).entries.map((e) => [e.player.id, e.position])).toEqual([[a.id, 1]]);
      expect(await friendsOf(f, a, 1)).toEqual([]);
      // The hidden player still sees their own row on their own friends board.
      const own = expectNoGraphQLErrors(await f.app.gql(FriendsLeaderboardDocument, {}, b.token)).friendsLeaderboard;
      expect(own.entries.map((e) => [e.player.id, e.position])).toEqual([
        [b.id, 1],
        [a.id, 2],
      ]);
    });

    it('friendsLeaderboard holds the viewer and accepted friends only, ranked within them in the global order', async () => {
      const [me, f1, f2, f3, pending, stranger] = await Promise.all(['me', 'f1', 'f2', 'f3', 'pend', 'stranger'].map((n) => known(f, n)));
      for (const friend of [f1!, f2!, f3!]) {
        expectNoGraphQLErrors(await request(f, me!, friend, 0));
        expectNoGraphQLErrors(await f.at(1).gql(AcceptFriendDocument, { player: me!.id }, friend.token));
      }
      expectNoGraphQLErrors(await request(f, me!, pending!, 1));
      // Scores: f2 30, me 20, f1 20 (after me: me got there first), stranger 40, pending 50, f3 none.
      const plays: [Player, number][] = [
        [f2!, 3],
        [me!, 2],
        [f1!, 2],
        [stranger!, 4],
        [pending!, 5],
      ];
      for (const [p, n] of plays) for (let i = 0; i < n; i++) await completeTask(f.at(i), p.token);

      const ordinal = expectNoGraphQLErrors(await f.at(1).gql(FriendsLeaderboardDocument, {}, me!.token)).friendsLeaderboard;
      expect(ordinal.totalPlayers).toBe(3);
      expect(ordinal.board.id).toBe('global');
      expect(ordinal.entries.map((e) => [e.player.id, e.score, e.position, e.rank])).toEqual([
        [f2!.id, 30, 1, 1],
        [me!.id, 20, 2, 2],
        [f1!.id, 20, 3, 3],
      ]);
      const competition = expectNoGraphQLErrors(await f.app.gql(FriendsLeaderboardDocument, { rankMode: 'COMPETITION', first: 2 }, me!.token)).friendsLeaderboard;
      expect(competition.entries.map((e) => [e.player.id, e.rank])).toEqual([
        [f2!.id, 1],
        [me!.id, 2],
      ]);
      expect(competition.totalPlayers).toBe(3);

      // Consistent with each player's global standing: the same relative order as their global positions.
      const global = await Promise.all(
        ordinal.entries.map(async (e) => {
          const around = expectNoGraphQLErrors(await f.app.gql(LeaderboardAroundDocument, { player: e.player.id, above: 0, below: 0 })).leaderboardAround;
          return around.entries[0]!.position;
        }),
      );
      expect([...global].sort((x, y) => x - y)).toEqual(global);

      // A friend's view includes them and me, not my other friends.
      const theirs = expectNoGraphQLErrors(await f.app.gql(FriendsLeaderboardDocument, {}, f1!.token)).friendsLeaderboard;
      expect(theirs.entries.map((e) => e.player.id)).toEqual([me!.id, f1!.id]);

      // Any board and period: a daily board holds only what was scored on it.
      const op = await f.operator();
      const daily = `daily-friends-${process.pid}-${Date.now()}`;
      expectNoGraphQLErrors(await f.app.gql(UpsertBoardDocument, { input: { id: daily, window: 'DAILY' } }, op.token));
      await completeTask(f.at(1), f1!.token);
      const onDaily = expectNoGraphQLErrors(await f.at(1).gql(FriendsLeaderboardDocument, { board: daily }, me!.token)).friendsLeaderboard;
      expect(onDaily.entries.map((e) => [e.player.id, e.score, e.position])).toEqual([[f1!.id, 10, 1]]);
      expect(codes(await f.app.gql(FriendsLeaderboardDocument, { board: 'no-such-board' }, me!.token))).toEqual(['NOT_FOUND']);
      expect(codes(await f.app.gql(FriendsLeaderboardDocument, { first: 0 }, me!.token))).toEqual(['BAD_USER_INPUT']);
    });

    it('at most 1,000 friends (and 1,000 waiting requests): beyond is BAD_USER_INPUT from either side, also when accepts race', async () => {
      const hub = await known(f, 'hub');
      const late = await known(f, 'late');
      const fans = await Promise.all(Array.from({ length: 1_001 }, (_, i) => f.player(`fan${i}`)));
      const [extra, ...first1000] = fans;
      await pool(first1000, 16, async (fan) => expectNoGraphQLErrors(await f.at(fans.indexOf(fan)).gql(RequestFriendDocument, { player: hub.id }, fan.token)));
      // A flood of requests stops at 1,000 waiting.
      expect(codes(await request(f, extra!, hub, 1))).toEqual(['BAD_USER_INPUT']);
      // The hub asked `late`, too: 1,001 possible friendships, and they are all accepted at once.
      expectNoGraphQLErrors(await request(f, hub, late, 0));
      const results: string[][] = [];
      await Promise.all([
        pool(first1000, 16, async (fan) => results.push(codes(await f.at(fans.indexOf(fan) + 1).gql(AcceptFriendDocument, { player: fan.id }, hub.token)))),
        (async () => results.push(codes(await f.at(1).gql(AcceptFriendDocument, { player: hub.id }, late.token))))(),
      ]);
      expect(results.filter((c) => c.length === 0)).toHaveLength(1_000);
      expect(results.filter((c) => c.length > 0)).toEqual([['BAD_USER_INPUT']]);
      const list = await friendsOf(f, hub);
      expect(list.filter(([, s]) => s === 'ACCEPTED')).toHaveLength(1_000);
      expect(list).toHaveLength(1_001); // the one refused is still pending

      // Once full, nothing new from either side, and nothing changes.
      const other = await known(f, 'other');
      expect(codes(await request(f, other, hub, 1))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await request(f, hub, other, 0))).toEqual(['BAD_USER_INPUT']);
      expect(await friendsOf(f, other)).toEqual([]);
      expect(await friendsOf(f, hub)).toHaveLength(1_001);
      expect(await friendsOf(f, extra!)).toEqual([]);

      // The friends board of a full player: 1,000 friends, none has scored yet.
      const board = expectNoGraphQLErrors(await f.app.gql(FriendsLeaderboardDocument, { first: 100 }, hub.token)).friendsLeaderboard;
      expect(board.totalPlayers).toBe(0);
    }, 240_000);
  },
  { instances: 2 },
);
