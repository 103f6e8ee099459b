import { expect, it } from 'vitest';
import {
  AchievementsDocument,
  AchievementUnlockedDocument,
  PlayerAchievementsDocument,
  UpsertAchievementDocument,
  UpsertActionTypeDocument,
  UpsertBoardDocument,
  type AchievementInput,
  type AchievementUnlockedSubscription,
} from '../../sdk/generated/graphql.js';
import { finalizeDuePeriods } from '../../src/resolvers/boards/finalize.js';
import { codes, collect, expectNoGraphQLErrors, waitFor } from '../support/app.js';
import { issue, submit } from '../support/play.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * Achievements: definitions (operators only, validated), unlocks evaluated in
 * the credit's own statement (exactly on the crossing credit, once, also under
 * concurrency and replays), progress, the live unlock feed, and RANK_AT_MOST on
 * a windowed board at finalization with two instances running the job.
 *
 * Each test uses its own action type and board, so achievements of other tests
 * never show up in its credits.
 */

let unique = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;
const code = (prefix: string) => uid(prefix).toUpperCase().replace(/-/g, '_');

/** A fresh action type worth `points`, and an ALL_TIME board counting only it. */
async function arena(f: Fixture, points = 10) {
  const op = await f.operator();
  const type = code('T');
  expectNoGraphQLErrors(await f.app.gql(UpsertActionTypeDocument, { input: { code: type, points } }, op.token));
  const board = uid('arena');
  expectNoGraphQLErrors(await f.app.gql(UpsertBoardDocument, { input: { id: board, window: 'ALL_TIME', actionTypes: [type] } }, op.token));
  return { op, type, board };
}

async function define(f: Fixture, input: AchievementInput, on = 0) {
  const op = await f.operator();
  return expectNoGraphQLErrors(await f.at(on).gql(UpsertAchievementDocument, { input }, op.token)).upsertAchievement;
}

async function act(f: Fixture, token: string, type: string, i = 0) {
  const ticket = await issue(f.at(i), token, type);
  return { ticket, result: await submit(f.at(i + 1), token, ticket) };
}

async function progressOf(f: Fixture, playerId: string, achievement: string, on = 0) {
  const player = expectNoGraphQLErrors(await f.at(on).gql(PlayerAchievementsDocument, { id: playerId })).player!;
  return player.achievements.find((a) => a.achievement.code === achievement)!;
}

type Unlock = AchievementUnlockedSubscription;

describeBackends(
  'achievements',
  (f) => {
    it('operators define achievements with the same validation as boards; bad definitions change nothing', async () => {
      const { type, board } = await arena(f);
      const player = await f.player('nobody-special');
      const good: AchievementInput = { code: code('ACH'), title: 'Ten', kind: 'ACTION_COUNT', board, threshold: 10, actionType: type };
      expect(codes(await f.app.gql(UpsertAchievementDocument, { input: good }, player.token))).toEqual(['FORBIDDEN']);
      expect(codes(await f.app.gql(UpsertAchievementDocument, { input: good }))).toEqual(['UNAUTHENTICATED']);
      const op = await f.operator();
      const bad: [string, AchievementInput][] = [
        ['unknown board', { ...good, board: 'no-such-board' }],
        ['unknown action type', { ...good, actionType: 'NO_SUCH_TYPE' }],
        ['threshold 0', { ...good, threshold: 0 }],
        ['threshold -5', { ...good, threshold: -5 }],
        ['malformed code', { ...good, code: 'lower-case' }],
        ['no kind', { code: good.code, board, threshold: 1 }],
        ['actionType on a score goal', { ...good, kind: 'SCORE_AT_LEAST' }],
        ['no actionType on a count goal', { ...good, actionType: null }],
        ['empty title', { ...good, title: '  ' }],
      ];
      for (const [what, input] of bad) expect(codes(await f.app.gql(UpsertAchievementDocument, { input }, op.token)), what).toEqual(['BAD_USER_INPUT']);
      const listed = expectNoGraphQLErrors(await f.app.gql(AchievementsDocument, {})).achievements;
      expect(listed.map((a) => a.code)).not.toContain(good.code);

      const before = await f.app.app.services.prisma.$queryRaw<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM audit_events WHERE detail -> 'achievement' ->> 'code' = ${good.code}`;
      expect(before[0]!.n).toBe(0);
      const created = await define(f, good);
      // Audited with the operator who did it.
      const audit = await f.app.app.services.prisma.$queryRaw<{ kind: string; actor: string }[]>`
        SELECT kind, actor FROM audit_events WHERE detail -> 'achievement' ->> 'code' = ${good.code}`;
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ kind: 'CONFIG' });
      expect(audit[0]!.actor).toMatch(/^op-/);
      expect(created).toMatchObject({ code: good.code, title: 'Ten', description: '', kind: 'ACTION_COUNT', board: { id: board }, threshold: 10, actionType: type, enabled: true });
      // An update keeps what it does not name; it is listed on the other instance at once.
      expect(await define(f, { code: good.code, description: 'Ten of them' }, 1)).toMatchObject({ title: 'Ten', description: 'Ten of them', threshold: 10 });
      const onOther = expectNoGraphQLErrors(await f.at(1).gql(AchievementsDocument, {})).achievements;
      expect(onOther.find((a) => a.code === good.code)).toMatchObject({ description: 'Ten of them' });
      // Disabled ones are not listed.
      await define(f, { code: good.code, enabled: false });
      expect(expectNoGraphQLErrors(await f.app.gql(AchievementsDocument, {})).achievements.map((a) => a.code)).not.toContain(good.code);
    });

    it('an unlock appears exactly on the crossing credit, never before, never again; a replay returns the original list', async () => {
      const { type, board } = await arena(f, 10);
      const score = await define(f, { code: code('SCORE30'), title: 'Thirty', kind: 'SCORE_AT_LEAST', board, threshold: 30 });
      const count = await define(f, { code: code('COUNT2'), title: 'Two', kind: 'ACTION_COUNT', board, threshold: 2, actionType: type });
      const top = await define(f, { code: code('TOP1'), title: 'Top', kind: 'RANK_AT_MOST', board, threshold: 1 });
      const p = await f.player('climber');
      const rival = await f.player('rival');
      // The rival holds first place with 40 points.
      for (let i = 0; i < 4; i++) await act(f, rival.token, type, i);

      const unlockedBy: string[][] = [];
      const tickets = [];
      for (let i = 0; i < 5; i++) {
        const { ticket, result } = await act(f, p.token, type, i);
        tickets.push(ticket);
        unlockedBy.push(result.unlocked.map((u) => u.code).sort());
        if (i === 1) {
          // After two actions: 20 points, count reached, score not yet.
          expect(await progressOf(f, p.id, score.code, 1)).toMatchObject({ progress: 20, target: 30, unlockedAt: null });
          expect(await progressOf(f, p.id, count.code, 1)).toMatchObject({ progress: 2, target: 2 });
          expect((await progressOf(f, p.id, count.code, 1)).unlockedAt).not.toBeNull();
          expect(await progressOf(f, p.id, top.code)).toMatchObject({ progress: 0, target: 1, unlockedAt: null });
        }
      }
      // 10, 20 (count 2), 30 (score 30), 40 (tied with the rival, who got there first: second), 50 (first).
      expect(unlockedBy).toEqual([[], [count.code], [score.code], [], [top.code]]);
      const final = await progressOf(f, p.id, score.code);
      expect(final).toMatchObject({ progress: 30, target: 30 });

      // A replay of each crossing action answers with what it unlocked then, and unlocks nothing new.
      for (const i of [1, 2, 4]) {
        const replay = await submit(f.at(i + 2), p.token, tickets[i]!);
        expect(replay.replayed).toBe(true);
        expect(replay.unlocked.map((u) => u.code)).toEqual(unlockedBy[i]);
      }
      expect((await submit(f.app, p.token, tickets[0]!)).unlocked).toEqual([]);
      const rows = await f.app.app.services.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM player_achievements WHERE player_id = ${p.id}`;
      expect(rows[0]!.n).toBe(3);
      expect((await progressOf(f, p.id, score.code)).unlockedAt).toBe(final.unlockedAt);
    });

    it('10 concurrent actions crossing a threshold together, on both instances, give exactly one unlock', async () => {
      const { type, board } = await arena(f, 5);
      const count = await define(f, { code: code('COUNT5'), title: 'Five', kind: 'ACTION_COUNT', board, threshold: 5, actionType: type });
      const score = await define(f, { code: code('SCORE25'), title: 'Twenty-five', kind: 'SCORE_AT_LEAST', board, threshold: 25 });
      const p = await f.player('burst');
      const tickets = await Promise.all(Array.from({ length: 10 }, (_, i) => issue(f.at(i), p.token, type)));
      const results = await Promise.all(tickets.map((t, i) => submit(f.at(i + 1), p.token, t)));
      expect(results.map((r) => r.newScore).sort((a, b) => a - b)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
      const withUnlocks = results.filter((r) => r.unlocked.length > 0);
      expect(withUnlocks).toHaveLength(1);
      // Both thresholds are crossed by the fifth credit in commit order (25 points, fifth action).
      expect(withUnlocks[0]!.newScore).toBe(25);
      expect(withUnlocks[0]!.unlocked.map((u) => u.code).sort()).toEqual([count.code, score.code].sort());
      const rows = await f.app.app.services.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM player_achievements WHERE player_id = ${p.id}`;
      expect(rows[0]!.n).toBe(2);
      expect(await progressOf(f, p.id, count.code, 1)).toMatchObject({ progress: 5, target: 5 });
    });

    it('achievementUnlocked sends exactly one event, to the player who unlocked it only, across instances', async () => {
      const { type, board } = await arena(f, 10);
      const first = await define(f, { code: code('FIRST'), title: 'First', kind: 'ACTION_COUNT', board, threshold: 1, actionType: type });
      const second = await define(f, { code: code('SECOND'), title: 'Second', kind: 'ACTION_COUNT', board, threshold: 2, actionType: type });
      const a = await f.player('alice');
      const b = await f.player('bob');
      const onA = collect(f.at(1).ws(a.token), AchievementUnlockedDocument);
      const onB = collect(f.at(0).ws(b.token), AchievementUnlockedDocument);
      const noJwt = collect(f.at(1).ws(), AchievementUnlockedDocument);
      await waitFor(() => noJwt.errors.length > 0 || noJwt.isCompleted(), 10_000, 'the refusal');
      expect(JSON.stringify(noJwt.errors)).toContain('UNAUTHENTICATED');
      // Both subscriptions are live once the server holds them (the feed counts them per player).
      await waitFor(async () => (await liveUnlockListeners(f)) >= 2, 10_000, 'both subscriptions');

      await act(f, a.token, type, 0); // A: FIRST
      await waitFor(() => onA.events.length >= 1, 10_000, "A's unlock");
      await act(f, b.token, type, 1); // B: FIRST (B's own)
      await act(f, a.token, type, 0); // A: SECOND
      await waitFor(() => onA.events.length >= 2 && onB.events.length >= 1, 10_000, 'the later unlocks');
      await act(f, a.token, type, 1); // A: nothing more to unlock
      await act(f, b.token, type, 0); // B: SECOND, the last event anyone can get
      await waitFor(() => onB.events.length >= 2, 10_000, "B's second unlock");

      const show = (events: Unlock[]) => events.map((e) => [e.achievementUnlocked.achievement.code, e.achievementUnlocked.progress, e.achievementUnlocked.target]);
      expect(show(onA.events as never)).toEqual([
        [first.code, 1, 1],
        [second.code, 2, 2],
      ]);
      expect(show(onB.events as never)).toEqual([
        [first.code, 1, 1],
        [second.code, 2, 2],
      ]);
      for (const e of onA.events) expect(e.achievementUnlocked.unlockedAt).not.toBeNull();
      expect(onA.errors).toEqual([]);
    });
  },
  { instances: 2, env: { RATE_LIMIT_ACTIONS_PER_HOUR: '100000' } },
);

/** Subscriptions the instances hold (a subscription verifies its JWT before it listens). */
async function liveUnlockListeners(f: Fixture): Promise<number> {
  return f.instances.reduce((n, i) => n + i.app.services.achievementFeed.size(), 0);
}

const ANCHOR_MS = Date.UTC(2026, 0, 1);
const TTL_SECONDS = 2;

describeBackends(
  'achievements at period end',
  (f) => {
    it('RANK_AT_MOST on a CUSTOM seconds-long board unlocks once, after the period is final, with two instances running the job', async () => {
      const lengthMs = 3_000;
      const op = await f.operator();
      const type = code('RANKED');
      expectNoGraphQLErrors(await f.app.gql(UpsertActionTypeDocument, { input: { code: type, points: 10 } }, op.token));
      const board = uid('sprint');
      expectNoGraphQLErrors(
        await f.app.gql(
          UpsertBoardDocument,
          { input: { id: board, window: 'CUSTOM', periodSeconds: lengthMs / 1000, anchor: new Date(ANCHOR_MS).toISOString(), actionTypes: [type] } },
          op.token,
        ),
      );
      const top = await define(f, { code: code('SPRINT_WIN'), title: 'Won a sprint', kind: 'RANK_AT_MOST', board, threshold: 1 });
      const sentinel = await define(f, { code: code('SENTINEL'), title: 'Four actions', kind: 'ACTION_COUNT', board, threshold: 4, actionType: type });
      const winner = await f.player('winner');
      const second = await f.player('second');
      const onWinner = [collect(f.at(0).ws(winner.token), AchievementUnlockedDocument), collect(f.at(1).ws(winner.token), AchievementUnlockedDocument)];

      // All three tickets issued early in one period, so the credits land in the same one.
      const index = await waitFor(
        () => {
          const into = (Date.now() - ANCHOR_MS) % lengthMs;
          return into < lengthMs * 0.3 ? Math.floor((Date.now() - ANCHOR_MS) / lengthMs) + 1 : false;
        },
        lengthMs * 2,
        'the start of a period',
      ).then((i) => i - 1);
      const tickets = await Promise.all([issue(f.at(0), winner.token, type), issue(f.at(1), winner.token, type), issue(f.at(0), second.token, type)]);
      const results = [];
      for (const [i, t] of tickets.entries()) results.push(await submit(f.at(i + 1), i < 2 ? winner.token : second.token, t));
      const period = results[0]!.standings.find((s) => s.board.id === board)!.period;
      expect(Number(period.key)).toBe(index);
      const endsAt = new Date(period.endsAt!).getTime();
      // Not at the credit: the period can still change.
      for (const r of results) expect(r.unlocked).toEqual([]);
      expect(await progressOf(f, winner.id, top.code)).toMatchObject({ progress: 0, unlockedAt: null });

      // The job (every second, on both instances) freezes the final period and unlocks it there.
      const [event] = await Promise.all(onWinner.map((c) => waitFor(() => c.events[0], 30_000, 'the final-rank unlock')));
      expect(event!.achievementUnlocked.achievement.code).toBe(top.code);
      const unlockedAt = new Date(event!.achievementUnlocked.unlockedAt!).getTime();
      expect(unlockedAt).toBeGreaterThanOrEqual(endsAt + TTL_SECONDS * 1000);
      expect((await progressOf(f, winner.id, top.code, 1)).unlockedAt).toBe(event!.achievementUnlocked.unlockedAt);
      expect((await progressOf(f, second.id, top.code)).unlockedAt).toBeNull();

      // Any further run, on either instance and both at once, finds nothing left to do.
      const again = await Promise.all(f.instances.map((i) => finalizeDuePeriods(i.app.services)));
      expect(again).toEqual(f.instances.map(() => 0));
      const rows = await f.app.app.services.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM player_achievements WHERE code = ${top.code}`;
      expect(rows[0]!.n).toBe(1);

      // One more unlock for the winner closes the stream: everything before it was the single rank unlock.
      await Promise.all([0, 1].map(async (i) => submit(f.at(i), winner.token, await issue(f.at(i + 1), winner.token, type))));
      await Promise.all(onWinner.map((c) => waitFor(() => c.events.length >= 2, 10_000, 'the sentinel unlock')));
      for (const c of onWinner) {
        expect(c.events.map((e) => e.achievementUnlocked.achievement.code)).toEqual([top.code, sentinel.code]);
      }
    }, 60_000);
  },
  { instances: 2, env: { ACTION_TOKEN_TTL_SECONDS: String(TTL_SECONDS), RECONCILE_INTERVAL_SECONDS: '1', RATE_LIMIT_ACTIONS_PER_HOUR: '100000' } },
);
