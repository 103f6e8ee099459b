import { expect, it } from 'vitest';
import {
  AcceptFriendDocument,
  AuditLogDocument,
  FriendsLeaderboardDocument,
  MyStandingChangedDocument,
  RequestFriendDocument,
  type MyStandingChangedSubscription,
  BanPlayerDocument,
  BoardChangedDocument,
  BoardLeaderboardDocument,
  HidePlayerDocument,
  MeModerationDocument,
  MyStandingDocument,
  PlayerModerationDocument,
  RebuildRankingsDocument,
  UnbanPlayerDocument,
  UnhidePlayerDocument,
  UpsertActionTypeDocument,
  UpsertBoardDocument,
  VoidActionDocument,
  type BoardChangedSubscription,
} from '../../sdk/generated/graphql.js';
import { collect, codes, expectNoGraphQLErrors, waitFor, type Instance } from '../support/app.js';
import { auditChain, writes } from '../support/audit.js';
import { issue, submit, submitRaw } from '../support/play.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * Operators: hide, ban, void, rebuild and the audit log, on both backends (two
 * instances on the real one: every act is seen by the other instance too).
 */

let unique = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;
const code = (prefix: string) => uid(prefix).toUpperCase().replace(/-/g, '_');

/** A fresh action type and a DAILY board counting only it: a board only this test writes to. */
async function privateBoard(f: Fixture, points = 10) {
  const op = await f.operator();
  const type = code('MOD');
  expectNoGraphQLErrors(await f.app.gql(UpsertActionTypeDocument, { input: { code: type, points } }, op.token));
  const board = uid('mod');
  expectNoGraphQLErrors(await f.app.gql(UpsertBoardDocument, { input: { id: board, title: 'Moderated', window: 'DAILY', actionTypes: [type] } }, op.token));
  return { type, board, op };
}

async function act(f: Fixture, token: string, type: string, i = 0) {
  return submit(f.at(i + 1), token, await issue(f.at(i), token, type));
}

async function board(f: Fixture, id: string, token?: string, on: Instance = f.app) {
  return expectNoGraphQLErrors(await on.gql(BoardLeaderboardDocument, { board: id, first: 10 }, token)).leaderboard;
}

const rows = (b: { entries: { position: number; score: number; player: { id: string } }[] }) => b.entries.map((e) => [e.player.id, e.score, e.position]);

describeBackends(
  'operators',
  (f) => {
    it('every operator operation and auditLog answer FORBIDDEN to a player and UNAUTHENTICATED without a JWT, and change nothing', async () => {
      const p = await f.player('target');
      const { type } = await privateBoard(f);
      const credited = await act(f, p.token, type);
      const someone = await f.player('someone');
      const before = await writes(f.app);
      const calls = [
        (t?: string) => f.app.gql(HidePlayerDocument, { player: p.id, reason: 'x' }, t),
        (t?: string) => f.app.gql(UnhidePlayerDocument, { player: p.id, reason: 'x' }, t),
        (t?: string) => f.app.gql(BanPlayerDocument, { player: p.id, reason: 'x' }, t),
        (t?: string) => f.app.gql(UnbanPlayerDocument, { player: p.id, reason: 'x' }, t),
        (t?: string) => f.app.gql(VoidActionDocument, { actionId: credited.actionId, reason: 'x' }, t),
        (t?: string) => f.app.gql(RebuildRankingsDocument, { board: null }, t),
        (t?: string) => f.app.gql(AuditLogDocument, { first: 5 }, t),
        (t?: string) => f.app.gql(UpsertActionTypeDocument, { input: { code: 'COMPLETE_TASK', points: 999 } }, t),
      ];
      for (const call of calls) {
        expect(codes(await call(someone.token))).toEqual(['FORBIDDEN']);
        expect(codes(await call(undefined))).toEqual(['UNAUTHENTICATED']);
      }
      expect(await writes(f.app)).toEqual(before);
      const me = expectNoGraphQLErrors(await f.app.gql(MeModerationDocument, {}, p.token)).me!;
      expect(me).toMatchObject({ hidden: false, banned: false, score: 10 });
      const log = await f.app.app.services.prisma.auditEvent.count({ where: { playerId: p.id } });
      expect(log).toBe(0);
    });

    it('bad input: a missing or blank reason, an unknown player, a malformed actionId, an unknown action; nothing changes', async () => {
      const { op } = await privateBoard(f);
      const p = await f.player('bad-input');
      await act(f, p.token, 'COMPLETE_TASK');
      const before = await writes(f.app);
      expect(codes(await f.app.gql(HidePlayerDocument, { player: p.id, reason: '' }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(BanPlayerDocument, { player: p.id, reason: '   ' }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(HidePlayerDocument, { player: p.id, reason: 'x'.repeat(501) }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(HidePlayerDocument, { player: 'nobody-here', reason: 'cheat' }, op.token))).toEqual(['NOT_FOUND']);
      expect(codes(await f.app.gql(VoidActionDocument, { actionId: 'not-a-uuid', reason: 'cheat' }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(VoidActionDocument, { actionId: '00000000-0000-4000-8000-000000000000', reason: 'cheat' }, op.token))).toEqual(['NOT_FOUND']);
      expect(codes(await f.app.gql(RebuildRankingsDocument, { board: 'no-such-board' }, op.token))).toEqual(['NOT_FOUND']);
      expect(codes(await f.app.gql(AuditLogDocument, { first: 0 }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(AuditLogDocument, { first: 101 }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(AuditLogDocument, { after: 'bogus' }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(AuditLogDocument, { actionId: 'nope' }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(await writes(f.app)).toEqual(before);
      expect(expectNoGraphQLErrors(await f.app.gql(MeModerationDocument, {}, p.token)).me).toMatchObject({ hidden: false });
    });

    it('hide #2 of five: others see four, closed up, with a higher seq, live too; the player still has me and their standing; unhide restores the exact board', async () => {
      const { type, board: id, op } = await privateBoard(f);
      const players = [];
      for (let i = 0; i < 5; i++) players.push(await f.player(`five-${i + 1}`));
      // Player i scores 5 - i times: #1 has 50 ... #5 has 10.
      for (const [i, p] of players.entries()) for (let k = 0; k < 5 - i; k++) await act(f, p.token, type, k);
      const before = await board(f, id);
      expect(rows(before)).toEqual(players.map((p, i) => [p.id, 50 - 10 * i, i + 1]));
      const viewer = await f.player('viewer');
      const live = collect(f.at(1).ws(viewer.token), BoardChangedDocument, { board: id, first: 10 });
      await waitFor(() => live.events.length > 0, 10_000, 'the first board');

      const second = players[1]!;
      const hidden = expectNoGraphQLErrors(await f.app.gql(HidePlayerDocument, { player: second.id, reason: 'aimbot' }, op.token)).hidePlayer;
      expect(hidden).toMatchObject({ id: second.id, hidden: true, banned: false, score: 40 });
      for (const on of f.instances) {
        const after = await board(f, id, viewer.token, on);
        expect(rows(after)).toEqual([players[0], players[2], players[3], players[4]].map((p, i) => [p!.id, [50, 30, 20, 10][i], i + 1]));
        expect(after.totalPlayers).toBe(4);
        expect(after.seq).toBeGreaterThan(before.seq);
        const global = await board(f, 'global', viewer.token, on);
        expect(global.entries.map((e) => e.player.id)).not.toContain(second.id);
        expect(expectNoGraphQLErrors(await on.gql(PlayerModerationDocument, { id: second.id }, viewer.token)).player).toBeNull();
      }
      const pushed = await waitFor(
        () => live.events.map((e: BoardChangedSubscription) => e.leaderboardChanged).find((b) => b.entries.length === 4),
        10_000,
        'the corrected board live',
      );
      expect(pushed.entries.map((e) => e.player.id)).toEqual([players[0], players[2], players[3], players[4]].map((p) => p!.id));
      // The player themself: me, their moderation state, their standing (where they would stand among the visible players).
      const me = expectNoGraphQLErrors(await f.app.gql(MeModerationDocument, {}, second.token)).me!;
      expect(me).toMatchObject({ id: second.id, hidden: true, score: 40 });
      expect(expectNoGraphQLErrors(await f.app.gql(PlayerModerationDocument, { id: second.id }, second.token)).player).toMatchObject({ hidden: true });
      expect(expectNoGraphQLErrors(await f.app.gql(PlayerModerationDocument, { id: second.id }, op.token)).player).toMatchObject({ hidden: true });
      const standing = expectNoGraphQLErrors(await f.app.gql(MyStandingDocument, { board: id }, second.token)).me!.standing!;
      expect(standing).toMatchObject({ position: 2, score: 40, totalPlayers: 4 });
      // A hidden player still scores, off the board.
      const credit = await act(f, second.token, type);
      expect(credit.newScore).toBe(50);
      expect(rows(await board(f, id, viewer.token))).toHaveLength(4);

      expectNoGraphQLErrors(await f.app.gql(UnhidePlayerDocument, { player: second.id, reason: 'appeal upheld' }, op.token));
      for (const on of f.instances) {
        const restored = await board(f, id, viewer.token, on);
        // The board as before, plus the credit earned while hidden (50: tied with #1, who got there first).
        expect(rows(restored)).toEqual([
          [players[0]!.id, 50, 1],
          [second.id, 50, 2],
          [players[2]!.id, 30, 3],
          [players[3]!.id, 20, 4],
          [players[4]!.id, 10, 5],
        ]);
      }
      await waitFor(
        () => live.events.map((e: BoardChangedSubscription) => e.leaderboardChanged).find((b) => b.entries.length === 5 && b.entries[1]!.player.id === second.id),
        10_000,
        'the restored board live',
      );
      live.unsubscribe();
      const log = expectNoGraphQLErrors(await f.app.gql(AuditLogDocument, { player: second.id, first: 10 }, op.token)).auditLog;
      expect(log.entries.map((e) => e.kind).slice(0, 3)).toEqual(['UNHIDE', 'CREDIT', 'HIDE']);
      expect(log.entries[2]).toMatchObject({ actor: op.id, reason: 'aimbot', player: { id: second.id } });
    });

    it('unhide restores the exact previous board (entries and ranks) when nothing else happened', async () => {
      const { type, board: id, op } = await privateBoard(f);
      const ps = [];
      for (let i = 0; i < 3; i++) ps.push(await f.player(`exact-${i}`));
      for (const [i, p] of ps.entries()) for (let k = 0; k <= i; k++) await act(f, p.token, type, k);
      const before = await board(f, id);
      expectNoGraphQLErrors(await f.app.gql(HidePlayerDocument, { player: ps[2]!.id, reason: 'check' }, op.token));
      expect(rows(await board(f, id))).toHaveLength(2);
      expectNoGraphQLErrors(await f.app.gql(UnhidePlayerDocument, { player: ps[2]!.id, reason: 'cleared' }, op.token));
      const after = await board(f, id);
      expect(after.entries).toEqual(before.entries);
      expect(after.seq).toBeGreaterThan(before.seq);
    });

    it('a ban refuses a ticket issued before it with PLAYER_BANNED and credits nothing; new tickets too; unban restores the player', async () => {
      const { op } = await privateBoard(f);
      const p = await f.player('banned');
      await act(f, p.token, 'COMPLETE_TASK');
      const early = await issue(f.app, p.token, 'COMPLETE_TASK');
      const banned = expectNoGraphQLErrors(await f.app.gql(BanPlayerDocument, { player: p.id, reason: 'bot' }, op.token)).banPlayer;
      expect(banned).toMatchObject({ banned: true, hidden: false });
      const before = await writes(f.app);
      for (const on of f.instances) {
        expect(codes(await submitRaw(on, p.token, early))).toEqual(['PLAYER_BANNED']);
        expect(codes(await on.gql(UpsertActionTypeDocument, { input: { code: 'COMPLETE_TASK' } }, p.token))).toEqual(['FORBIDDEN']);
        const res = await on.raw({ query: 'mutation { issueActionToken(actionType: "COMPLETE_TASK") { actionId } }' }, { token: p.token });
        expect(codes((await res.json()) as never)).toEqual(['PLAYER_BANNED']);
      }
      expect(await writes(f.app)).toEqual(before);
      expect((await board(f, 'global')).entries.map((e) => e.player.id)).not.toContain(p.id);
      expect(expectNoGraphQLErrors(await f.app.gql(MeModerationDocument, {}, p.token)).me).toMatchObject({ banned: true, score: 10 });

      expectNoGraphQLErrors(await f.app.gql(UnbanPlayerDocument, { player: p.id, reason: 'false positive' }, op.token));
      // The early ticket is still valid (within its TTL): it now credits.
      const credited = await submit(f.at(1), p.token, early);
      expect(credited).toMatchObject({ newScore: 20, replayed: false });
      expect(expectNoGraphQLErrors(await f.app.gql(MeModerationDocument, {}, p.token)).me).toMatchObject({ banned: false, score: 20 });
      expect(expectNoGraphQLErrors(await f.app.gql(PlayerModerationDocument, { id: p.id })).player).toMatchObject({ score: 20 });
    });

    it('void on a player with a daily board: both scores drop by exactly the credit; a second void is a replay; the audit chain holds', async () => {
      const { type, board: id, op } = await privateBoard(f, 7);
      const p = await f.player('voided');
      const other = await f.player('bystander');
      const first = await act(f, p.token, type);
      await act(f, p.token, type, 1);
      await act(f, other.token, type);
      expect(rows(await board(f, id))).toEqual([
        [p.id, 14, 1],
        [other.id, 7, 2],
      ]);
      const before = await board(f, id);
      const voided = expectNoGraphQLErrors(await f.app.gql(VoidActionDocument, { actionId: first.actionId, reason: 'exploit' }, op.token)).voidAction;
      expect(voided).toMatchObject({ actionId: first.actionId, scoreDelta: -7, replayed: false, player: { id: p.id, score: 7 } });
      for (const on of f.instances) {
        const after = await board(f, id, undefined, on);
        // Tied at 7 now; the bystander reached 7 first (the void is p's latest change).
        expect(rows(after)).toEqual([
          [other.id, 7, 1],
          [p.id, 7, 2],
        ]);
        expect(after.seq).toBeGreaterThan(before.seq);
      }
      const again = expectNoGraphQLErrors(await f.at(1).gql(VoidActionDocument, { actionId: first.actionId, reason: 'again' }, op.token)).voidAction;
      expect(again).toMatchObject({ scoreDelta: -7, replayed: true, player: { score: 7 } });
      expect(expectNoGraphQLErrors(await f.app.gql(MeModerationDocument, {}, p.token)).me).toMatchObject({ score: 7 });
      const chain = await auditChain(f.app, p.id);
      expect(chain.map((r) => [r.kind, r.delta])).toEqual([
        ['CREDIT', 7],
        ['CREDIT', 7],
        ['VOID', -7],
      ]);
      const log = expectNoGraphQLErrors(await f.app.gql(AuditLogDocument, { actionId: first.actionId }, op.token)).auditLog;
      expect(log.entries.map((e) => [e.kind, e.actionId, e.delta, e.oldScore, e.newScore])).toEqual([
        ['VOID', first.actionId, -7, 14, 7],
        ['CREDIT', first.actionId, 7, 0, 7],
      ]);
      expect(log.entries[0]).toMatchObject({ actor: op.id, reason: 'exploit', actionType: type });
      // A void that empties an entry takes the player off that board.
      const second = await f.player('emptied');
      const only = await act(f, second.token, type);
      expectNoGraphQLErrors(await f.app.gql(VoidActionDocument, { actionId: only.actionId, reason: 'exploit' }, op.token));
      expect((await board(f, id)).entries.map((e) => e.player.id)).not.toContain(second.id);
      expect(expectNoGraphQLErrors(await f.app.gql(MyStandingDocument, { board: id }, second.token)).me!.standing).toBeNull();
    });

    it('voiding while the same player scores concurrently on two instances loses nothing: score = credits - voids', async () => {
      const { type, board: id, op } = await privateBoard(f, 10);
      const p = await f.player('busy');
      const early = [];
      for (let i = 0; i < 4; i++) early.push(await act(f, p.token, type, i));
      const tickets = await Promise.all(Array.from({ length: 8 }, (_, i) => issue(f.at(i), p.token, type)));
      await Promise.all([
        ...tickets.map((t, i) => submit(f.at(i), p.token, t)),
        ...early.map((e, i) =>
          f
            .at(i + 1)
            .gql(VoidActionDocument, { actionId: e.actionId, reason: 'race' }, op.token)
            .then(expectNoGraphQLErrors),
        ),
        // A concurrent second void of the same action is a replay, never a second subtraction.
        f.at(1).gql(VoidActionDocument, { actionId: early[0]!.actionId, reason: 'race again' }, op.token).then(expectNoGraphQLErrors),
      ]);
      const expected = (4 + 8 - 4) * 10;
      expect(expectNoGraphQLErrors(await f.app.gql(MeModerationDocument, {}, p.token)).me).toMatchObject({ score: expected });
      for (const on of f.instances) expect(rows(await board(f, id, undefined, on))).toEqual([[p.id, expected, 1]]);
      const chain = await auditChain(f.app, p.id);
      expect(chain.filter((r) => r.kind === 'VOID')).toHaveLength(4);
    });

    it('audit log: pages are disjoint and complete, newest first; filters by player and action combine with the cursor', async () => {
      const { type, op } = await privateBoard(f, 3);
      const p = await f.player('audited');
      const actions = [];
      for (let i = 0; i < 5; i++) actions.push(await act(f, p.token, type, i));
      expectNoGraphQLErrors(await f.app.gql(HidePlayerDocument, { player: p.id, reason: 'look' }, op.token));
      expectNoGraphQLErrors(await f.app.gql(UnhidePlayerDocument, { player: p.id, reason: 'ok' }, op.token));
      expectNoGraphQLErrors(await f.app.gql(VoidActionDocument, { actionId: actions[2]!.actionId, reason: 'dup' }, op.token));
      const all = expectNoGraphQLErrors(await f.app.gql(AuditLogDocument, { player: p.id, first: 100 }, op.token)).auditLog;
      expect(all.hasNextPage).toBe(false);
      expect(all.entries.map((e) => e.kind)).toEqual(['VOID', 'UNHIDE', 'HIDE', 'CREDIT', 'CREDIT', 'CREDIT', 'CREDIT', 'CREDIT']);
      const ids = all.entries.map((e) => BigInt(e.id));
      expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);
      const paged: string[] = [];
      let after: string | null | undefined = null;
      for (let n = 0; n < 10; n++) {
        const page: { entries: { id: string }[]; endCursor?: string | null; hasNextPage: boolean } = expectNoGraphQLErrors(
          await f.at(n).gql(AuditLogDocument, { player: p.id, first: 3, after }, op.token),
        ).auditLog;
        paged.push(...page.entries.map((e) => e.id));
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      expect(paged).toEqual(all.entries.map((e) => e.id));
      // The unfiltered log holds this player's rows among everyone's, in the same order.
      const global = expectNoGraphQLErrors(await f.app.gql(AuditLogDocument, { first: 100 }, op.token)).auditLog;
      const mine = global.entries.filter((e) => e.player?.id === p.id).map((e) => e.id);
      expect(mine).toEqual(paged.slice(0, mine.length));
      const one = expectNoGraphQLErrors(await f.app.gql(AuditLogDocument, { actionId: actions[4]!.actionId }, op.token)).auditLog;
      expect(one.entries.map((e) => [e.kind, e.actionId])).toEqual([['CREDIT', actions[4]!.actionId]]);
      const both = expectNoGraphQLErrors(await f.app.gql(AuditLogDocument, { player: p.id, actionId: actions[2]!.actionId, first: 1 }, op.token)).auditLog;
      expect(both.entries.map((e) => e.kind)).toEqual(['VOID']);
      const rest = expectNoGraphQLErrors(await f.app.gql(AuditLogDocument, { player: p.id, actionId: actions[2]!.actionId, after: both.endCursor }, op.token)).auditLog;
      expect(rest.entries.map((e) => e.kind)).toEqual(['CREDIT']);
      expect(rest.hasNextPage).toBe(false);
    });

    it('a hidden player leaves friends boards and live standings: those below move up at once, and back down on unhide', async () => {
      const { type, board: id, op } = await privateBoard(f);
      const [a, b, c] = [await f.player('lead'), await f.player('mid'), await f.player('low')];
      for (const [i, p] of [a, b, c].entries()) for (let k = 0; k < 3 - i; k++) await act(f, p.token, type, k);
      for (const friend of [a, b]) {
        expectNoGraphQLErrors(await f.app.gql(RequestFriendDocument, { player: friend.id }, c.token));
        expectNoGraphQLErrors(await f.at(1).gql(AcceptFriendDocument, { player: c.id }, friend.token));
      }
      const friendsBoard = async () =>
        expectNoGraphQLErrors(await f.at(1).gql(FriendsLeaderboardDocument, { board: id }, c.token)).friendsLeaderboard.entries.map((e) => [e.player.id, e.position]);
      expect(await friendsBoard()).toEqual([
        [a.id, 1],
        [b.id, 2],
        [c.id, 3],
      ]);
      const live = collect(f.at(1).ws(c.token), MyStandingChangedDocument, { board: id });
      const rank = (e: MyStandingChangedSubscription) => e.myStandingChanged.standing?.position;
      await waitFor(() => live.events.length > 0, 10_000, 'the first standing');
      expect(rank(live.events[0]!)).toBe(3);

      expectNoGraphQLErrors(await f.app.gql(HidePlayerDocument, { player: a.id, reason: 'smurf' }, op.token));
      await waitFor(() => live.events.some((e) => rank(e) === 2), 10_000, 'moving up to 2 live');
      expect(await friendsBoard()).toEqual([
        [b.id, 1],
        [c.id, 2],
      ]);
      expectNoGraphQLErrors(await f.app.gql(UnhidePlayerDocument, { player: a.id, reason: 'not a smurf' }, op.token));
      const back = await waitFor(() => live.events.find((e, i) => i > 0 && rank(e) === 3), 10_000, 'back to 3 live');
      expect(back.myStandingChanged.previousRank).toBe(2);
      expect(back.myStandingChanged.overtakenBy.map((p) => p.id)).toEqual([a.id]);
      expect(await friendsBoard()).toEqual([
        [a.id, 1],
        [b.id, 2],
        [c.id, 3],
      ]);
      expect(live.errors).toEqual([]);
      live.unsubscribe();
    });

    it('rebuildRankings restores the truth after the cache was tampered with', async () => {
      const { type, board: id, op } = await privateBoard(f, 5);
      const a = await f.player('honest-a');
      const b = await f.player('honest-b');
      await act(f, a.token, type);
      await act(f, b.token, type);
      await act(f, b.token, type, 1);
      const truth = await board(f, id);
      // Tamper with the shared cache directly (Redis on the real backend): a fake leader and a lowered score.
      const services = f.app.app.services;
      const view = { board: id, period: truth.period.key, segment: null };
      await services.rankingCache.apply(view, { playerId: 'fake-leader', username: 'Fake', score: 99_999, reachedSeq: Number.MAX_SAFE_INTEGER - 1 });
      await services.rankingCache.apply(view, { playerId: b.id, username: b.username, score: 1, reachedSeq: Number.MAX_SAFE_INTEGER - 2 });
      // An edit behind the app's back: the response cache may answer the board as it was for up to its max age.
      const tampered = await waitFor(
        async () => {
          const read = await board(f, id);
          return read.entries[0]?.player.id === 'fake-leader' && read;
        },
        10_000,
        'the tampered board',
      );
      expect(expectNoGraphQLErrors(await f.at(1).gql(RebuildRankingsDocument, { board: id }, op.token)).rebuildRankings).toBe(true);
      // The instance that rebuilt answers the truth at once; the others after the board-change notice (one bus hop).
      expect(rows(await board(f, id, undefined, f.at(1)))).toEqual(rows(truth));
      for (const on of f.instances) {
        const rebuilt = await waitFor(
          async () => {
            const read = await board(f, id, undefined, on);
            return read.seq > tampered.seq && read;
          },
          10_000,
          'the rebuilt board',
        );
        expect(rows(rebuilt)).toEqual(rows(truth));
      }
      expect(expectNoGraphQLErrors(await f.app.gql(RebuildRankingsDocument, { board: null }, op.token)).rebuildRankings).toBe(true);
      const log = expectNoGraphQLErrors(await f.app.gql(AuditLogDocument, { first: 5 }, op.token)).auditLog;
      expect(log.entries[0]).toMatchObject({ kind: 'REBUILD', actor: op.id });
    });
  },
  { instances: 2 },
);
